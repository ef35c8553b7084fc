#pragma once
// An in-process link between two stacks that impairs traffic: loss,
// reordering, duplication, delay and corruption at configurable rates, from a
// seed (no tc netem on these machines). Each direction is a time-ordered queue;
// a packet is delivered when the link's clock passes its delivery time.

#include <cstdint>
#include <memory>
#include <queue>
#include <random>
#include <vector>

#include "dataplane/packet_io.hpp"
#include "dataplane/time.hpp"

namespace mxdp::dataplane {

class PacketPool;

struct LinkImpairments {
  double loss = 0;             // probability a packet is dropped
  double reorder = 0;          // probability a packet is held back by reorder_delay
  double duplicate = 0;        // probability a packet is delivered twice
  double corrupt = 0;          // probability one bit of a packet is flipped
  TimeUs delay = 0;            // one-way delay of every packet
  TimeUs reorder_delay = 500;  // extra delay of a reordered packet
  std::uint64_t seed = 1;
};

struct LinkCounters {
  std::uint64_t sent = 0, delivered = 0, lost = 0, reordered = 0, duplicated = 0, corrupted = 0;
};

class TestLink {
 public:
  TestLink(PacketPool& pool, const LinkImpairments& impairments);
  ~TestLink();  // frees packets still on the wire
  TestLink(const TestLink&) = delete;
  TestLink& operator=(const TestLink&) = delete;

  PacketIo& a() noexcept;
  PacketIo& b() noexcept;

  void set_now(TimeUs now) noexcept { now_ = now; }
  // When the next packet is due (kNever when the wire is empty).
  TimeUs next_delivery() const noexcept;
  std::size_t in_flight() const noexcept;
  const LinkCounters& counters() const noexcept { return counters_; }
  void set_impairments(const LinkImpairments& i) noexcept { imp_ = i; }

 private:
  struct Pending {
    TimeUs at;
    std::uint64_t order;
    rte_mbuf* m;
    bool operator>(const Pending& o) const noexcept { return at != o.at ? at > o.at : order > o.order; }
  };
  using Queue = std::priority_queue<Pending, std::vector<Pending>, std::greater<Pending>>;
  class End;

  void send(int to, rte_mbuf* m) noexcept;
  void enqueue(int to, rte_mbuf* m, TimeUs at) noexcept;
  std::uint16_t receive(int at, rte_mbuf** pkts, std::uint16_t n) noexcept;

  PacketPool& pool_;
  LinkImpairments imp_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> uniform_{0.0, 1.0};
  TimeUs now_ = 0;
  std::uint64_t order_ = 0;
  Queue queues_[2];  // queues_[i]: packets travelling towards end i
  std::unique_ptr<End> ends_[2];
  LinkCounters counters_;
};

}  // namespace mxdp::dataplane
