#include "tools/mxdp/command_line.hpp"

#include <gtest/gtest.h>

namespace mxdp::cli {
namespace {

using Args = std::vector<std::string>;

TEST(SplitEalArgs, WithoutSeparatorEverythingIsMxdp) {
  auto s = split_eal_args({"--duration", "3"});
  EXPECT_FALSE(s.had_separator);
  EXPECT_TRUE(s.eal.empty());
  EXPECT_EQ(s.mxdp, (Args{"--duration", "3"}));
}

TEST(SplitEalArgs, SeparatorSplitsEalFromMxdp) {
  auto s = split_eal_args({"--no-huge", "-l", "0-1", "--", "--duration", "3"});
  EXPECT_TRUE(s.had_separator);
  EXPECT_EQ(s.eal, (Args{"--no-huge", "-l", "0-1"}));
  EXPECT_EQ(s.mxdp, (Args{"--duration", "3"}));
}

TEST(SplitEalArgs, OnlyTheFirstSeparatorCounts) {
  auto s = split_eal_args({"-l", "0", "--", "a", "--", "b"});
  EXPECT_EQ(s.eal, (Args{"-l", "0"}));
  EXPECT_EQ(s.mxdp, (Args{"a", "--", "b"}));
}

TEST(SplitEalArgs, EmptyAndSeparatorOnly) {
  EXPECT_TRUE(split_eal_args({}).mxdp.empty());
  auto s = split_eal_args({"--"});
  EXPECT_TRUE(s.had_separator);
  EXPECT_TRUE(s.eal.empty());
  EXPECT_TRUE(s.mxdp.empty());
}

// The option sees the plain byte count; a bad size is a parse error that
// names the option (main.cpp turns it into exit code 2).
TEST(ByteSizeValidator, HandsTheOptionItsByteCount) {
  std::uint64_t bytes = 7;
  CLI::App app;
  app.add_option("--log", bytes)->transform(byte_size_validator(64u << 10, std::uint64_t{64} << 30));
  app.parse(Args{"256K", "--log"});  // CLI11 takes the arguments reversed
  EXPECT_EQ(bytes, 256u << 10);
  app.parse(Args{"--log=68719476736"});
  EXPECT_EQ(bytes, std::uint64_t{64} << 30);
}

TEST(ByteSizeValidator, BadSizesAreParseErrorsNamingTheOption) {
  for (const char* value : {"63K", "65G", "16X", "", "-1"}) {
    std::uint64_t bytes = 7;
    CLI::App app;
    app.add_option("--log", bytes)->transform(byte_size_validator(64u << 10, std::uint64_t{64} << 30));
    try {
      app.parse(Args{value, "--log"});
      ADD_FAILURE() << value << " was taken";
    } catch (const CLI::ParseError& e) {
      EXPECT_NE(std::string(e.what()).find("--log"), std::string::npos) << e.what();
    }
    EXPECT_EQ(bytes, 7u) << value;
  }
}

}  // namespace
}  // namespace mxdp::cli
