#pragma once
// ICMP echo (RFC 792; RFC 1122 §3.2.2.6: a host MUST answer echo requests,
// returning the data unchanged).

#include <cstdint>
#include <span>

#include "dataplane/counters.hpp"

namespace mxdp::dataplane {

struct IcmpResult {
  bool reply = false;  // the message was turned into an echo reply in place
  DropReason drop = DropReason::kIcmpMalformed;
};

// Checks the ICMP message (bytes after the IP header, exactly the IP payload)
// and, for an echo request, rewrites it in place into the echo reply.
IcmpResult icmp_echo_input(std::span<std::uint8_t> message) noexcept;

}  // namespace mxdp::dataplane
