#include "dataplane/redirect.hpp"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>

#include "dataplane/packet_pool.hpp"
#include "dataplane/wire.hpp"

namespace mxdp::dataplane {

namespace {

constexpr unsigned kBurst = 64;
constexpr unsigned kMaxLcores = 128;

// The example key of the Microsoft RSS specification (the one most NICs ship
// with): any key works, as long as the redirect and the Stacks share it.
constexpr std::uint8_t kKey[40] = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
                                   0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
                                   0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
                                   0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

// Where a received frame goes.
enum class Kind { kTcp, kArp, kOther };

}  // namespace

class RedirectLane final : public PacketIo {
 public:
  RedirectLane(RedirectGroup::Impl& g, unsigned index) noexcept : g_(g), index_(index) {}
  std::uint16_t rx_burst(rte_mbuf** pkts, std::uint16_t n) noexcept override;
  std::uint16_t tx_burst(rte_mbuf** pkts, std::uint16_t n) noexcept override;

 private:
  RedirectGroup::Impl& g_;
  unsigned index_;
};

struct RedirectGroup::Impl {
  std::uint16_t port = 0;
  unsigned lcores = 0;
  bool tx_shared = false;
  rte_mempool* pool = nullptr;
  RssConfig rss;                    // queue 0's; the others differ only in .queue
  std::vector<rte_ring*> rx_rings;  // [i] for lcore i > 0: lcore 0 produces, lcore i consumes
  rte_ring* tx_ring = nullptr;      // lcores > 0 produce, lcore 0 consumes (tx_shared)
  // Lcore 0's packets taken from tx_ring that TX queue 0 refused: sent first next time.
  rte_mbuf* tx_pending[kBurst] = {};
  unsigned tx_pending_count = 0;
  struct alignas(64) Lane {
    std::unique_ptr<RedirectLane> io;
    RedirectCounters counters;
  };
  std::vector<Lane> lanes;
  // Lcore 0's per-owner hand-over batches (kept here, not on its stack).
  std::vector<std::array<rte_mbuf*, kBurst>> batches;
  std::vector<unsigned> batch_counts;

  unsigned owner(Ipv4Address src, std::uint16_t sport, Ipv4Address dst, std::uint16_t dport) const noexcept {
    return rss.queue_for(src, sport, dst, dport);
  }

  // Lcore 0 only.
  Kind classify(const rte_mbuf* m, unsigned& owner_out) const noexcept {
    owner_out = 0;
    const std::uint32_t len = rte_pktmbuf_data_len(m);
    if (len < sizeof(wire::EthernetHeader)) return Kind::kOther;
    const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
    const auto* eth = reinterpret_cast<const wire::EthernetHeader*>(p);
    const std::uint16_t type = eth->ether_type.host();
    if (type == wire::kEtherTypeArp) return Kind::kArp;
    if (type != wire::kEtherTypeIpv4) return Kind::kOther;
    if (len < sizeof(wire::EthernetHeader) + sizeof(wire::Ipv4Header)) return Kind::kOther;
    const auto* ip = reinterpret_cast<const wire::Ipv4Header*>(p + sizeof(wire::EthernetHeader));
    const unsigned ihl = ip->header_length();
    // Non-first fragments carry no ports; the stack drops fragments anyway.
    if (ip->protocol != wire::kIpProtoTcp || ihl < 20 ||
        (ip->flags_fragment.host() & (wire::kIpFragmentOffsetMask | wire::kIpFlagMoreFragments)) != 0 ||
        len < sizeof(wire::EthernetHeader) + ihl + 4)
      return Kind::kOther;
    const auto* tcp = reinterpret_cast<const wire::TcpHeader*>(p + sizeof(wire::EthernetHeader) + ihl);
    owner_out = owner(Ipv4Address{ip->src.host()}, tcp->src_port.host(), Ipv4Address{ip->dst.host()},
                      tcp->dst_port.host());
    return Kind::kTcp;
  }

