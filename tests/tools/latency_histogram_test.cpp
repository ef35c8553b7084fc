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

TEST(LatencyHistogram, BucketsRoundTrip) {
  LatencyHistogram h;
  for (std::uint64_t v : {0ull, 5ull, 5ull, 127ull, 128ull, 1000ull, 1001ull, 123456789ull})
    h.record(v);
  auto buckets = h.buckets();
  ASSERT_FALSE(buckets.empty());
  EXPECT_TRUE(std::is_sorted(buckets.begin(), buckets.end(),
                             [](auto& a, auto& b) { return a.upper_ns < b.upper_ns; }));
  EXPECT_EQ(buckets.front(), (LatencyHistogram::Bucket{0, 1}));
  EXPECT_EQ(buckets[1], (LatencyHistogram::Bucket{5, 2}));
  auto back = LatencyHistogram::from_buckets(buckets, h.min(), h.max(),
                                             0 + 5 + 5 + 127 + 128 + 1000 + 1001 + 123456789ull);
  EXPECT_EQ(back.buckets(), buckets);
  EXPECT_EQ(back.count(), h.count());
  EXPECT_EQ(back.min(), h.min());
  EXPECT_EQ(back.max(), h.max());
  EXPECT_DOUBLE_EQ(back.mean(), h.mean());
  for (double q : {0.0, 0.25, 0.5, 0.9, 0.99, 1.0})
    EXPECT_EQ(back.percentile(q), h.percentile(q)) << q;
}

TEST(LatencyHistogram, FromNoBucketsIsEmpty) {
  auto h = LatencyHistogram::from_buckets({}, 5, 7, 9);
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_TRUE(h.buckets().empty());
}

}  // namespace
}  // namespace mxdp::cli
