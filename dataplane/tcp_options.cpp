#include "dataplane/tcp_options.hpp"

#include <algorithm>

#include "dataplane/byte_order.hpp"
#include "dataplane/wire.hpp"

namespace mxdp::dataplane {

namespace {
std::uint32_t read32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
void write32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}
std::size_t sack_blocks(const TcpOptionsOut& o) noexcept {
  return std::min<std::size_t>(o.sack.size(), o.timestamps ? 3 : 4);
}
}  // namespace

TcpOptions tcp_parse_options(std::span<const std::uint8_t> options) noexcept {
  TcpOptions r;
  std::size_t i = 0;
  const std::size_t n = options.size();
  while (i < n) {
    const std::uint8_t kind = options[i];
    if (kind == wire::kTcpOptEnd) break;
    if (kind == wire::kTcpOptNop) {
      ++i;
      continue;
    }
    if (i + 1 >= n) break;
    const std::uint8_t len = options[i + 1];
    if (len < 2 || i + len > n) break;  // malformed: stop, keep what was parsed
    const std::uint8_t* p = options.data() + i + 2;
    switch (kind) {
      case wire::kTcpOptMss:
        if (len == 4) r.mss = static_cast<std::uint16_t>((p[0] << 8) | p[1]);
        break;
      case wire::kTcpOptWindowScale:
        if (len == 3) r.window_scale = std::min<std::uint8_t>(p[0], 14);
        break;
      case wire::kTcpOptSackPermitted:
        if (len == 2) r.sack_permitted = true;
        break;
      case wire::kTcpOptTimestamps:
        if (len == 10) {
          r.has_timestamps = true;
          r.ts_val = read32(p);
          r.ts_ecr = read32(p + 4);
        }
        break;
      case wire::kTcpOptSack:
        // RFC 2018 §3: kind 5, length 2 + 8n; a wrong length is skipped.
        if (len >= 10 && (len - 2) % 8 == 0) {
          const std::size_t blocks = std::min<std::size_t>((len - 2) / 8, r.sack.size());
          for (std::size_t b = 0; b < blocks; ++b)
            r.sack[b] = SackBlock{TcpSeq(read32(p + 8 * b)), TcpSeq(read32(p + 8 * b + 4))};
          r.sack_count = static_cast<std::uint8_t>(blocks);
        }
        break;
      default:
        break;  // unknown options are skipped by length
    }
    i += len;
  }
  return r;
}

std::size_t tcp_options_length(const TcpOptionsOut& o) noexcept {
  std::size_t n = 0;
  if (o.mss) n += 4;
  if (o.window_scale) n += 4;    // NOP + 3
  if (o.sack_permitted) n += 4;  // NOP NOP + 2 (or shares with timestamps)
  if (o.timestamps) n += 12;     // NOP NOP + 10
  const std::size_t blocks = sack_blocks(o);
  if (blocks != 0) n += 4 + 8 * blocks;  // NOP NOP + kind len + blocks
  return n;
}

void tcp_write_options(std::span<std::uint8_t> out, const TcpOptionsOut& o) noexcept {
  std::uint8_t* p = out.data();
  if (o.mss) {
    p[0] = wire::kTcpOptMss;
    p[1] = 4;
    p[2] = static_cast<std::uint8_t>(*o.mss >> 8);
    p[3] = static_cast<std::uint8_t>(*o.mss);
    p += 4;
  }
  if (o.window_scale) {
    p[0] = wire::kTcpOptNop;
    p[1] = wire::kTcpOptWindowScale;
    p[2] = 3;
    p[3] = *o.window_scale;
    p += 4;
  }
  if (o.sack_permitted) {
    p[0] = wire::kTcpOptNop;
    p[1] = wire::kTcpOptNop;
    p[2] = wire::kTcpOptSackPermitted;
    p[3] = 2;
    p += 4;
  }
  if (o.timestamps) {
    p[0] = wire::kTcpOptNop;
    p[1] = wire::kTcpOptNop;
    p[2] = wire::kTcpOptTimestamps;
    p[3] = 10;
    write32(p + 4, o.ts_val);
    write32(p + 8, o.ts_ecr);
    p += 12;
  }
  const std::size_t blocks = sack_blocks(o);
  if (blocks != 0) {
    p[0] = wire::kTcpOptNop;
    p[1] = wire::kTcpOptNop;
    p[2] = wire::kTcpOptSack;
    p[3] = static_cast<std::uint8_t>(2 + 8 * blocks);
    p += 4;
    for (std::size_t i = 0; i < blocks; ++i) {
      write32(p, o.sack[i].left.raw());
      write32(p + 4, o.sack[i].right.raw());
      p += 8;
    }
  }
}

}  // namespace mxdp::dataplane
