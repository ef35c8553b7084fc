#include "tools/mxdp/progress.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace mxdp::cli {
namespace {

TEST(Progress, RecordsTheTimelineWhenNotPrinting) {
  Progress p(false);
  EXPECT_TRUE(p.timeline().empty());
  EXPECT_FALSE(p.due());
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 100; ++v)
    h.record(v * 1000);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  p.line(h, 100, 4, 100'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  p.line(LatencyHistogram{}, 150, 6, 150'000);

  ASSERT_EQ(p.timeline().size(), 2u);
  const TimelinePoint& a = p.timeline()[0];
  const TimelinePoint& b = p.timeline()[1];
  EXPECT_GT(a.t_s, 0.0);
  EXPECT_GT(b.t_s, a.t_s);
  EXPECT_GT(a.messages_per_s, 0.0);
  EXPECT_GT(a.gbit_per_s, 0.0);
  EXPECT_NEAR(static_cast<double>(a.p50_ns), 50'000.0, 500.0);
  EXPECT_NEAR(static_cast<double>(a.p99_ns), 99'000.0, 1000.0);
  // Counts are per interval, from the totals the caller passes.
  EXPECT_EQ(a.failed, 4u);
  EXPECT_EQ(b.failed, 2u);
  EXPECT_EQ(b.p50_ns, 0u);
  // The second interval moved half as many messages as the first over a similar time.
  EXPECT_LT(b.messages_per_s, a.messages_per_s * 2);
}

}  // namespace
}  // namespace mxdp::cli
