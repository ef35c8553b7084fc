#pragma once
// Network byte order as types. A wire field is Be16/Be32: the only way to read it
// is .host(), the only way to write it is from_host(), so a missing ntohs() does
// not compile. The storage is bytes, so every wire struct has alignment 1 and can
// sit at any offset of a frame (an IPv4 header starts at offset 14) without an
// unaligned load that UBSan would report.

#include <cstdint>

namespace mxdp::dataplane {

struct Be16 {
  std::uint8_t b[2];

  constexpr std::uint16_t host() const noexcept {
    return static_cast<std::uint16_t>((std::uint16_t{b[0]} << 8) | b[1]);
  }
  static constexpr Be16 from_host(std::uint16_t v) noexcept {
    return Be16{{static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)}};
  }
  constexpr void set(std::uint16_t v) noexcept { *this = from_host(v); }
  friend constexpr bool operator==(Be16 a, Be16 c) noexcept { return a.b[0] == c.b[0] && a.b[1] == c.b[1]; }
};

struct Be32 {
  std::uint8_t b[4];

  constexpr std::uint32_t host() const noexcept {
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
  }
  static constexpr Be32 from_host(std::uint32_t v) noexcept {
    return Be32{{static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                 static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)}};
  }
  constexpr void set(std::uint32_t v) noexcept { *this = from_host(v); }
  friend constexpr bool operator==(Be32 a, Be32 c) noexcept {
    return a.b[0] == c.b[0] && a.b[1] == c.b[1] && a.b[2] == c.b[2] && a.b[3] == c.b[3];
  }
};

static_assert(sizeof(Be16) == 2 && alignof(Be16) == 1);
static_assert(sizeof(Be32) == 4 && alignof(Be32) == 1);

}  // namespace mxdp::dataplane
