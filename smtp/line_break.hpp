#pragma once
// The first CR or LF in [p, end): the only bytes (with a leading dot) that
// SMTP's canonical line ends and dot-stuffing have to look at, so the client
// copies the runs between them in bulk (RFC 5321 §2.3.8, §4.5.2). SSE2 is in
// every x86-64 CPU; other targets scan bytewise.

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mxdp::smtp {

inline const char* find_line_break(const char* p, const char* end) noexcept {
#if defined(__SSE2__)
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const int mask = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  while (p < end && *p != '\r' && *p != '\n')
    ++p;
  return p;
}

}  // namespace mxdp::smtp
