#include "dataplane/rss.hpp"

namespace mxdp::dataplane {

std::uint32_t toeplitz_hash(std::span<const std::uint8_t> key, std::span<const std::uint8_t> input) noexcept {
  // For every set bit of the input (most significant first), XOR in the 32-bit
  // window of the key that starts at that bit position.
  std::uint32_t result = 0;
  std::uint32_t window = 0;
  for (std::size_t i = 0; i < 4 && i < key.size(); ++i)
    window = (window << 8) | key[i];
  for (std::size_t i = 0; i < input.size(); ++i) {
    const std::uint8_t next = i + 4 < key.size() ? key[i + 4] : 0;
    for (int bit = 7; bit >= 0; --bit) {
      if (input[i] & (1u << bit)) result ^= window;
      window = (window << 1) | ((next >> bit) & 1u);
    }
  }
  return result;
}

std::uint32_t rss_hash_ipv4_tcp(std::span<const std::uint8_t> key, Ipv4Address src, Ipv4Address dst,
                                std::uint16_t src_port, std::uint16_t dst_port) noexcept {
  const std::uint8_t input[12] = {
      static_cast<std::uint8_t>(src.value >> 24), static_cast<std::uint8_t>(src.value >> 16),
      static_cast<std::uint8_t>(src.value >> 8),  static_cast<std::uint8_t>(src.value),
      static_cast<std::uint8_t>(dst.value >> 24), static_cast<std::uint8_t>(dst.value >> 16),
      static_cast<std::uint8_t>(dst.value >> 8),  static_cast<std::uint8_t>(dst.value),
      static_cast<std::uint8_t>(src_port >> 8),   static_cast<std::uint8_t>(src_port),
      static_cast<std::uint8_t>(dst_port >> 8),   static_cast<std::uint8_t>(dst_port)};
  return toeplitz_hash(key, input);
}

std::uint16_t RssConfig::queue_for(Ipv4Address remote, std::uint16_t rport, Ipv4Address local,
                                   std::uint16_t lport) const noexcept {
  if (key.empty() || reta.empty()) return queue;
  const std::uint32_t h = rss_hash_ipv4_tcp(key, remote, local, rport, lport);
  return reta[h % reta.size()];
}

}  // namespace mxdp::dataplane
