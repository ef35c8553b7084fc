#include "smtp/address.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace mxdp::smtp {

namespace {

constexpr bool is_alpha(unsigned char c) noexcept {
  return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}
constexpr bool is_digit(unsigned char c) noexcept {
  return c >= '0' && c <= '9';
}
constexpr bool is_alnum(unsigned char c) noexcept {
  return is_alpha(c) || is_digit(c);
}
constexpr bool is_hex(unsigned char c) noexcept {
  return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

// atext of RFC 5322 §3.2.3.
constexpr bool is_atext(unsigned char c) noexcept {
  if (is_alnum(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '/':
    case '=':
    case '?':
    case '^':
    case '_':
    case '`':
    case '{':
    case '|':
    case '}':
    case '~':
      return true;
    default:
      return false;
  }
}

// Parses the local part at s[pos]; returns the index after it or npos.
std::size_t parse_local_part(std::string_view s, std::size_t pos, bool& non_ascii) noexcept {
  const std::size_t start = pos;
  if (pos < s.size() && s[pos] == '"') {
    // Quoted-string: qtextSMTP = %d32-33 / %d35-91 / %d93-126, quoted-pairSMTP = "\" %d32-126.
    ++pos;
    while (pos < s.size()) {
      const auto c = static_cast<unsigned char>(s[pos]);
      if (c == '"') return pos + 1;
      if (c == '\\') {
        if (pos + 1 >= s.size()) return std::string_view::npos;
        const auto q = static_cast<unsigned char>(s[pos + 1]);
        if (q < 32 || q > 126) return std::string_view::npos;
        pos += 2;
        continue;
      }
      if (c >= 0x80) {
        non_ascii = true;
      } else if (c < 32 || c > 126) {
        return std::string_view::npos;
      }
      ++pos;
    }
    return std::string_view::npos;
  }
  // Dot-string = Atom *("." Atom).
  bool need_atext = true;
  while (pos < s.size()) {
    const auto c = static_cast<unsigned char>(s[pos]);
    if (c == '.') {
      if (need_atext) return std::string_view::npos;
      need_atext = true;
    } else if (is_atext(c) || c >= 0x80) {
      if (c >= 0x80) non_ascii = true;
      need_atext = false;
    } else {
      break;
    }
    ++pos;
  }
  if (need_atext || pos == start) return std::string_view::npos;
  return pos;
}

// Length of the domain or address literal at s[pos] (stops at '>' , ',' or ':').
std::size_t domain_end(std::string_view s, std::size_t pos) noexcept {
  if (pos < s.size() && s[pos] == '[') {
    const std::size_t close = s.find(']', pos);
    return close == std::string_view::npos ? close : close + 1;
  }
  while (pos < s.size() && s[pos] != '>' && s[pos] != ',' && s[pos] != ':')
    ++pos;
  return pos;
}

bool is_snum(std::string_view s) noexcept {
  if (s.empty() || s.size() > 3) return false;
  unsigned v = 0;
  for (const char ch : s) {
    if (!is_digit(static_cast<unsigned char>(ch))) return false;
    v = v * 10 + static_cast<unsigned>(ch - '0');
  }
  return v <= 255;
}

// Character classes of the fast path, one table lookup per byte. Bytes >= 0x80
// are in no class, so a UTF-8 address always goes to the full parser.
enum : std::uint8_t {
  kAtextClass = 1,  // atext (RFC 5322 §3.2.3)
  kLdhClass = 2,    // Let-dig / "-" (RFC 5321 §4.1.2 Ldh-str)
  kValueClass = 4,  // esmtp-value octet (RFC 5321 §4.1.2; RFC 6531 §3.3 adds UTF-8)
};

constexpr std::array<std::uint8_t, 256> make_char_classes() noexcept {
  std::array<std::uint8_t, 256> t{};
  for (unsigned c = 0; c < 256; ++c) {
    const auto u = static_cast<unsigned char>(c);
    if (is_atext(u)) t[c] |= kAtextClass;
    if (is_alnum(u) || u == '-') t[c] |= kLdhClass;
    if ((u >= 33 && u <= 126 && u != '=') || u >= 0x80) t[c] |= kValueClass;
  }
  return t;
}
constexpr std::array<std::uint8_t, 256> kCharClasses = make_char_classes();

}  // namespace

bool is_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto t = static_cast<unsigned char>(s[i + k]);
      if ((t & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (t & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

bool is_domain(std::string_view s, bool allow_utf8) noexcept {
  if (s.empty() || s.size() > kMaxDomain) return false;
  std::size_t label = 0;
  unsigned char prev = '.';
  bool non_ascii = false;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else if (is_alnum(c) || (c >= 0x80 && allow_utf8)) {
      if (c >= 0x80) non_ascii = true;
      ++label;
    } else if (c == '-') {
      if (label == 0) return false;  // a label starts with Let-dig
      ++label;
    } else {
      return false;
    }
    if (label > 63) return false;
    prev = c;
  }
  if (label == 0 || prev == '-') return false;
  return !non_ascii || is_utf8(s);
}

bool is_ipv4(std::string_view s) noexcept {
  for (int part = 0; part < 4; ++part) {
    const std::size_t dot = part < 3 ? s.find('.') : s.size();
    if (dot == std::string_view::npos || !is_snum(s.substr(0, dot))) return false;
    s.remove_prefix(part < 3 ? dot + 1 : dot);
  }
  return s.empty();
}

bool is_ipv6(std::string_view s) noexcept {
  // RFC 5321 §4.1.3: IPv6-full / IPv6-comp / IPv6v4-full / IPv6v4-comp.
  int groups = 0;
  bool compressed = false;
  std::size_t i = 0;
  if (s.substr(0, 2) == "::") {
    compressed = true;
    i = 2;
    if (i == s.size()) return true;
  } else if (!s.empty() && s[0] == ':') {
    return false;
  }
  while (i < s.size()) {
    std::size_t j = i;
    while (j < s.size() && is_hex(static_cast<unsigned char>(s[j])) && j - i < 5)
      ++j;
    if (j < s.size() && s[j] == '.') {
      // Trailing IPv4 part: two groups' worth.
      if (!is_ipv4(s.substr(i))) return false;
      groups += 2;
      i = s.size();
      break;
    }
    if (j == i || j - i > 4) return false;
    ++groups;
    i = j;
    if (i == s.size()) break;
    if (s[i] != ':') return false;
    ++i;
    if (i < s.size() && s[i] == ':') {
      if (compressed) return false;
      compressed = true;
      ++i;
      if (i == s.size()) break;
    } else if (i == s.size()) {
      return false;  // trailing single ':'
    }
  }
  return compressed ? groups <= 7 : groups == 8;
}

bool is_address_literal(std::string_view s) noexcept {
  if (s.size() < 3 || s.front() != '[' || s.back() != ']') return false;
  s = s.substr(1, s.size() - 2);
  if (is_ipv4(s)) return true;
  const std::size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view tag = s.substr(0, colon);
  const std::string_view rest = s.substr(colon + 1);
  if (iequals(tag, "IPv6")) return is_ipv6(rest);
  // General-address-literal: Standardized-tag ":" 1*dcontent.
  if (!is_domain(tag, false) || tag.find('.') != std::string_view::npos || rest.empty()) return false;
  for (const char ch : rest) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 33 || c > 126 || c == '[' || c == '\\' || c == ']') return false;
  }
  return true;
}

namespace detail {

// The whole grammar of RFC 5321 §4.1.2 Path with RFC 6531 §3.3 UTF-8: the one
// definition of what parse_path accepts and of every error it reports.
ParsedPath parse_path_full(std::string_view s, bool allow_null, bool allow_utf8) noexcept {
  ParsedPath r;
  if (s.empty() || s[0] != '<') return r;
  if (s.size() >= 2 && s[1] == '>') {
    if (!allow_null) return r;
    r.error = PathError::kOk;
    r.null_path = true;
    r.consumed = 2;
    return r;
  }
  std::size_t pos = 1;
  // A-d-l = At-domain *("," At-domain) ":" (source route: parsed, then ignored).
  if (pos < s.size() && s[pos] == '@') {
    while (true) {
      ++pos;  // '@'
      const std::size_t end = domain_end(s, pos);
      if (end == std::string_view::npos || !is_domain(s.substr(pos, end - pos), allow_utf8)) return r;
      pos = end;
      if (pos < s.size() && s[pos] == ',' && pos + 1 < s.size() && s[pos + 1] == '@') {
        ++pos;
        continue;
      }
      if (pos < s.size() && s[pos] == ':') {
        ++pos;
        break;
      }
      return r;
    }
  }
  const std::size_t mailbox_start = pos;
  bool non_ascii = false;
  const std::size_t at = parse_local_part(s, pos, non_ascii);
  if (at == std::string_view::npos || at >= s.size() || s[at] != '@') return r;
  const std::size_t local_len = at - mailbox_start;
  const std::size_t dstart = at + 1;
  const std::size_t dend = domain_end(s, dstart);
  if (dend == std::string_view::npos || dend >= s.size() || s[dend] != '>') return r;
  const std::string_view domain = s.substr(dstart, dend - dstart);
  bool domain_ok;
  if (!domain.empty() && domain[0] == '[') {
    domain_ok = is_address_literal(domain);
  } else {
    for (const char ch : domain) {
      if (static_cast<unsigned char>(ch) >= 0x80) non_ascii = true;
    }
    domain_ok = is_domain(domain, true);
  }
  if (!domain_ok) return r;
  r.mailbox = s.substr(mailbox_start, dend - mailbox_start);
  r.consumed = dend + 1;
  r.non_ascii = non_ascii;
  if (local_len > kMaxLocalPart || domain.size() > kMaxDomain || r.mailbox.size() + 2 > kMaxPath) {
    r.error = PathError::kTooLong;
    return r;
  }
  if (non_ascii) {
    if (!allow_utf8) {
      r.error = PathError::kNonAscii;
      return r;
    }
    if (!is_utf8(r.mailbox)) return r;
  }
  r.error = PathError::kOk;
  return r;
}

// The common path "<" Dot-string "@" Domain ">" (RFC 5321 §4.1.2) in one pass:
// all ASCII, no source route, no quoted local part, no address literal, within
// the limits of §4.5.3.1. Accepts exactly what parse_path_full accepts with
// these restrictions and returns the same result; anything else (including
// every error) returns false and the full parser decides.
bool parse_path_fast(std::string_view s, ParsedPath& r) noexcept {
  // A path longer than kMaxPath is an error the full parser reports, so the
  // scan never needs to look further.
  const std::size_t n = std::min(s.size(), kMaxPath);
  if (n < 5 || s[0] != '<') return false;  // shortest is "<a@b>"
  const char* p = s.data();
  // Dot-string = Atom *("." Atom): no empty atom, so no leading, trailing or
  // doubled dot.
  std::size_t i = 1;
  std::size_t atom = 1;
  for (; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (kCharClasses[c] & kAtextClass) continue;
    if (c != '.' || i == atom) break;
    atom = i + 1;
  }
  if (i == atom || i >= n || p[i] != '@' || i - 1 > kMaxLocalPart) return false;
  // Domain = sub-domain *("." sub-domain), sub-domain = Let-dig [Ldh-str]:
  // 1..63 octets (RFC 1035 §2.3.4), no hyphen at either end.
  ++i;
  std::size_t label = i;
  auto label_ok = [p](std::size_t begin, std::size_t end) noexcept {
    return end > begin && end - begin <= 63 && p[begin] != '-' && p[end - 1] != '-';
  };
  for (; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (kCharClasses[c] & kLdhClass) continue;
    if (c != '.' || !label_ok(label, i)) break;
    label = i + 1;
  }
  if (i >= n || p[i] != '>' || !label_ok(label, i)) return false;
  // i + 1 <= kMaxPath bounds the path, hence the domain (kMaxDomain) too.
  static_assert(kMaxPath - 4 <= kMaxDomain);
  r.error = PathError::kOk;
  r.mailbox = s.substr(1, i - 1);
  r.consumed = i + 1;
  r.null_path = false;
  r.non_ascii = false;
  return true;
}

}  // namespace detail

ParsedPath parse_path(std::string_view s, bool allow_null, bool allow_utf8) noexcept {
  ParsedPath r;
  if (detail::parse_path_fast(s, r)) return r;
  return detail::parse_path_full(s, allow_null, allow_utf8);
}

bool next_esmtp_param(std::string_view& rest, EsmtpParam& out, bool& ok) noexcept {
  // One pass over the token, up to the next space:
  // esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"); esmtp-value = 1*(%d33-60 / %d62-126).
  const char* p = rest.data();
  const std::size_t n = rest.size();
  std::size_t i = 0;
  while (i < n && p[i] == ' ')
    ++i;
  if (i == n) {
    rest = {};
    ok = true;
    return false;
  }
  const std::size_t keyword = i;
  while (i < n && (kCharClasses[static_cast<unsigned char>(p[i])] & kLdhClass))
    ++i;
  out.keyword = std::string_view(p + keyword, i - keyword);
  bool good = i > keyword && is_alnum(static_cast<unsigned char>(p[keyword]));
  out.has_value = i < n && p[i] == '=';
  out.value = {};
  if (out.has_value) {
    const std::size_t value = ++i;
    while (i < n && (kCharClasses[static_cast<unsigned char>(p[i])] & kValueClass))
      ++i;
    out.value = std::string_view(p + value, i - value);
    good = good && i > value;
  }
  if (i < n && p[i] != ' ') {
    // Another octet inside the token (a second '=', a control, a bad keyword
    // octet): the parameter is ill-formed; the token still ends at a space.
    good = false;
    while (i < n && p[i] != ' ')
      ++i;
  }
  rest.remove_prefix(i);
  ok = good;
  return true;
}

}  // namespace mxdp::smtp
