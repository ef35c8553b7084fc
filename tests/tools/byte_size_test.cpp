#include "tools/mxdp/byte_size.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace mxdp::cli {
namespace {

constexpr std::uint64_t kMin = std::uint64_t{64} << 10;
constexpr std::uint64_t kMax = std::uint64_t{64} << 30;

// The size `text` parses to within [kMin, kMax], or 0 (and the error in `err`).
std::uint64_t parsed(const std::string& text, std::string* err = nullptr) {
  std::uint64_t bytes = 0;
  std::string e = parse_byte_size(text, kMin, kMax, bytes);
  if (err) *err = e;
  return e.empty() ? bytes : 0;
}

TEST(ParseByteSize, SuffixesAreBinaryInEitherCase) {
  struct Case {
    const char* text;
    std::uint64_t bytes;
  };
  for (const Case& c :
       {Case{"65536", 65536}, Case{"64K", 64u << 10}, Case{"256K", 256u << 10}, Case{"256k", 256u << 10},
        Case{"16M", 16u << 20}, Case{"16m", 16u << 20}, Case{"1G", std::uint64_t{1} << 30}, Case{"64g", kMax},
        Case{"1024M", 1u << 30}, Case{"68719476736", kMax}, Case{"0064K", 64u << 10}}) {
    EXPECT_EQ(parsed(c.text), c.bytes) << c.text;
  }
}

TEST(ParseByteSize, NotASizeSaysWhatIsExpected) {
  for (const char* text : {"", "K", "16MB", "16MiB", "16 M", " 16M", "16M ", "-1", "+5", "1.5M", "16T",
                           "0x10000", "sixteen", "16KK"}) {
    std::string err;
    EXPECT_EQ(parsed(text, &err), 0u) << text;
    EXPECT_NE(err.find("expected bytes, or a number with a K, M or G suffix"), std::string::npos) << text;
    EXPECT_NE(err.find("'" + std::string(text) + "'"), std::string::npos) << err;
  }
}

TEST(ParseByteSize, RangeIsInclusiveAndNamed) {
  std::string err;
  EXPECT_EQ(parsed("65535", &err), 0u);
  EXPECT_EQ(err, "'65535' is below the minimum 64K");
  EXPECT_EQ(parsed("63K", &err), 0u);
  EXPECT_EQ(err, "'63K' is below the minimum 64K");
  EXPECT_EQ(parsed("0", &err), 0u);
  EXPECT_NE(err.find("below the minimum"), std::string::npos);
  EXPECT_EQ(parsed("65G", &err), 0u);
  EXPECT_EQ(err, "'65G' is above the maximum 64G");
  EXPECT_EQ(parsed("68719476737", &err), 0u);
  EXPECT_NE(err.find("above the maximum"), std::string::npos);
}

TEST(ParseByteSize, HugeCountsDoNotWrapIntoRange) {
  // 2^54 G and 2^44 M are 2^84 and 2^64 bytes: shifted unchecked, both wrap
  // to 0; the others overflow before any suffix.
  for (const char* text :
       {"18014398509481984G", "17592186044416M", "99999999999999999999", "99999999999999999999K"}) {
    std::string err;
    EXPECT_EQ(parsed(text, &err), 0u) << text;
    EXPECT_NE(err.find("above the maximum 64G"), std::string::npos) << text << ": " << err;
  }
}

TEST(ParseByteSize, FailureLeavesTheValueAlone) {
  std::uint64_t bytes = 42;
  EXPECT_NE(parse_byte_size("1K", kMin, kMax, bytes), "");
  EXPECT_EQ(bytes, 42u);
}

TEST(FormatByteSize, LargestExactSuffix) {
  EXPECT_EQ(format_byte_size(16u << 20), "16M");
  EXPECT_EQ(format_byte_size(64u << 10), "64K");
  EXPECT_EQ(format_byte_size(kMax), "64G");
  EXPECT_EQ(format_byte_size(1536u << 10), "1536K");
  EXPECT_EQ(format_byte_size(1000), "1000");
  EXPECT_EQ(format_byte_size(0), "0");
}

TEST(FormatByteSize, ParsesBackToItself) {
  for (std::uint64_t bytes : {kMin, kMin + 1, std::uint64_t{16} << 20, std::uint64_t{3} << 30, kMax}) {
    std::uint64_t back = 0;
    EXPECT_EQ(parse_byte_size(format_byte_size(bytes), kMin, kMax, back), "") << bytes;
    EXPECT_EQ(back, bytes);
  }
}

}  // namespace
}  // namespace mxdp::cli
