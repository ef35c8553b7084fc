#pragma once
// Internal to data_scanner.cpp and data_scanner_avx2.cpp (not an API): the
// 64-byte block loop of DataScanner, written once and compiled twice, with SSE2
// (x86-64 baseline) and with AVX2 (chosen at run time where the CPU has it).
//
// Everything here has internal linkage and uses no standard-library inline
// functions, so nothing compiled with -mavx2 can be merged into code that runs
// on a CPU without AVX2.

#include <cstddef>
#include <cstdint>

namespace mxdp::smtp::detail {

// Scanner state at a block boundary, in bits.
struct BlockCarry {
  std::uint64_t cr_in;     // the previous byte was CR
  std::uint64_t start_in;  // the next byte starts a line (the previous two were CRLF)
  std::size_t line_len;    // octets of the current line so far
  std::size_t max_line;
  bool data_mode;  // dots at a line start stop the loop (DATA, not BDAT)
  bool bare;
  bool too_long;
};

// Consumes p[0, n) 64 bytes at a time (the last partial block through a
// padded copy); in data mode it stops at a dot that starts a line, which is
// then p[returned value].
std::size_t scan_blocks_sse2(const char* p, std::size_t n, BlockCarry& c) noexcept;
std::size_t scan_blocks_avx2(const char* p, std::size_t n, BlockCarry& c) noexcept;
bool cpu_has_avx2() noexcept;

namespace {

struct Masks {
  std::uint64_t cr;
  std::uint64_t lf;
  std::uint64_t dot;
};

// kData: DATA content, where a dot at a line start stops the loop. BDAT content
// (kData false) has no such dots, so its blocks skip the '.' compares and the
// stop test: about a third less work per block (bench/smtp/data_scanner_bench
// BM_HotBody, BDAT against DATA).
template <bool kData, Masks (*kMasks)(const char*)>
inline std::size_t scan_blocks(const char* p, std::size_t n, BlockCarry& carry) noexcept {
  // The carry lives in locals for the loop: through the reference the
  // compiler would have to assume every store may change the input bytes.
  std::uint64_t cr_in = carry.cr_in;
  std::uint64_t start_in = carry.start_in;
  std::size_t line_len = carry.line_len;
  const std::size_t max_line = carry.max_line;
  // Differences between the LF mask and the CR mask moved on, or'ed over the
  // blocks: tested once at the end instead of a branch per block.
  std::uint64_t bare_bits = 0;
  bool too_long = carry.too_long;
  // One block of len octets (64, or fewer for the last one; keep has a bit
  // per octet taken). False when it stopped at a line-start dot.
  const auto block = [&](const char* q, std::size_t& len, std::uint64_t keep) noexcept {
    const Masks m = kMasks(q);
    // Every LF must follow a CR and every CR must precede an LF: the LF mask
    // equals the CR mask moved one byte on (plus a CR carried in). Any
    // difference is a bare CR or bare LF.
    const std::uint64_t want_lf = (m.cr << 1) | cr_in;
    std::uint64_t crlf = m.lf & want_lf & keep;
    const std::uint64_t dots = kData ? (m.dot & ((crlf << 1) | start_in) & keep) : 0;
    if (kData && dots != 0) {
      // A dot at a line start (stuffing or the end mark): account for the bytes
      // before it and stop there; the caller takes the dot byte by byte.
      len = static_cast<std::size_t>(__builtin_ctzll(dots));
      keep = len == 0 ? 0 : ~std::uint64_t{0} >> (64 - len);
      crlf &= keep;
    }
    bare_bits |= (want_lf ^ m.lf) & keep;
    // The line that began before the block reaches its length at the first
    // CRLF (or runs through the block); lines wholly inside are at most 64
    // octets (max_line >= 64), and the last one is continued by the next block.
    const auto first = static_cast<std::size_t>(__builtin_ctzll(crlf | (std::uint64_t{1} << 63)));
    const std::size_t reach = crlf != 0 ? line_len + first + 1 : line_len + len;
    too_long |= reach > max_line;
    line_len = crlf != 0 ? len - 1 - (63 - static_cast<std::size_t>(__builtin_clzll(crlf))) : line_len + len;
    if (kData && dots != 0) {
      cr_in = 0;  // the byte before a line start is the LF of a CRLF
      start_in = 1;
      return false;
    }
    cr_in = (m.cr >> (len - 1)) & 1;
    start_in = (crlf >> (len - 1)) & 1;
    return true;
  };
  std::size_t i = 0;
  bool go_on = true;
  // Whole blocks: len is the constant 64 here, so the shifts above fold.
  while (go_on && n - i >= 64) {
    std::size_t len = 64;
    go_on = block(p + i, len, ~std::uint64_t{0});
    i += len;
  }
  if (go_on && i < n) {
    // The last partial block goes through a zero-padded copy: the loads
    // never touch a byte past the input.
    alignas(64) char tail[64];
    std::size_t len = n - i;
    __builtin_memset(tail, 0, sizeof(tail));
    __builtin_memcpy(tail, p + i, len);
    block(tail, len, ~std::uint64_t{0} >> (64 - len));
    i += len;
  }
  carry.cr_in = cr_in;
  carry.start_in = start_in;
  carry.line_len = line_len;
  carry.bare = carry.bare || bare_bits != 0;
  carry.too_long = too_long;
  return i;
}

}  // namespace
}  // namespace mxdp::smtp::detail
