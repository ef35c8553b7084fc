#include "dataplane/checksum.hpp"

#include <cstring>

namespace mxdp::dataplane {

std::uint32_t checksum_partial(std::span<const std::uint8_t> data, std::uint32_t sum) noexcept {
  // Sum 32-bit big-endian words into a 64-bit accumulator (RFC 1071 §2(B): the
  // sum may be computed in wider words and folded at the end).
  std::uint64_t acc = sum;
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  while (n >= 4) {
    acc += (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    acc += (std::uint32_t{p[0]} << 8) | p[1];
    p += 2;
    n -= 2;
  }
  if (n == 1) acc += std::uint32_t{p[0]} << 8;
  while (acc >> 32)
    acc = (acc & 0xffffffffu) + (acc >> 32);
  // Fold to 32 bits keeping 16-bit one's complement semantics.
  std::uint32_t folded = static_cast<std::uint32_t>((acc & 0xffff) + ((acc >> 16) & 0xffff));
  return folded;
}

std::uint16_t checksum_finish(std::uint32_t sum) noexcept {
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

std::uint32_t pseudo_header_sum(Ipv4Address src, Ipv4Address dst, std::uint8_t protocol,
                                std::uint16_t l4_length) noexcept {
  std::uint32_t sum = (src.value >> 16) + (src.value & 0xffff) + (dst.value >> 16) + (dst.value & 0xffff);
  sum += protocol;
  sum += l4_length;
  return sum;
}

std::uint16_t tcp_checksum(Ipv4Address src, Ipv4Address dst, std::span<const std::uint8_t> segment) noexcept {
  std::uint32_t sum = pseudo_header_sum(src, dst, 6, static_cast<std::uint16_t>(segment.size()));
  return checksum_finish(checksum_partial(segment, sum));
}

}  // namespace mxdp::dataplane
