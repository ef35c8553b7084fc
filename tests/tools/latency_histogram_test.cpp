#include "tools/mxdp/latency_histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace mxdp::cli {
namespace {

TEST(LatencyHistogram, EmptyIsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(0.99), 0u);
  EXPECT_EQ(h.min(), 0u);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (std::uint64_t v = 0; v < 100; ++v)
    h.record(v);
  EXPECT_EQ(h.percentile(0.5), 49u);
  EXPECT_EQ(h.percentile(1.0), 99u);
  EXPECT_EQ(h.min(), 0u);
}

TEST(LatencyHistogram, PercentilesWithinRelativeErrorOfExact) {
  std::mt19937_64 rng(1);
  std::lognormal_distribution<double> dist(10.0, 2.0);
  std::vector<std::uint64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 200000; ++i) {
    auto v = static_cast<std::uint64_t>(dist(rng));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    auto exact = values[static_cast<std::size_t>(std::ceil(q * values.size())) - 1];
    auto got = h.percentile(q);
    EXPECT_GE(got, exact) << q;
    EXPECT_LE(static_cast<double>(got), static_cast<double>(exact) * (1.0 + 1.0 / 128) + 1) << q;
  }
  EXPECT_EQ(h.max(), values.back());
}

TEST(LatencyHistogram, MergeEqualsRecordingTogether) {
  LatencyHistogram a, b, both;
  for (std::uint64_t v = 1; v < 1'000'000; v += 997) {
    (v % 2 ? a : b).record(v);
    both.record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), both.count());
  for (double q : {0.1, 0.5, 0.99})
    EXPECT_EQ(a.percentile(q), both.percentile(q));
  EXPECT_EQ(a.max(), both.max());
}

TEST(LatencyHistogram, HugeValues) {
  LatencyHistogram h;
  h.record(~0ull);
  h.record(1ull << 62);
  EXPECT_EQ(h.percentile(1.0), ~0ull);
}

}  // namespace
}  // namespace mxdp::cli
