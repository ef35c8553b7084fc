#pragma once
// Link and network addresses as value types (host order for IPv4, so that
// subnet arithmetic reads naturally; converted at the wire struct boundary).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mxdp::dataplane {

struct MacAddress {
  std::array<std::uint8_t, 6> bytes{};

  static constexpr MacAddress broadcast() noexcept {
    return MacAddress{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
  }
  constexpr bool is_broadcast() const noexcept { return *this == broadcast(); }
  constexpr bool is_multicast() const noexcept { return (bytes[0] & 1) != 0; }
  friend constexpr bool operator==(const MacAddress&, const MacAddress&) = default;
  std::string to_string() const;
};

struct Ipv4Address {
  std::uint32_t value = 0;  // host byte order

  static constexpr Ipv4Address from_octets(std::uint8_t a, std::uint8_t b, std::uint8_t c,
                                           std::uint8_t d) noexcept {
    return Ipv4Address{(std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d};
  }
  // Dotted quad; nullopt when the text is not exactly four decimal octets.
  static std::optional<Ipv4Address> parse(std::string_view text) noexcept;
  std::string to_string() const;
  friend constexpr bool operator==(const Ipv4Address&, const Ipv4Address&) = default;
  friend constexpr auto operator<=>(const Ipv4Address&, const Ipv4Address&) = default;
};

}  // namespace mxdp::dataplane
