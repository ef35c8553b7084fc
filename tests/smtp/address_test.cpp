#include "smtp/address.hpp"

#include <gtest/gtest.h>

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
  EXPECT_EQ(parse_path("<" + std::string(65, 'a') + "@x.org>", false, false).error, PathError::kTooLong);
  EXPECT_EQ(parse_path("<a@" + std::string(250, 'b') + ".org>", false, false).error, PathError::kSyntax);
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

}  // namespace
}  // namespace mxdp::smtp
