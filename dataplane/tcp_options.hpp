#pragma once
// TCP options (RFC 9293 §3.2, RFC 7323 window scale and timestamps, RFC 2018
// SACK): parsing that tolerates garbage (a malformed list ends parsing, never
// reads past the header) and writing in the usual NOP-padded layout.

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "dataplane/tcp_seq.hpp"

namespace mxdp::dataplane {

struct SackBlock {
  TcpSeq left;
  TcpSeq right;
};

struct TcpOptions {
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> window_scale;  // clamped to 14 (RFC 7323 §2.3)
  bool sack_permitted = false;
  bool has_timestamps = false;
  std::uint32_t ts_val = 0;
  std::uint32_t ts_ecr = 0;
  // RFC 2018 §3: up to four blocks as received (unvalidated: the sender checks
  // them against its sequence space).
  std::array<SackBlock, 4> sack{};
  std::uint8_t sack_count = 0;
};

// `options` is the bytes between the fixed header and the data offset.
TcpOptions tcp_parse_options(std::span<const std::uint8_t> options) noexcept;

struct TcpOptionsOut {
  std::optional<std::uint16_t> mss;          // SYN only
  std::optional<std::uint8_t> window_scale;  // SYN only
  bool sack_permitted = false;               // SYN only
  bool timestamps = false;
  std::uint32_t ts_val = 0;
  std::uint32_t ts_ecr = 0;
  std::span<const SackBlock> sack;  // non-SYN, at most 3 with timestamps, 4 without
};

// Number of bytes tcp_write_options will produce (a multiple of 4, <= 40).
std::size_t tcp_options_length(const TcpOptionsOut& o) noexcept;
// Writes the options; `out` must hold tcp_options_length(o) bytes.
void tcp_write_options(std::span<std::uint8_t> out, const TcpOptionsOut& o) noexcept;

}  // namespace mxdp::dataplane
