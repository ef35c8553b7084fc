// The seed scenario of issue 4 (DESIGN.md, "The bug this design exists to make
// impossible"): ingress threads accept messages with 1..50 recipients over 4
// shards, 20% of recipients behind referrals, while an admin thread moves
// thousands of recipients per second between shards and off-box and a fake
// relay completes on its own thread, failing transiently 10% of the time.
//
// Checked at the end: every recipient of every message has exactly one
// outcome (independent ledger), messages constructed == destroyed, live == 0;
// ASan/TSan watch every access.
//
//   default run (label stress): 4000 messages
//   long run (label long):      MXDP_STRESS_MESSAGES (default 10^8), e.g.
//     ctest --preset asan -L long -R routing_stress_long --output-on-failure
//     MXDP_STRESS_MESSAGES=100000000 build/release/tests/routing/routing_stress_test
#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/routing/router_harness.hpp"

namespace mxdp::routing {
namespace {

TEST(RoutingStress, SeedScenario) {
  test::ScenarioParams p;
  p.messages = 4000;
  if (const char* env = std::getenv("MXDP_STRESS_MESSAGES")) {
    p.messages = std::strtoull(env, nullptr, 10);
    p.deadline = std::chrono::hours(48);
    p.progress = true;
  }
  const test::ScenarioReport r = test::run_seed_scenario(p);
  std::printf(
      "messages %llu, recipients %llu (delivered %llu, relayed %llu, bounced %llu), moves %llu, %.1f s, "
      "forwarded %llu, handed off %llu, relay retries %llu, evicted %llu\n",
      static_cast<unsigned long long>(r.messages), static_cast<unsigned long long>(r.expected_outcomes),
      static_cast<unsigned long long>(r.delivered), static_cast<unsigned long long>(r.relayed),
      static_cast<unsigned long long>(r.bounced), static_cast<unsigned long long>(r.moves), r.seconds,
      static_cast<unsigned long long>(r.totals.forwarded),
      static_cast<unsigned long long>(r.totals.handed_off),
      static_cast<unsigned long long>(r.totals.relay_retries),
      static_cast<unsigned long long>(r.totals.evicted));
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.messages, p.messages);
  EXPECT_EQ(r.outcomes, r.expected_outcomes);
  EXPECT_EQ(r.duplicates, 0u);
  EXPECT_EQ(r.unknown, 0u);
  EXPECT_EQ(r.open_messages, 0u);
  EXPECT_EQ(r.bounced, 0u);  // no removals, generous hop and retry limits
  EXPECT_EQ(r.totals.delivered, r.delivered);
  EXPECT_EQ(r.totals.relayed, r.relayed);
  // Each recipient resolved to a relay target ends relayed (no bounces here).
  EXPECT_EQ(r.totals.referred + r.totals.moved_off_box, r.relayed);
  EXPECT_GT(r.totals.referred, 0u);
  EXPECT_GT(r.moves, 100u);
  EXPECT_EQ(r.live, 0);
  if constexpr (debug::kCounters) {
    EXPECT_EQ(r.constructed, r.messages);
    EXPECT_EQ(r.destroyed, r.messages);
  }
}

}  // namespace
}  // namespace mxdp::routing
