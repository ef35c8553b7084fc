// The AVX2 build of the block loop (compiled with -mavx2; called only when the
// CPU has AVX2). Two 32-byte compares per character class instead of four
// 16-byte ones.
#include "smtp/data_scanner_blocks.hpp"

#if defined(__AVX2__)
#include <immintrin.h>

namespace mxdp::smtp::detail {

namespace {

inline std::uint64_t eq_mask(__m256i lo, __m256i hi, __m256i v) noexcept {
  const auto a = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, v)));
  const auto b = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, v)));
  return static_cast<std::uint64_t>(a) | (static_cast<std::uint64_t>(b) << 32);
}

template <bool kDot>
Masks masks_avx2(const char* p) noexcept {
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
  return {eq_mask(lo, hi, _mm256_set1_epi8('\r')), eq_mask(lo, hi, _mm256_set1_epi8('\n')),
          kDot ? eq_mask(lo, hi, _mm256_set1_epi8('.')) : 0};
}

}  // namespace

std::size_t scan_blocks_avx2(const char* p, std::size_t n, BlockCarry& c) noexcept {
  return c.data_mode ? scan_blocks<true, masks_avx2<true>>(p, n, c)
                     : scan_blocks<false, masks_avx2<false>>(p, n, c);
}

}  // namespace mxdp::smtp::detail

#else

namespace mxdp::smtp::detail {
// Built without AVX2 (not x86-64): never called, cpu_has_avx2() is false.
std::size_t scan_blocks_avx2(const char* p, std::size_t n, BlockCarry& c) noexcept {
  return scan_blocks_sse2(p, n, c);
}
}  // namespace mxdp::smtp::detail

#endif
