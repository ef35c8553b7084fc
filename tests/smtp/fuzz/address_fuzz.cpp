// libFuzzer target: smtp::parse_path (one-pass fast path, then the full
// parser) against smtp::detail::parse_path_full (the full RFC 5321 §4.1.2 /
// RFC 6531 grammar alone) on arbitrary bytes, for every combination of
// allow_null and allow_utf8. Aborts unless every ParsedPath field agrees: the
// same error, the same mailbox view (same bytes of the input), consumed,
// null_path and non_ascii. Also aborts when detail::parse_path_fast declines
// a plain path (ASCII, no source route, no quoted local part, no address
// literal) the full parser accepts: a too strict fast path is correct but slow.
// libFuzzer hands over an exactly sized buffer, so ASan catches a read past
// the input.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "smtp/address.hpp"
#include "tests/smtp/parse_path_oracle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mxdp::smtp;
  const std::string_view s(reinterpret_cast<const char*>(data), size);
  for (const bool allow_null : {false, true}) {
    for (const bool allow_utf8 : {false, true}) {
      const ParsedPath fast = parse_path(s, allow_null, allow_utf8);
      const ParsedPath full = detail::parse_path_full(s, allow_null, allow_utf8);
      if (!test::same_parse(fast, full)) std::abort();
      // What the session relies on: an accepted path lies inside the input.
      if (full.error == PathError::kOk && (full.consumed > size || full.mailbox.size() >= full.consumed))
        std::abort();
    }
  }
  ParsedPath fast;
  if (detail::parse_path_fast(s, fast) != test::is_plain_path(s)) std::abort();
  return 0;
}
