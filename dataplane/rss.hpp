#pragma once
// Receive-side scaling in software: the Toeplitz hash (Microsoft RSS spec) a
// NIC computes over IPv4/TCP, and the choice of an active open's source port
// so that the peer's replies hash to the opening lcore's queue (DESIGN.md:
// share nothing, so a reply on another lcore's queue would find no TCB).

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "dataplane/addresses.hpp"

namespace mxdp::dataplane {

// Toeplitz hash of `input` under `key` (key.size() >= input.size() + 4).
std::uint32_t toeplitz_hash(std::span<const std::uint8_t> key, std::span<const std::uint8_t> input) noexcept;

// The hash a NIC computes for an IPv4/TCP packet from src to dst.
std::uint32_t rss_hash_ipv4_tcp(std::span<const std::uint8_t> key, Ipv4Address src, Ipv4Address dst,
                                std::uint16_t src_port, std::uint16_t dst_port) noexcept;

// The port's RSS set-up as the stack needs it.
struct RssConfig {
  std::vector<std::uint8_t> key;    // 40 bytes typically
  std::vector<std::uint16_t> reta;  // redirection table: hash % size -> queue
  std::uint16_t queue = 0;          // this lcore's RX queue

  // The queue a reply from remote:rport to local:lport lands on.
  std::uint16_t queue_for(Ipv4Address remote, std::uint16_t rport, Ipv4Address local,
                          std::uint16_t lport) const noexcept;
};

}  // namespace mxdp::dataplane
