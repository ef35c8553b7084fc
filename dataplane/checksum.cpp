#include "dataplane/checksum.hpp"

#include <bit>
#include <cstring>

namespace mxdp::dataplane {

std::uint32_t checksum_partial(std::span<const std::uint8_t> data, std::uint32_t sum) noexcept {
  // RFC 1071 §2(A, B): the one's complement sum is byte-order independent and
  // may be taken in wider words. Sum native 64-bit loads as two 32-bit halves
  // into a 64-bit accumulator (no carry lost below 2^32 words), fold to 16
  // bits, then swap the bytes once into network order on a little-endian host.
  std::uint64_t acc = 0;
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    acc += (w & 0xffffffffu) + (w >> 32);
    p += 8;
    n -= 8;
  }
  if (n >= 4) {
    std::uint32_t w;
    std::memcpy(&w, p, 4);
    acc += w;
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    std::uint16_t w;
    std::memcpy(&w, p, 2);
    acc += w;
    p += 2;
    n -= 2;
  }
  // A last odd byte is the high byte of a network-order word.
  if (n == 1)
    acc += std::endian::native == std::endian::little ? std::uint64_t{p[0]} : std::uint64_t{p[0]} << 8;
  while (acc >> 16)
    acc = (acc & 0xffff) + (acc >> 16);
  auto folded = static_cast<std::uint16_t>(acc);
  if constexpr (std::endian::native == std::endian::little)
    folded = static_cast<std::uint16_t>((folded >> 8) | (folded << 8));
  std::uint64_t total = std::uint64_t{sum} + folded;
  while (total >> 32)
    total = (total & 0xffffffffu) + (total >> 32);
  return static_cast<std::uint32_t>((total & 0xffff) + ((total >> 16) & 0xffff));
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
