#pragma once
// The Internet checksum (RFC 1071): one's complement sum of 16-bit words.
// Pure functions over bytes, so they are tested without DPDK; used where the
// port does not offer checksum offload (virtual ports).

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/addresses.hpp"

namespace mxdp::dataplane {

// Adds bytes to a running 32-bit partial sum (not folded). `data` is summed as
// if it started at an even offset; callers chain only even-length pieces.
std::uint32_t checksum_partial(std::span<const std::uint8_t> data, std::uint32_t sum = 0) noexcept;

// Folds a partial sum to 16 bits and complements it: the value for the header
// field, in host order (store it with Be16::from_host).
std::uint16_t checksum_finish(std::uint32_t sum) noexcept;

// The checksum of an IPv4 header (its checksum field must be zero, or the
// result is 0 when the header is valid).
inline std::uint16_t ipv4_header_checksum(std::span<const std::uint8_t> header) noexcept {
  return checksum_finish(checksum_partial(header));
}

// Partial sum of the IPv4 pseudo header for TCP/UDP (RFC 9293 §3.1).
std::uint32_t pseudo_header_sum(Ipv4Address src, Ipv4Address dst, std::uint8_t protocol,
                                std::uint16_t l4_length) noexcept;

// Full TCP checksum over pseudo header + segment (checksum field zero when
// computing; result 0 when verifying a valid segment).
std::uint16_t tcp_checksum(Ipv4Address src, Ipv4Address dst, std::span<const std::uint8_t> segment) noexcept;

}  // namespace mxdp::dataplane
