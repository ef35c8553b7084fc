#pragma once
// Where a Stack's packets come from and go to: one RX and one TX queue of a
// port (PortQueue), or the impairing in-process test link (test_link.hpp).
// A virtual call per burst, not per packet.

#include <cstdint>

struct rte_mbuf;

namespace mxdp::dataplane {

class PacketIo {
 public:
  virtual ~PacketIo() = default;
  // Receives up to n packets; the caller owns them.
  virtual std::uint16_t rx_burst(rte_mbuf** pkts, std::uint16_t n) noexcept = 0;
  // Sends up to n packets; returns how many were taken. The caller still owns
  // (and must free) pkts[ret..n).
  virtual std::uint16_t tx_burst(rte_mbuf** pkts, std::uint16_t n) noexcept = 0;
};

}  // namespace mxdp::dataplane
