#include "smtp/data_scanner.hpp"

#include "smtp/data_scanner_blocks.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mxdp::smtp {

namespace {

constexpr std::size_t kBlock = 64;

}  // namespace

namespace detail {

namespace {

// Bit i of each mask is set when p[i] is CR, LF or (kDot) '.'.
template <bool kDot>
Masks masks_sse2(const char* p) noexcept {
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
    if (kDot)
      m.dot |=
          static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, dot))))
          << shift;
  }
  return m;
#else
  Masks m{0, 0, 0};
  for (std::size_t i = 0; i < 64; ++i) {
    m.cr |= static_cast<std::uint64_t>(p[i] == '\r') << i;
    m.lf |= static_cast<std::uint64_t>(p[i] == '\n') << i;
    if (kDot) m.dot |= static_cast<std::uint64_t>(p[i] == '.') << i;
  }
  return m;
#endif
}

}  // namespace

std::size_t scan_blocks_sse2(const char* p, std::size_t n, BlockCarry& c) noexcept {
  return c.data_mode ? scan_blocks<true, masks_sse2<true>>(p, n, c)
                     : scan_blocks<false, masks_sse2<false>>(p, n, c);
}

bool cpu_has_avx2() noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
#else
  return false;
#endif
}

}  // namespace detail

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
    // A line is too long once it holds more than max_line octets, CRLF included.
    if (++line_len_ > max_line_) too_long_ = true;
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
  // Lines inside one block are at most 64 octets; the block loop checks only
  // the line that crosses into a block, so it needs a limit of a block or more.
  const bool blocks_ok = max_line_ >= kBlock;
  static const auto blocks = detail::cpu_has_avx2() ? detail::scan_blocks_avx2 : detail::scan_blocks_sse2;
  std::size_t i = 0;
  while (i < n) {
    const bool plain = state_ == State::kLineStart || state_ == State::kMid || state_ == State::kCr;
    if (blocks_ok && plain) {
      detail::BlockCarry c{state_ == State::kCr ? 1u : 0u,
                           state_ == State::kLineStart ? 1u : 0u,
                           line_len_,
                           max_line_,
                           mode_ == Mode::kData,
                           bare_,
                           too_long_};
      const std::size_t done = blocks(p + i, n - i, c);
      i += done;
      line_len_ = c.line_len;
      bare_ = c.bare;
      too_long_ = c.too_long;
      state_ = c.cr_in != 0 ? State::kCr : c.start_in != 0 ? State::kLineStart : State::kMid;
      if (i == n) break;
      // Stopped at a dot that starts a line: it is the next byte, and the
      // bytewise step reports it at once.
      const Result r = step_bytes(p, i, i + 1);
      if (r.event != Event::kNeedMore) return r;
      ++i;
      continue;
    }
    // Not in a plain state (just after a line-start dot): one or two bytes
    // bring it back.
    const std::size_t stop = plain ? n : (n - i >= 2 ? i + 2 : n);
    const Result r = step_bytes(p, i, stop);
    if (r.event != Event::kNeedMore) return r;
    i = stop;
  }
  return {Event::kNeedMore, n};
}

}  // namespace mxdp::smtp
