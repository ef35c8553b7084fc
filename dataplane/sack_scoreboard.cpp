#include "dataplane/sack_scoreboard.hpp"

namespace mxdp::dataplane {

bool SackScoreboard::add(SackBlock b, TcpSeq una, TcpSeq max) noexcept {
  if (!(b.left < b.right) || b.right <= una || b.right > max) return false;
  if (b.left < una) b.left = una;
  // Find the first range that ends at or after the new left edge; merge every
  // range that touches [left, right).
  std::size_t i = 0;
  while (i < count_ && ranges_[i].right < b.left)
    ++i;
  std::size_t j = i;
  while (j < count_ && ranges_[j].left <= b.right) {
    b.left = seq_min(b.left, ranges_[j].left);
    b.right = seq_max(b.right, ranges_[j].right);
    ++j;
  }
  const std::size_t merged = j - i;  // ranges [i, j) become one
  if (merged == 0) {
    if (count_ == kCapacity) {
      if (i == count_) return false;  // the new range is the highest: forget it
      --count_;                       // forget the highest to make room
    }
    for (std::size_t k = count_; k > i; --k)
      ranges_[k] = ranges_[k - 1];
    ++count_;
  } else if (merged > 1) {
    for (std::size_t k = j; k < count_; ++k)
      ranges_[k - merged + 1] = ranges_[k];
    count_ -= merged - 1;
  }
  ranges_[i] = b;
  recount();
  return true;
}

void SackScoreboard::trim(TcpSeq una) noexcept {
  std::size_t drop = 0;
  while (drop < count_ && ranges_[drop].right <= una)
    ++drop;
  if (drop > 0) {
    for (std::size_t k = drop; k < count_; ++k)
      ranges_[k - drop] = ranges_[k];
    count_ -= drop;
  }
  if (count_ > 0 && ranges_[0].left < una) ranges_[0].left = una;
  recount();
}

bool SackScoreboard::sacked(TcpSeq s, TcpSeq& end) const noexcept {
  for (std::size_t i = 0; i < count_; ++i) {
    if (s < ranges_[i].left) return false;
    if (s < ranges_[i].right) {
      end = ranges_[i].right;
      return true;
    }
  }
  return false;
}

bool SackScoreboard::next_hole(TcpSeq from, TcpSeq& start, std::uint32_t& length) const noexcept {
  TcpSeq s = from;
  for (std::size_t i = 0; i < count_; ++i) {
    if (s < ranges_[i].left) {
      start = s;
      length = static_cast<std::uint32_t>(ranges_[i].left - s);
      return true;
    }
    if (s < ranges_[i].right) s = ranges_[i].right;
  }
  return false;
}

std::uint32_t SackScoreboard::hole_bytes(TcpSeq from, TcpSeq to) const noexcept {
  if (!(from < to)) return 0;
  std::uint32_t n = static_cast<std::uint32_t>(to - from);
  for (std::size_t i = 0; i < count_; ++i) {
    const TcpSeq l = seq_max(ranges_[i].left, from);
    const TcpSeq r = seq_min(ranges_[i].right, to);
    if (l < r) n -= static_cast<std::uint32_t>(r - l);
  }
  return n;
}

void SackScoreboard::recount() noexcept {
  std::uint32_t n = 0;
  for (std::size_t i = 0; i < count_; ++i)
    n += static_cast<std::uint32_t>(ranges_[i].right - ranges_[i].left);
  sacked_ = n;
}

}  // namespace mxdp::dataplane
