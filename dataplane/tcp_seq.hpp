#pragma once
// TCP sequence numbers as a wrap-safe strong type (RFC 9293 §3.4: arithmetic is
// modulo 2^32). Comparison is by signed distance, so 0x00000010 > 0xfffffff0.
// There is no operator< on raw integers: mixing a sequence number and a length
// goes through + / - with explicit types.

#include <cstdint>

namespace mxdp::dataplane {

class TcpSeq {
 public:
  constexpr TcpSeq() noexcept = default;
  constexpr explicit TcpSeq(std::uint32_t raw) noexcept : raw_(raw) {}

  constexpr std::uint32_t raw() const noexcept { return raw_; }

  constexpr TcpSeq operator+(std::uint32_t n) const noexcept { return TcpSeq(raw_ + n); }
  constexpr TcpSeq operator-(std::uint32_t n) const noexcept { return TcpSeq(raw_ - n); }
  constexpr TcpSeq& operator+=(std::uint32_t n) noexcept {
    raw_ += n;
    return *this;
  }
  // Signed distance a - b, valid when the two are within 2^31 of each other.
  friend constexpr std::int32_t operator-(TcpSeq a, TcpSeq b) noexcept {
    return static_cast<std::int32_t>(a.raw_ - b.raw_);
  }
  friend constexpr bool operator==(TcpSeq a, TcpSeq b) noexcept { return a.raw_ == b.raw_; }
  friend constexpr bool operator<(TcpSeq a, TcpSeq b) noexcept { return (a - b) < 0; }
  friend constexpr bool operator<=(TcpSeq a, TcpSeq b) noexcept { return (a - b) <= 0; }
  friend constexpr bool operator>(TcpSeq a, TcpSeq b) noexcept { return (a - b) > 0; }
  friend constexpr bool operator>=(TcpSeq a, TcpSeq b) noexcept { return (a - b) >= 0; }

 private:
  std::uint32_t raw_ = 0;
};

constexpr TcpSeq seq_max(TcpSeq a, TcpSeq b) noexcept {
  return a < b ? b : a;
}
constexpr TcpSeq seq_min(TcpSeq a, TcpSeq b) noexcept {
  return a < b ? a : b;
}

// a <= s < b in sequence space.
constexpr bool seq_in_window(TcpSeq s, TcpSeq a, TcpSeq b) noexcept {
  return a <= s && s < b;
}

static_assert(TcpSeq(0x10) > TcpSeq(0xfffffff0u), "wrap-around compares by distance");
static_assert(TcpSeq(0xfffffff0u) + 0x20 == TcpSeq(0x10));

}  // namespace mxdp::dataplane
