#pragma once
// The sender's record of SACKed ranges (RFC 2018, RFC 6675 §3 "scoreboard"):
// sorted, disjoint [left, right) ranges above SND.UNA in a fixed array, so
// updating it on the data path never allocates. When more disjoint ranges
// arrive than fit, the highest range is forgotten: the sender then merely
// believes less was received and may retransmit more, which is safe.

#include <array>
#include <cstdint>
#include <span>

#include "dataplane/tcp_options.hpp"
#include "dataplane/tcp_seq.hpp"

namespace mxdp::dataplane {

class SackScoreboard {
 public:
  static constexpr std::size_t kCapacity = 16;

  void clear() noexcept {
    count_ = 0;
    sacked_ = 0;
  }
  bool empty() const noexcept { return count_ == 0; }
  std::size_t size() const noexcept { return count_; }
  std::span<const SackBlock> ranges() const noexcept { return {ranges_.data(), count_}; }
  // Bytes SACKed above SND.UNA.
  std::uint32_t sacked_bytes() const noexcept { return sacked_; }
  // The right edge of the highest SACKed range (RFC 6675 "HighACK"'s SACK
  // counterpart); only meaningful when !empty().
  TcpSeq high() const noexcept { return ranges_[count_ - 1].right; }

  // Records one received block, checked against [una, max): RFC 2018 §4 blocks
  // lie above the cumulative ACK; one at or below it (a D-SACK, RFC 2883) or
  // beyond what was sent is ignored. Returns true when the block was used.
  bool add(SackBlock b, TcpSeq una, TcpSeq max) noexcept;
  // Forgets everything below `una` (the cumulative ACK moved).
  void trim(TcpSeq una) noexcept;
  // Whether `s` lies in a SACKed range; if so, `end` is that range's right edge.
  bool sacked(TcpSeq s, TcpSeq& end) const noexcept;
  // The first unSACKed byte at or after `from` below high(), and the length of
  // that hole (up to the next range). False when no hole lies at or after
  // `from` below high().
  bool next_hole(TcpSeq from, TcpSeq& start, std::uint32_t& length) const noexcept;
  // UnSACKed bytes in [from, to).
  std::uint32_t hole_bytes(TcpSeq from, TcpSeq to) const noexcept;

 private:
  void recount() noexcept;
  std::array<SackBlock, kCapacity> ranges_{};
  std::size_t count_ = 0;
  std::uint32_t sacked_ = 0;
};

}  // namespace mxdp::dataplane
