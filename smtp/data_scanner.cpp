#include "smtp/data_scanner.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mxdp::smtp {

namespace {

constexpr std::size_t kBlock = 64;

struct Masks {
  std::uint64_t cr;
  std::uint64_t lf;
  std::uint64_t dot;
};

// Bit i of each mask is set when p[i] is CR, LF or '.'.
inline Masks block_masks(const char* p) noexcept {
#if defined(__SSE2__)
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i dot = _mm_set1_epi8('.');
  Masks m{0, 0, 0};
  for (int k = 0; k < 4; ++k) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    const int shift = 16 * k;
    m.cr |= static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, cr))))
            << shift;
    m.lf |= static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf))))
            << shift;
    m.dot |= static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, dot))))
             << shift;
  }
  return m;
#else
  Masks m{0, 0, 0};
  for (std::size_t i = 0; i < kBlock; ++i) {
    m.cr |= static_cast<std::uint64_t>(p[i] == '\r') << i;
    m.lf |= static_cast<std::uint64_t>(p[i] == '\n') << i;
    m.dot |= static_cast<std::uint64_t>(p[i] == '.') << i;
  }
  return m;
#endif
}

}  // namespace

DataScanner::DataScanner(std::size_t max_line) noexcept : max_line_(max_line) {}

void DataScanner::reset(Mode mode) noexcept {
  mode_ = mode;
  state_ = State::kLineStart;
  line_len_ = 0;
  bare_ = false;
  too_long_ = false;
}

DataScanner::Result DataScanner::step_bytes(const char* p, std::size_t begin, std::size_t end) noexcept {
  const bool data = mode_ == Mode::kData;
  for (std::size_t i = begin; i < end; ++i) {
    const char c = p[i];
    ++line_len_;
    switch (state_) {
      case State::kLineStart:
        // RFC 5321 §4.5.2: a leading dot is removed; ".<CR><LF>" is the end mark.
        if (c == '.' && data) {
          state_ = State::kDot;
          return {Event::kDot, i};
        }
        [[fallthrough]];
      case State::kMid:
        if (c == '\r') {
          state_ = State::kCr;
        } else {
          if (c == '\n') bare_ = true;
          state_ = State::kMid;
        }
        break;
      case State::kCr:
        if (c == '\n') {
          if (line_len_ > max_line_) too_long_ = true;
          line_len_ = 0;
          state_ = State::kLineStart;
        } else {
          bare_ = true;  // CR not followed by LF
          state_ = c == '\r' ? State::kCr : State::kMid;
        }
        break;
      case State::kDot:
        if (c == '\r') {
          state_ = State::kDotCr;
        } else {
          if (c == '\n') bare_ = true;  // <CR><LF>.<LF> is not an end mark
          state_ = State::kMid;
        }
        break;
      case State::kDotCr:
        if (c == '\n') {
          line_len_ = 0;
          state_ = State::kLineStart;
          return {Event::kEnd, i + 1};
        }
        bare_ = true;  // <CR><LF>.<CR> followed by anything but LF
        state_ = c == '\r' ? State::kCr : State::kMid;
        break;
    }
  }
  return {Event::kNeedMore, end};
}

DataScanner::Result DataScanner::scan_bytewise(const char* p, std::size_t n) noexcept {
  return step_bytes(p, 0, n);
}

DataScanner::Result DataScanner::scan(const char* p, std::size_t n) noexcept {
  const bool data = mode_ == Mode::kData;
  // Intermediate lines inside one block are at most 64 octets; the block test
  // below only checks the line that crosses into the block, so it needs a
  // limit of at least one block.
  const bool blocks_ok = max_line_ >= kBlock;
  std::size_t i = 0;
  while (i < n) {
    const bool plain = state_ == State::kLineStart || state_ == State::kMid || state_ == State::kCr;
    if (blocks_ok && plain && n - i >= kBlock) {
      const Masks m = block_masks(p + i);
      const std::uint64_t cr_in = state_ == State::kCr ? 1 : 0;
      const std::uint64_t start_in = state_ == State::kLineStart ? 1 : 0;
      // Every LF must follow a CR and every CR must precede an LF: the LF mask
      // equals the CR mask moved one byte on (plus a CR carried in from the
      // previous block). Any difference is a bare CR or bare LF.
      const std::uint64_t want_lf = (m.cr << 1) | cr_in;
      const std::uint64_t crlf = m.lf & want_lf;
      const std::uint64_t starts = (crlf << 1) | start_in;
      if (data && (m.dot & starts) != 0) {
        // A dot at a line start: stuffing or the end mark. Rare; go byte by byte.
        const Result r = step_bytes(p, i, i + kBlock);
        if (r.event != Event::kNeedMore) return r;
        i += kBlock;
        continue;
      }
      if (want_lf != m.lf) bare_ = true;
      if (crlf == 0) {
        line_len_ += kBlock;
      } else {
        const auto first = static_cast<std::size_t>(__builtin_ctzll(crlf));
        if (line_len_ + first + 1 > max_line_) too_long_ = true;
        line_len_ = static_cast<std::size_t>(__builtin_clzll(crlf));
      }
      if ((m.cr >> 63) != 0) {
        state_ = State::kCr;
      } else if ((crlf >> 63) != 0) {
        state_ = State::kLineStart;
      } else {
        state_ = State::kMid;
      }
      i += kBlock;
      continue;
    }
    const std::size_t stop = n - i >= kBlock ? i + kBlock : n;
    const Result r = step_bytes(p, i, stop);
    if (r.event != Event::kNeedMore) return r;
    i = stop;
  }
  return {Event::kNeedMore, n};
}

}  // namespace mxdp::smtp