  // Lcore 0: sends what the other lcores queued for TX queue 0.
  void drain_tx() noexcept {
    if (!tx_shared) return;
    RedirectCounters& c = lanes[0].counters;
    for (;;) {
      if (tx_pending_count < kBurst) {
        tx_pending_count +=
            rte_ring_sc_dequeue_burst(tx_ring, reinterpret_cast<void**>(tx_pending + tx_pending_count),
                                      kBurst - tx_pending_count, nullptr);
      }
      if (tx_pending_count == 0) return;
      const std::uint16_t sent =
          rte_eth_tx_burst(port, 0, tx_pending, static_cast<std::uint16_t>(tx_pending_count));
      c.tx_forwarded += sent;
      for (unsigned i = sent; i < tx_pending_count; ++i)
        tx_pending[i - sent] = tx_pending[i];
      tx_pending_count -= sent;
      if (sent == 0 || tx_pending_count > 0) return;  // the port is full: later
    }
  }

  // Lcore 0's receive: the port's RX queue, split by owner.
  std::uint16_t rx_lead(rte_mbuf** pkts, std::uint16_t n) noexcept {
    drain_tx();
    RedirectCounters& c = lanes[0].counters;
    auto& batch = batches;
    auto& counts = batch_counts;
    std::uint16_t kept = 0;
    while (n - kept > 0) {
      // Read no more than lcore 0 can keep, and no more than a batch holds.
      const std::uint16_t want = static_cast<std::uint16_t>(std::min<unsigned>(n - kept, kBurst));
      rte_mbuf* in[kBurst];
      const std::uint16_t got = rte_eth_rx_burst(port, 0, in, want);
      for (std::uint16_t k = 0; k < got; ++k) {
        rte_mbuf* m = in[k];
        unsigned who = 0;
        const Kind kind = classify(m, who);
        if (kind == Kind::kArp) {
          for (unsigned i = 1; i < lcores; ++i) {
            rte_mbuf* copy = rte_pktmbuf_copy(m, pool, 0, UINT32_MAX);
            if (copy == nullptr) {
              ++c.copy_failed;
              continue;
            }
            ++c.arp_copies;
            batch[i][counts[i]++] = copy;
          }
        }
        if (who == 0) {
          pkts[kept++] = m;
        } else {
          batch[who][counts[who]++] = m;
        }
      }
      // Hand over after each read: a batch holds at most kBurst packets.
      for (unsigned i = 1; i < lcores; ++i) {
        if (counts[i] == 0) continue;
        const unsigned put = rte_ring_sp_enqueue_burst(rx_rings[i], reinterpret_cast<void**>(batch[i].data()),
                                                       counts[i], nullptr);
        c.redirected += put;
        for (unsigned k = put; k < counts[i]; ++k) {
          ++c.rx_ring_full;
          rte_pktmbuf_free(batch[i][k]);
        }
        counts[i] = 0;
      }
      if (got < want) break;
    }
    c.kept += kept;
    c.received += kept;
    return kept;
  }
};

std::uint16_t RedirectLane::rx_burst(rte_mbuf** pkts, std::uint16_t n) noexcept {
  if (index_ == 0) return g_.rx_lead(pkts, n);
  const unsigned got =
      rte_ring_sc_dequeue_burst(g_.rx_rings[index_], reinterpret_cast<void**>(pkts), n, nullptr);
  g_.lanes[index_].counters.received += got;
  return static_cast<std::uint16_t>(got);
}

std::uint16_t RedirectLane::tx_burst(rte_mbuf** pkts, std::uint16_t n) noexcept {
  if (!g_.tx_shared) return rte_eth_tx_burst(g_.port, static_cast<std::uint16_t>(index_), pkts, n);
  if (index_ == 0) {
    // Lcore 0's own packets go straight out; per flow the order holds (a flow
    // belongs to one lcore), across lcores there is none to keep.
    g_.drain_tx();
    return rte_eth_tx_burst(g_.port, 0, pkts, n);
  }
  const unsigned put = rte_ring_mp_enqueue_burst(g_.tx_ring, reinterpret_cast<void**>(pkts), n, nullptr);
  g_.lanes[index_].counters.tx_ring_full += n - put;
  return static_cast<std::uint16_t>(put);
}

RedirectGroup::RedirectGroup(std::string_view name, std::uint16_t port_id, std::uint16_t tx_queues,
                             unsigned lcores, PacketPool& pool, unsigned ring_size)
    : impl_(std::make_unique<Impl>()) {
  Impl& g = *impl_;
  if (lcores == 0 || lcores > kMaxLcores)
    throw std::runtime_error("software redirect: " + std::to_string(lcores) + " lcores (1.." +
                             std::to_string(kMaxLcores) + " supported)");
  g.port = port_id;
  g.lcores = lcores;
  g.pool = pool.raw();
  g.tx_shared = tx_queues < lcores;
  g.rss.key.assign(std::begin(kKey), std::end(kKey));
  for (unsigned i = 0; i < lcores; ++i)
    g.rss.reta.push_back(static_cast<std::uint16_t>(i));
  g.rx_rings.assign(lcores, nullptr);
  const std::string base(name);
  auto fail = [&](const std::string& what) {
    const std::string why = rte_strerror(rte_errno);
    for (rte_ring* r : g.rx_rings)
      rte_ring_free(r);
    rte_ring_free(g.tx_ring);
    throw std::runtime_error("software redirect: cannot create ring " + what + ": " + why +
                             " (ring names must be unique; give the EAL more memory with -m)");
  };
  for (unsigned i = 1; i < lcores; ++i) {
    const std::string n = base + "_rx" + std::to_string(i);
    g.rx_rings[i] = rte_ring_create(n.c_str(), ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (g.rx_rings[i] == nullptr) fail(n);
  }
  if (g.tx_shared && lcores > 1) {
    const std::string n = base + "_tx";
    g.tx_ring = rte_ring_create(n.c_str(), ring_size, SOCKET_ID_ANY, RING_F_SC_DEQ);
    if (g.tx_ring == nullptr) fail(n);
  }
  g.tx_shared = g.tx_ring != nullptr;
  g.lanes = std::vector<Impl::Lane>(lcores);
  g.batches.resize(lcores);
  g.batch_counts.assign(lcores, 0);
  for (unsigned i = 0; i < lcores; ++i)
    g.lanes[i].io = std::make_unique<RedirectLane>(g, i);
}

RedirectGroup::~RedirectGroup() {
  Impl& g = *impl_;
  void* m[kBurst];
  auto drain = [&](rte_ring* r) {
    if (r == nullptr) return;
    while (unsigned n = rte_ring_sc_dequeue_burst(r, m, kBurst, nullptr))
      for (unsigned i = 0; i < n; ++i)
        rte_pktmbuf_free(static_cast<rte_mbuf*>(m[i]));
    rte_ring_free(r);
  };
  for (rte_ring* r : g.rx_rings)
    drain(r);
  drain(g.tx_ring);
  for (unsigned i = 0; i < g.tx_pending_count; ++i)
    rte_pktmbuf_free(g.tx_pending[i]);
}

unsigned RedirectGroup::size() const noexcept {
  return impl_->lcores;
}

PacketIo& RedirectGroup::io(unsigned i) noexcept {
  return *impl_->lanes[i].io;
}

RssConfig RedirectGroup::rss(unsigned i) const {
  RssConfig r = impl_->rss;
  r.queue = static_cast<std::uint16_t>(i);
  return r;
}

bool RedirectGroup::tx_serialized() const noexcept {
  return impl_->tx_shared;
}

const RedirectCounters& RedirectGroup::counters(unsigned i) const noexcept {
  return impl_->lanes[i].counters;
}

unsigned RedirectGroup::owner(Ipv4Address src, std::uint16_t sport, Ipv4Address dst,
                              std::uint16_t dport) const noexcept {
  return impl_->owner(src, sport, dst, dport);
}

}  // namespace mxdp::dataplane
