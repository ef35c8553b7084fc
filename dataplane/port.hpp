#pragma once
// An ethdev port set up for the stack: one RX and one TX queue per lcore, RSS
// over IPv4/TCP when the port has it, checksum offloads (IPv4, TCP) and TCP
// segmentation offload when offered, software checksums and segmentation when
// not. Set-up errors throw naming the fix.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dataplane/addresses.hpp"
#include "dataplane/packet_io.hpp"
#include "dataplane/rss.hpp"

namespace mxdp::dataplane {

class PacketPool;

struct PortConfig {
  std::uint16_t queues = 1;     // RX and TX queues: one per lcore
  std::uint16_t tx_queues = 0;  // TX queues when not `queues` (software redirect: 1 RX, N TX)
  std::uint16_t rx_descriptors = 1024;
  std::uint16_t tx_descriptors = 1024;
  bool use_offloads = true;  // false: software checksums even when offered
  bool tso = true;           // with use_offloads: TCP segmentation offload when offered
  bool promiscuous = false;
  // The port is one end of a RingPortPair: its frames never leave this
  // process's memory, so nothing can corrupt them. With use_offloads it then
  // "offloads" the IPv4 and TCP checksums the way Linux's loopback device does
  // (NETIF_F_HW_CSUM | NETIF_F_RXCSUM): the sender leaves the pseudo-header
  // sum a NIC would complete, and the receiving PortQueue marks the frame
  // verified, as a NIC with RX checksum offload does. Frames sent without the
  // offload flags (ARP, a stack without offloads) arrive unmarked and are
  // checked in software.
  bool memory_link = false;
};

// What the port offers and what was enabled.
struct PortCaps {
  std::string driver;
  std::uint16_t max_rx_queues = 0;
  std::uint16_t max_tx_queues = 0;
  bool rss = false;  // RSS over IPv4/TCP enabled
  bool tx_ipv4_checksum = false;
  bool tx_tcp_checksum = false;
  bool rx_checksum = false;  // RX IPv4 and TCP checksum verified by the port
  // TCP segmentation offload enabled (offered with chained mbufs and both TX
  // checksum offloads), for StackConfig::tso and its limits below.
  bool tso = false;
  std::uint16_t tso_max_mbufs = 0;  // mbufs one packet may chain (StackConfig::tso_max_mbufs)
  std::uint16_t tso_max_frame = 0;  // largest frame of one segment (StackConfig::tso_max_frame)
  bool memory_link = false;         // checksums offloaded on an in-memory link (PortConfig::memory_link)
};

struct LinkStatus {
  bool up = false;
  std::uint32_t speed_mbps = 0;
  bool full_duplex = false;
  std::string to_string() const;
};

struct PortStats {
  std::uint64_t rx_packets = 0, tx_packets = 0, rx_bytes = 0, tx_bytes = 0;
  std::uint64_t rx_missed = 0, rx_errors = 0, tx_errors = 0, rx_no_mbuf = 0;
};

class Port {
 public:
  // Configures and starts the port; `pool` must outlive it.
  Port(std::uint16_t port_id, PacketPool& pool, const PortConfig& config);
  ~Port();  // stops and closes the port
  Port(const Port&) = delete;
  Port& operator=(const Port&) = delete;

  // The port id of a device by name ("net_tap0", "net_ring_a"), if present.
  static std::optional<std::uint16_t> find(std::string_view device_name) noexcept;
  static std::uint16_t count() noexcept;
  // What a port offers before it is configured (rss: RSS over IPv4/TCP with
  // more than one RX queue), to choose between RSS and the software redirect.
  static PortCaps probe(std::uint16_t port_id);

  std::uint16_t id() const noexcept { return id_; }
  MacAddress mac() const noexcept { return mac_; }
  const PortCaps& caps() const noexcept { return caps_; }
  LinkStatus link() const noexcept;
  // Waits up to timeout_ms for the link to come up.
  bool wait_link_up(unsigned timeout_ms) const noexcept;
  PortStats stats() const noexcept;
  // The RSS key and redirection table the port hashes with, for the Stack on
  // `queue` (nullopt when RSS is off or the port does not report them).
  std::optional<RssConfig> rss(std::uint16_t queue) const;

 private:
  std::uint16_t id_;
  MacAddress mac_;
  PortCaps caps_;
};

// One RX queue and one TX queue of a port, as a PacketIo for one lcore's Stack.
class PortQueue final : public PacketIo {
 public:
  PortQueue(std::uint16_t port_id, std::uint16_t queue) noexcept : port_(port_id), queue_(queue) {}
  // A queue of a configured port, with what the port does on receive
  // (PortConfig::memory_link).
  PortQueue(const Port& port, std::uint16_t queue) noexcept
      : port_(port.id()), queue_(queue), memory_link_(port.caps().memory_link) {}
  std::uint16_t rx_burst(rte_mbuf** pkts, std::uint16_t n) noexcept override;
  std::uint16_t tx_burst(rte_mbuf** pkts, std::uint16_t n) noexcept override;

 private:
  std::uint16_t port_;
  std::uint16_t queue_;
  bool memory_link_ = false;
};

// Two ethdev ports joined back to back in this process by two rte_rings
// (rte_eth_from_rings): what one sends the other receives. Needs -lrte_net_ring.
// Port b may have several TX queues, all feeding the one ring a receives from
// (then a multi-producer ring): a port with a TX queue per lcore but one RX
// queue, the software redirect's per-worker TX path.
class RingPortPair {
 public:
  explicit RingPortPair(std::string_view name, unsigned ring_size = 4096, std::uint16_t b_tx_queues = 1);
  ~RingPortPair();
  RingPortPair(const RingPortPair&) = delete;
  RingPortPair& operator=(const RingPortPair&) = delete;
  std::uint16_t a() const noexcept { return a_; }
  std::uint16_t b() const noexcept { return b_; }

 private:
  std::uint16_t a_ = 0, b_ = 0;
  void* rings_[2] = {nullptr, nullptr};
};

}  // namespace mxdp::dataplane
