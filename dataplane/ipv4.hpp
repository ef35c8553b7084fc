#pragma once
// IPv4 input checks (RFC 1122 §3.2.1, RFC 1812 §5.2.2) and header writing.
// No reassembly: fragments are counted and dropped. Options are skipped by
// header length and otherwise ignored (RFC 1122 §3.2.1.8 allows a host to
// ignore options it does not implement).

#include <cstdint>
#include <span>

#include "dataplane/addresses.hpp"
#include "dataplane/counters.hpp"
#include "dataplane/wire.hpp"

namespace mxdp::dataplane {

struct Ipv4Input {
  bool ok = false;
  DropReason drop = DropReason::kIpTooShort;
  std::uint8_t protocol = 0;
  std::uint16_t header_length = 0;
  std::uint16_t total_length = 0;  // the frame may carry Ethernet padding past this
  Ipv4Address src;
  Ipv4Address dst;
};

// `checksum_verified`: the port already checked the header checksum (offload).
Ipv4Input ipv4_input(std::span<const std::uint8_t> packet, Ipv4Address self, bool checksum_verified) noexcept;

// Writes a 20-byte header (DF set, no options). With `compute_checksum` false
// the checksum field is left zero for the port to fill (offload).
void ipv4_write(std::span<std::uint8_t, sizeof(wire::Ipv4Header)> out, Ipv4Address src, Ipv4Address dst,
                std::uint8_t protocol, std::uint16_t total_length, std::uint16_t id, std::uint8_t ttl,
                bool compute_checksum) noexcept;

}  // namespace mxdp::dataplane
