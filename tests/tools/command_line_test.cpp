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

}  // namespace
}  // namespace mxdp::cli
