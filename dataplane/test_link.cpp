#include "dataplane/test_link.hpp"

#include <rte_mbuf.h>

#include "dataplane/packet_pool.hpp"

namespace mxdp::dataplane {

class TestLink::End final : public PacketIo {
 public:
  End(TestLink& link, int self) noexcept : link_(link), self_(self) {}
  std::uint16_t rx_burst(rte_mbuf** pkts, std::uint16_t n) noexcept override {
    return link_.receive(self_, pkts, n);
  }
  std::uint16_t tx_burst(rte_mbuf** pkts, std::uint16_t n) noexcept override {
    for (std::uint16_t i = 0; i < n; ++i)
      link_.send(1 - self_, pkts[i]);
    return n;
  }

 private:
  TestLink& link_;
  int self_;
};

TestLink::TestLink(PacketPool& pool, const LinkImpairments& impairments)
    : pool_(pool), imp_(impairments), rng_(impairments.seed) {
  ends_[0] = std::make_unique<End>(*this, 0);
  ends_[1] = std::make_unique<End>(*this, 1);
}

PacketIo& TestLink::a() noexcept {
  return *ends_[0];
}
PacketIo& TestLink::b() noexcept {
  return *ends_[1];
}

TestLink::~TestLink() {
  for (auto& q : queues_) {
    while (!q.empty()) {
      rte_pktmbuf_free(q.top().m);
      q.pop();
    }
  }
}

void TestLink::enqueue(int to, rte_mbuf* m, TimeUs at) noexcept {
  queues_[to].push(Pending{at, order_++, m});
}

void TestLink::send(int to, rte_mbuf* m) noexcept {
  ++counters_.sent;
  if (imp_.loss > 0 && uniform_(rng_) < imp_.loss) {
    ++counters_.lost;
    rte_pktmbuf_free(m);
    return;
  }
  if (imp_.corrupt > 0 && uniform_(rng_) < imp_.corrupt && m->data_len > 0) {
    ++counters_.corrupted;
    const auto byte = std::uniform_int_distribution<std::uint32_t>(0, m->data_len - 1u)(rng_);
    const auto bit = std::uniform_int_distribution<int>(0, 7)(rng_);
    rte_pktmbuf_mtod(m, std::uint8_t*)[byte] ^= static_cast<std::uint8_t>(1u << bit);
  }
  TimeUs at = now_ + imp_.delay;
  if (imp_.reorder > 0 && uniform_(rng_) < imp_.reorder) {
    ++counters_.reordered;
    at += imp_.reorder_delay;
  }
  if (imp_.duplicate > 0 && uniform_(rng_) < imp_.duplicate) {
    rte_mbuf* copy = rte_pktmbuf_copy(m, pool_.raw(), 0, UINT32_MAX);
    if (copy != nullptr) {
      ++counters_.duplicated;
      enqueue(to, copy, at + 1);
    }
  }
  enqueue(to, m, at);
}

std::uint16_t TestLink::receive(int at, rte_mbuf** pkts, std::uint16_t n) noexcept {
  Queue& q = queues_[at];
  std::uint16_t got = 0;
  while (got < n && !q.empty() && q.top().at <= now_) {
    pkts[got++] = q.top().m;
    q.pop();
  }
  counters_.delivered += got;
  return got;
}

TimeUs TestLink::next_delivery() const noexcept {
  TimeUs t = kNever;
  for (const auto& q : queues_) {
    if (!q.empty() && q.top().at < t) t = q.top().at;
  }
  return t;
}

std::size_t TestLink::in_flight() const noexcept {
  return queues_[0].size() + queues_[1].size();
}

}  // namespace mxdp::dataplane
