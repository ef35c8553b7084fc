#pragma once
// What smtp::parse_path's fast path must satisfy, checked by the unit test
// (address_test.cpp) and the fuzz target (fuzz/address_fuzz.cpp) alike.

#include <string_view>

#include "smtp/address.hpp"

namespace mxdp::smtp::test {

// The same result field by field, the mailbox as the same view of the input
// (the same bytes, not just equal text).
inline bool same_parse(const ParsedPath& a, const ParsedPath& b) noexcept {
  return a.error == b.error && a.mailbox.data() == b.mailbox.data() && a.mailbox.size() == b.mailbox.size() &&
         a.consumed == b.consumed && a.null_path == b.null_path && a.non_ascii == b.non_ascii;
}

// A path the fast path must take: one the full parser accepts that is plain
// (ASCII, no source route, no quoted local part, no address literal). The
// first '@' of such a mailbox is its only one; an address literal may hold
// another, so the literal is recognised by what follows the first.
inline bool is_plain_path(std::string_view s) noexcept {
  const ParsedPath full = detail::parse_path_full(s, false, false);
  return full.error == PathError::kOk && s[1] != '@' && s[1] != '"' &&
         full.mailbox[full.mailbox.find('@') + 1] != '[';
}

}  // namespace mxdp::smtp::test
