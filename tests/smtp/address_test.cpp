#include "smtp/address.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/smtp/parse_path_oracle.hpp"

namespace mxdp::smtp {
namespace {

TEST(AddressTest, Ipv6Literals) {
  for (const char* ok :
       {"::", "::1", "2001:db8::1", "1:2:3:4:5:6:7:8", "::ffff:192.0.2.1", "1:2:3:4:5:6:1.2.3.4", "fe80::"}) {
    EXPECT_TRUE(is_ipv6(ok)) << ok;
  }
  for (const char* bad :
       {"", ":", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "1:2:3:4:5:6:7", ":1::", "1:", "::g"}) {
    EXPECT_FALSE(is_ipv6(bad)) << bad;
  }
}

TEST(AddressTest, DomainsAndLiterals) {
  EXPECT_TRUE(is_domain("example.org", false));
  EXPECT_TRUE(is_domain("a-b.c1", false));
  EXPECT_FALSE(is_domain("-a.org", false));
  EXPECT_FALSE(is_domain("a-.org", false));
  EXPECT_FALSE(is_domain("a..org", false));
  EXPECT_FALSE(is_domain("a.org.", false));
  EXPECT_FALSE(is_domain(std::string(64, 'a') + ".org", false));
  EXPECT_TRUE(is_address_literal("[192.0.2.1]"));
  EXPECT_TRUE(is_address_literal("[IPv6:::1]"));
  EXPECT_TRUE(is_address_literal("[x-tag:abc]"));
  EXPECT_FALSE(is_address_literal("[256.0.0.1]"));
  EXPECT_FALSE(is_address_literal("[1.2.3]"));
}

TEST(AddressTest, Paths) {
  ParsedPath p = parse_path("<a.b@example.org> SIZE=1", false, false);
  ASSERT_EQ(p.error, PathError::kOk);
  EXPECT_EQ(p.mailbox, "a.b@example.org");
  EXPECT_EQ(p.consumed, 17u);
  p = parse_path("<>", true, false);
  EXPECT_TRUE(p.null_path);
  EXPECT_EQ(parse_path("<>", false, false).error, PathError::kSyntax);
  EXPECT_EQ(parse_path("<@a.org,@b.org:x@c.org>", false, false).mailbox, "x@c.org");
  EXPECT_EQ(parse_path("<\xc3\xa9@x.org>", false, false).error, PathError::kNonAscii);
  EXPECT_EQ(parse_path("<\xc3\xa9@x.org>", false, true).error, PathError::kOk);
  EXPECT_EQ(parse_path("<\xc3@x.org>", false, true).error, PathError::kSyntax);
  // Built by append: operator+ on these temporaries trips a GCC 12 -Wrestrict false positive.
  EXPECT_EQ(parse_path(std::string("<").append(65, 'a').append("@x.org>"), false, false).error,
            PathError::kTooLong);
  EXPECT_EQ(parse_path(std::string("<a@").append(250, 'b').append(".org>"), false, false).error,
            PathError::kSyntax);
}

// parse_path (fast path first) against detail::parse_path_full (the grammar)
// on one input and every flag combination: same error, same mailbox view (the
// same bytes of s, not just equal text), same consumed, null_path, non_ascii.
// And the fast path is complete: it takes every plain path the full parser
// accepts (ASCII, no source route, no quoted local part, no address literal),
// so a too strict fast path, which the comparison alone cannot see, fails too.
// The input is copied into an exactly sized block so ASan sees any read past it.
::testing::AssertionResult same_as_full_parser(std::string_view input) {
  const auto block = std::make_unique<char[]>(input.size() + 1);
  std::memcpy(block.get(), input.data(), input.size());
  const std::string_view s(block.get(), input.size());
  auto show = [](const ParsedPath& p) {
    std::string out = "error=" + std::to_string(static_cast<int>(p.error));
    out.append(" mailbox='").append(p.mailbox).append("' consumed=").append(std::to_string(p.consumed));
    out.append(p.null_path ? " null" : "").append(p.non_ascii ? " non_ascii" : "");
    return out;
  };
  for (const bool allow_null : {false, true}) {
    for (const bool allow_utf8 : {false, true}) {
      const ParsedPath fast = parse_path(s, allow_null, allow_utf8);
      const ParsedPath full = detail::parse_path_full(s, allow_null, allow_utf8);
      if (!test::same_parse(fast, full)) {
        return ::testing::AssertionFailure()
               << "input '" << input << "' allow_null=" << allow_null << " allow_utf8=" << allow_utf8
               << ": parse_path " << show(fast) << "; full parser " << show(full);
      }
    }
  }
  const bool plain = test::is_plain_path(s);
  ParsedPath fast;
  if (detail::parse_path_fast(s, fast) != plain) {
    return ::testing::AssertionFailure()
           << "input '" << input << "': the fast path "
           << (plain ? "declined a plain path" : "took a path that is not plain");
  }
  return ::testing::AssertionSuccess();
}

// "<" + local + "@" + domain + ">" + tail, built by appending (operator+ on
// temporaries trips a GCC 12 -Wrestrict false positive).
std::string path_of(std::string_view local, std::string_view domain, std::string_view tail = {}) {
  std::string s;
  s.append("<").append(local).append("@").append(domain).append(">").append(tail);
  return s;
}

// A domain of `total` octets: 63-octet labels of 'd' joined by dots, the last
// one shorter (at least one octet, so total is never 64*k).
std::string domain_of(std::size_t total) {
  std::string d;
  while (total - d.size() > 63) {
    d.append(63, 'd');
    d.push_back('.');
  }
  d.append(total - d.size(), 'e');
  return d;
}

TEST(AddressTest, FastPathAgreesWithFullParserOnHandPickedPaths) {
  const std::string l63(63, 'l');
  const std::string l64(64, 'l');
  const std::string l65(65, 'l');
  const std::string d63(63, 'd');
  const std::string d64(64, 'd');
  std::vector<std::string> cases = {
      "",
      "<",
      ">",
      "<>",
      "<> SIZE=1",
      "<>x",
      "<a",
      "<a@",
      "<a@b",
      "<a@b>",
      "<a@b> SIZE=10 BODY=8BITMIME",
      "<a@b>>",
      "<a@b>\r\n",
      "a@b>",
      " <a@b>",
      "<A@B>",
      "<USER.Name@Example.TEST>",
      "<a@1>",
      "<a@123.456>",
      "<1@2.3>",
      "<a@b.c.d.e.f.g>",
      // Dots in the local part.
      "<.a@b>",
      "<a.@b>",
      "<a..b@b>",
      "<a.b.c@b>",
      "<.@b>",
      "<a@.b>",
      "<a@b.>",
      "<a@b..c>",
      "<a@.>",
      // Hyphens in the domain.
      "<a@-b>",
      "<a@b->",
      "<a@b-c>",
      "<a@b--c>",
      "<a@b.-c>",
      "<a@b-.c>",
      "<a@-.c>",
      "<a@b.c->",
      "<a@b-c.d-e>",
      "<a@->",
      // Every atext special, and characters outside atext.
      "<!#$%&'*+-/=?^_`{|}~@b>",
      "<a b@c>",
      "<a(b@c>",
      "<a)b@c>",
      "<a,b@c>",
      "<a;b@c>",
      "<a:b@c>",
      "<a\\b@c>",
      "<a[b@c>",
      "<a]b@c>",
      "<a\"b@c>",
      "<a<b@c>",
      "<a>b@c>",
      "<a@b_c>",
      "<a@b+c>",
      "<a@b c>",
      "<a@b,c>",
      "<a@b:c>",
      "<a@b@c>",
      "<a@@b>",
      "<@>",
      "<@b>",
      "<a@>",
      "<a@b\x7f>",
      std::string("<a\0b@c>", 7),
      std::string("<a@b\0>", 6),
      // Quoted local parts, address literals, source routes.
      "<\"a b\"@c>",
      "<\"a@b\"@c>",
      "<\"\"@c>",
      "<\"a\\\"b\"@c>",
      "<\"a@c>",
      "<a@[192.0.2.1]>",
      "<a@[IPv6:2001:db8::1]>",
      "<a@[x-tag:abc]>",
      "<r@[6:2:14<@>]>",
      "<a@[1.2.3]>",
      "<a@[192.0.2.1>",
      "<@a.org:x@c.org>",
      "<@a.org,@b.org:x@c.org>",
      "<@a.org,b.org:x@c.org>",
      "<@:x@c.org>",
      "<@a.org:@c.org>",
      // Non-ASCII: UTF-8 in either part, broken UTF-8, a bare high byte.
      "<\xc3\xa9@x.org>",
      "<a@\xc3\xa9.org>",
      "<a@x.\xc3\xa9>",
      "<\xc3@x.org>",
      "<a@x\xff.org>",
      "<\xe2\x82\xac\xe2\x82\xac@b>",
      "<\"\xc3\xa9\"@b>",
      // Label lengths 63 / 64, local part lengths 64 / 65.
      path_of("a", d63),
      path_of("a", d64),
      path_of("a", d63 + ".b"),
      path_of("a", d64 + ".b"),
      path_of("a", "b." + d63),
      path_of("a", "b." + d64),
      path_of(l63, "b"),
      path_of(l64, "b"),
      path_of(l65, "b"),
      path_of(l64 + ".x", "b"),
      path_of(l64, "b", " SIZE=1"),
      path_of("\"" + l63 + "\"", "b"),
      path_of("@x.org:" + l65, "b"),
      // Digits-only labels, uppercase.
      path_of("0", "0.0.0.0"),
      path_of("ABC", "EXAMPLE.COM"),
      path_of("a", "192.0.2.1"),
  };
  // Total path lengths around kMaxPath (256 including brackets), cut short
  // or followed by parameters, and domains around kMaxDomain (255; the path
  // limit binds first, a 253-octet domain already makes the path too long).
  for (std::size_t total = 250; total <= 262; ++total) {
    for (const std::size_t local : {1u, 10u, 64u}) {
      const std::size_t domain = total - 3 - local;
      cases.push_back(path_of(std::string(local, 'l'), domain_of(domain)));
      cases.push_back(path_of(std::string(local, 'l'), domain_of(domain), " SIZE=1"));
      cases.push_back(path_of(std::string(local, 'l'), domain_of(domain)).substr(0, total - 1));
    }
  }
  for (const std::size_t domain : {252u, 253u, 254u, 255u, 256u, 300u})
    cases.push_back(path_of("a", domain_of(domain)));
  std::size_t ok = 0;
  for (const std::string& c : cases) {
    EXPECT_TRUE(same_as_full_parser(c));
    ok += parse_path(c, false, false).error == PathError::kOk;
  }
  EXPECT_GT(ok, 40u);  // the fast path's accepting side is exercised

  // The edges the fast path decides, checked against known answers too.
  EXPECT_EQ(parse_path(path_of(l64, "b"), false, false).error, PathError::kOk);
  EXPECT_EQ(parse_path(path_of(l65, "b"), false, false).error, PathError::kTooLong);
  EXPECT_EQ(parse_path(path_of("a", d63), false, false).error, PathError::kOk);
  EXPECT_EQ(parse_path(path_of("a", d64), false, false).error, PathError::kSyntax);
  EXPECT_EQ(parse_path(path_of("a", domain_of(252)), false, false).error, PathError::kOk);  // 256 octets
  EXPECT_EQ(parse_path(path_of("a", domain_of(253)), false, false).error, PathError::kTooLong);
  EXPECT_EQ(parse_path("<a..b@c>", false, false).error, PathError::kSyntax);
  EXPECT_EQ(parse_path("<a@b-.c>", false, false).error, PathError::kSyntax);
  const ParsedPath p = parse_path("<a@b> SIZE=1", false, false);
  EXPECT_EQ(p.error, PathError::kOk);
  EXPECT_EQ(p.mailbox, "a@b");
  EXPECT_EQ(p.consumed, 5u);
}

// Every dot and hyphen rule at every offset (a word-at-a-time fast path would
// have a boundary case at each): local parts and domains made of a run of
// plain octets of each length, then a tail that breaks (or keeps) a rule.
TEST(AddressTest, FastPathAgreesWithFullParserAtEveryOffset) {
  const std::string e63(63, 'e');
  const std::string e64(64, 'e');
  const std::vector<std::string> local_tails = {"", ".", "..b", ".b", ".b.", "b"};
  std::vector<std::string> domain_tails = {"",    "-",  ".",   ".e", "..e", "-.e",
                                           ".-e", "-e", ".e-", "e-", ".e.f"};
  domain_tails.push_back("." + e63);
  domain_tails.push_back("." + e64);
  domain_tails.push_back(e63.substr(0, 40) + ".f");
  for (std::size_t k = 0; k <= 20; ++k) {
    for (const std::string& lt : local_tails) {
      const std::string local = std::string(k, 'a') + lt;
      for (std::size_t j = 0; j <= 24; ++j) {
        for (const std::string& dt : domain_tails) {
          const std::string domain = std::string(j, 'd') + dt;
          ASSERT_TRUE(same_as_full_parser(path_of(local, domain)));
          ASSERT_TRUE(same_as_full_parser(path_of(local, domain, " SIZE=1")));
        }
      }
    }
  }
  // Labels of 62..65 octets ending at each offset after a dot.
  for (std::size_t j = 0; j <= 16; ++j) {
    for (std::size_t len = 62; len <= 65; ++len) {
      ASSERT_TRUE(same_as_full_parser(path_of("a", std::string(j, 'd') + "." + std::string(len, 'e'))));
      ASSERT_TRUE(
          same_as_full_parser(path_of("a", std::string(j, 'd') + "." + std::string(len, 'e') + ".f")));
    }
  }
}

TEST(AddressTest, FastPathAgreesWithFullParserOnRandomInput) {
  std::mt19937_64 rng(20240611);
  auto pick = [&rng](std::string_view from) { return from[rng() % from.size()]; };
  // Weighted toward the characters the grammar turns on; '\xc3' and '\xa9'
  // make UTF-8 (and, alone, broken UTF-8).
  const std::string_view alphabet = "<<>>@@@...---\"[]:,\\ aAzZ09bB\xc3\xa9!#=";
  const std::string_view atext = "abcXYZ019!#$%&'*+-/=?^_`{|}~";
  const std::string_view ldh = "abcdeXYZ019-";
  std::size_t ok = 0;
  constexpr int kRounds = 300000;
  for (int round = 0; round < kRounds; ++round) {
    std::string s;
    if (round % 2 == 0) {
      // Free-form: any string over the alphabet, usually starting with '<'.
      const std::size_t len = rng() % 8 == 0 ? rng() % 300 : rng() % 24;
      if (rng() % 8 != 0) s.push_back('<');
      while (s.size() < len)
        s.push_back(pick(alphabet));
    } else {
      // Almost a fast path: dot-atoms and LDH labels of random lengths around
      // the limits, some empty (a dot at an edge or doubled), some labels with
      // a hyphen at an edge, then a few random bytes replaced by alphabet
      // characters.
      s.push_back('<');
      const std::size_t atoms = 1 + rng() % 3;
      for (std::size_t a = 0; a < atoms; ++a) {
        if (a > 0) s.push_back('.');
        const std::size_t n = rng() % 8 == 0 ? 0 : rng() % 4 == 0 ? rng() % 70 : 1 + rng() % 10;
        for (std::size_t k = 0; k < n; ++k)
          s.push_back(pick(atext));
      }
      s.push_back('@');
      const std::size_t labels = 1 + rng() % (rng() % 8 == 0 ? 8 : 3);
      for (std::size_t l = 0; l < labels; ++l) {
        if (l > 0) s.push_back('.');
        const std::size_t n = rng() % 10 == 0 ? 0 : rng() % 4 == 0 ? 60 + rng() % 6 : 1 + rng() % 12;
        for (std::size_t k = 0; k < n; ++k)
          s.push_back(pick(ldh));
        if (n > 0 && rng() % 8 == 0) s[s.size() - 1 - (rng() % 2) * (n - 1)] = '-';
      }
      s.push_back('>');
      if (rng() % 2 == 0) s.append(" SIZE=1");
      const std::size_t mutations = rng() % 3;
      for (std::size_t m = 0; m < mutations; ++m)
        s[rng() % s.size()] = pick(alphabet);
      if (rng() % 16 == 0) s.resize(rng() % s.size());
    }
    ASSERT_TRUE(same_as_full_parser(s)) << "round " << round;
    ok += parse_path(s, false, false).error == PathError::kOk;
  }
  // Both sides are exercised: many inputs the fast path accepts, many it hands on.
  EXPECT_GT(ok, kRounds / 20u);
  EXPECT_LT(ok, kRounds * 9u / 10u);
}

TEST(AddressTest, EsmtpParams) {
  std::string_view rest = " SIZE=10  BODY=8BITMIME SMTPUTF8";
  EsmtpParam p;
  bool ok = false;
  ASSERT_TRUE(next_esmtp_param(rest, p, ok));
  EXPECT_TRUE(ok);
  EXPECT_EQ(p.keyword, "SIZE");
  EXPECT_EQ(p.value, "10");
  ASSERT_TRUE(next_esmtp_param(rest, p, ok));
  EXPECT_EQ(p.value, "8BITMIME");
  ASSERT_TRUE(next_esmtp_param(rest, p, ok));
  EXPECT_FALSE(p.has_value);
  EXPECT_FALSE(next_esmtp_param(rest, p, ok));
  rest = "A=";
  ASSERT_TRUE(next_esmtp_param(rest, p, ok));
  EXPECT_FALSE(ok);
}

// The two-pass form next_esmtp_param had until 2026-11 (token to the next
// space, keyword before the first '=', then each part checked): the one-pass
// form must agree on every list.
bool reference_param(std::string_view& rest, EsmtpParam& out, bool& ok) {
  auto alnum = [](unsigned char c) { return std::isalnum(c) != 0 && c < 0x80; };
  ok = true;
  while (!rest.empty() && rest.front() == ' ')
    rest.remove_prefix(1);
  if (rest.empty()) return false;
  std::size_t end = rest.find(' ');
  if (end == std::string_view::npos) end = rest.size();
  const std::string_view token = rest.substr(0, end);
  rest.remove_prefix(end);
  const std::size_t eq = token.find('=');
  out.keyword = token.substr(0, eq);
  out.has_value = eq != std::string_view::npos;
  out.value = out.has_value ? token.substr(eq + 1) : std::string_view{};
  if (out.keyword.empty() || !alnum(static_cast<unsigned char>(out.keyword[0]))) ok = false;
  for (const char ch : out.keyword) {
    if (!alnum(static_cast<unsigned char>(ch)) && ch != '-') ok = false;
  }
  if (out.has_value) {
    if (out.value.empty()) ok = false;
    for (const char ch : out.value) {
      const auto c = static_cast<unsigned char>(ch);
      if ((c < 33 || c == '=' || c == 127) && c < 0x80) ok = false;
    }
  }
  return true;
}

TEST(AddressTest, EsmtpParamsMatchTheTwoPassForm) {
  std::mt19937 rng(3);
  const char alphabet[] = {'S', 'i',  'Z',    '8',    '-',    '=', '=', ' ',
                           ' ', '\t', '\x7f', '\x01', '\xc3', '_', '.'};
  for (int round = 0; round < 20000; ++round) {
    std::string list;
    const std::size_t len = rng() % 24;
    for (std::size_t i = 0; i < len; ++i)
      list += alphabet[rng() % sizeof(alphabet)];
    std::string_view a = list, b = list;
    for (;;) {
      EsmtpParam pa, pb;
      bool oka = false, okb = false;
      const bool more = next_esmtp_param(a, pa, oka);
      ASSERT_EQ(more, reference_param(b, pb, okb)) << list;
      if (!more) break;
      ASSERT_EQ(oka, okb) << list;
      ASSERT_EQ(a.data(), b.data()) << list;  // both stop at the same space
      if (oka) {
        ASSERT_EQ(pa.keyword, pb.keyword) << list;
        ASSERT_EQ(pa.has_value, pb.has_value) << list;
        ASSERT_EQ(pa.value, pb.value) << list;
      }
    }
  }
}

TEST(AddressTest, IequalsFoldsLettersOnly) {
  EXPECT_TRUE(iequals("SIZE", "size"));
  EXPECT_TRUE(iequals("8BitMime", "8BITMIME"));
  EXPECT_TRUE(iequals("FROM:", "FROM:"));
  EXPECT_FALSE(iequals("FROM:", std::string_view("FROM\x1a", 5)));  // 0x1a | 0x20 is ':', but not a letter
  EXPECT_FALSE(iequals("@", "`"));
  EXPECT_FALSE(iequals("SIZE", "SIZ"));
}

}  // namespace
}  // namespace mxdp::smtp
