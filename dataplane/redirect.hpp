#pragma once
// Software RSS for a port without it (net_tap, net_af_packet, net_ring): N
// lcores share one RX queue. Lcore 0 reads RX queue 0 and hands each IPv4/TCP
// packet to the lcore a NIC's RSS would have picked (Toeplitz over the
// 4-tuple with rss(i)'s key, RETA 0..N-1), through a single-producer ring per
// lcore; every lcore's Stack gets the same key and RETA (StackConfig::rss), so
// replies to its active opens come back to it (DESIGN.md: share nothing).
// ARP goes to every lcore (each Stack has its own ARP cache), everything else
// (ICMP echo, fragments) to lcore 0. A ring that is full drops and counts.
//
// TX: lcore i sends on TX queue i when the port has N TX queues; otherwise the
// other lcores enqueue into one multi-producer ring that lcore 0 drains into
// TX queue 0 on each of its bursts. No DPDK type appears here.

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "dataplane/packet_io.hpp"
#include "dataplane/rss.hpp"

namespace mxdp::dataplane {

class PacketPool;

// Per lcore; each is written by one lcore only: read them after it stopped.
struct RedirectCounters {
  std::uint64_t kept = 0;          // lcore 0: packets it received for itself
  std::uint64_t redirected = 0;    // lcore 0: packets it handed to another lcore
  std::uint64_t arp_copies = 0;    // lcore 0: ARP copies made for other lcores
  std::uint64_t rx_ring_full = 0;  // lcore 0: dropped, the owner's ring was full
  std::uint64_t copy_failed = 0;   // lcore 0: ARP not copied (pool empty)
  std::uint64_t received = 0;      // lcore i: packets taken from its ring (lcore 0: kept)
  std::uint64_t tx_ring_full = 0;  // lcore i > 0: refused by the shared TX ring
  std::uint64_t tx_forwarded = 0;  // lcore 0: packets it sent for the others
};

class RedirectGroup {
 public:
  // `port_id` must be started with one RX queue and `tx_queues` TX queues (1
  // or >= lcores); `pool` must outlive the group (ARP copies come from it).
  // `name` makes the ring names unique in the process.
  RedirectGroup(std::string_view name, std::uint16_t port_id, std::uint16_t tx_queues, unsigned lcores,
                PacketPool& pool, unsigned ring_size = 4096);
  // Frees whatever waits in the rings; call after every lcore stopped.
  ~RedirectGroup();
  RedirectGroup(const RedirectGroup&) = delete;
  RedirectGroup& operator=(const RedirectGroup&) = delete;

  unsigned size() const noexcept;
  // Lcore i's packet I/O; each is used by one thread only.
  PacketIo& io(unsigned i) noexcept;
  // The RSS set-up lcore i's Stack must use (queue = i).
  RssConfig rss(unsigned i) const;
  // True when TX goes through the shared ring drained by lcore 0.
  bool tx_serialized() const noexcept;
  const RedirectCounters& counters(unsigned i) const noexcept;
  // The lcore that owns a received IPv4/TCP packet from src:sport to dst:dport.
  unsigned owner(Ipv4Address src, std::uint16_t sport, Ipv4Address dst, std::uint16_t dport) const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mxdp::dataplane
