#pragma once
// RFC 5321 §4.1.2 paths and mailboxes, RFC 6531 internationalised addresses,
// and ESMTP parameters (RFC 5321 §4.1.1.11). Pure functions over views; no
// allocation.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mxdp::smtp {

// Size limits of RFC 5321 §4.5.3.1.
inline constexpr std::size_t kMaxLocalPart = 64;
inline constexpr std::size_t kMaxDomain = 255;
inline constexpr std::size_t kMaxPath = 256;  // including the angle brackets

enum class PathError : std::uint8_t {
  kOk,
  kSyntax,    // not a Path (or not "<>" where that is allowed)
  kTooLong,   // local part, domain or path over its limit
  kNonAscii,  // UTF-8 in an address without SMTPUTF8 (RFC 6531 §3.5)
};

struct ParsedPath {
  PathError error = PathError::kSyntax;
  std::string_view mailbox;  // "local@domain" without brackets or source route; empty for "<>"
  std::size_t consumed = 0;  // bytes of the input up to and including '>'
  bool null_path = false;    // "<>" (RFC 5321 §4.5.5: bounces)
  bool non_ascii = false;    // the mailbox holds UTF-8
};

// Parses a Path ("<" [A-d-l ":"] Mailbox ">") at the start of s. allow_null
// accepts "<>" (reverse-path only); allow_utf8 accepts RFC 6531 addresses (the
// UTF-8 must be well formed). A source route (A-d-l) is accepted and ignored
// (RFC 5321 §4.1.1.3, Appendix C).
// The common form "<" Dot-string "@" Domain ">" in ASCII within the limits is
// taken in one pass; everything else goes to detail::parse_path_full.
ParsedPath parse_path(std::string_view s, bool allow_null, bool allow_utf8) noexcept;

namespace detail {
// The two halves of parse_path, public for the differential tests and fuzzer.
// The full parser alone: the reference parse_path must agree with on every
// input.
ParsedPath parse_path_full(std::string_view s, bool allow_null, bool allow_utf8) noexcept;
// The fast path alone: true (and r set as parse_path_full would set it) for
// "<" Dot-string "@" Domain ">" in ASCII within the limits, false otherwise.
bool parse_path_fast(std::string_view s, ParsedPath& r) noexcept;
}  // namespace detail

// Domain = sub-domain *("." sub-domain), each a Let-dig [Ldh-str]; U-labels
// (raw UTF-8) when allow_utf8.
bool is_domain(std::string_view s, bool allow_utf8) noexcept;
// address-literal = "[" (IPv4 / "IPv6:" IPv6 / tag ":" dcontent) "]".
bool is_address_literal(std::string_view s) noexcept;
bool is_ipv4(std::string_view s) noexcept;
bool is_ipv6(std::string_view s) noexcept;
// Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool is_utf8(std::string_view s) noexcept;

// One ESMTP parameter "keyword[=value]" taken from the front of a
// space-separated list. Returns false when the list is empty; sets ok=false
// when the next token is not a well-formed parameter.
struct EsmtpParam {
  std::string_view keyword;
  std::string_view value;
  bool has_value = false;
};
bool next_esmtp_param(std::string_view& rest, EsmtpParam& out, bool& ok) noexcept;

// ASCII case-insensitive comparison (SMTP verbs and keywords, RFC 5321 §2.4).
// Inline: most calls compare with a literal, whose length the compiler then knows.
inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    // Equal, or the same letter in the other case: OR-ing 0x20 lower-cases a letter.
    if (x != y && !((x | 0x20) == (y | 0x20) && (x | 0x20) >= 'a' && (x | 0x20) <= 'z')) return false;
  }
  return true;
}

}  // namespace mxdp::smtp
