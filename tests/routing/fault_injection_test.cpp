// Proves the stress test can fail: the same seed scenario, with one clone
// skipped on the referral path (RouterConfig::fault_skip_referral_clone: the
// exact bug of DESIGN.md), must die: ASan reports the use after free, or, in
// builds without ASan, the debug magic check or the constructed/destroyed
// check aborts. The control run without the fault must exit cleanly.
#include <gtest/gtest.h>

#include "routing/message.hpp"
#include "tests/routing/router_harness.hpp"

namespace mxdp::routing {
namespace {

void scenario(bool fault) {
  test::ScenarioParams p;
  p.messages = 300;
  p.fault_skip_referral_clone = fault;
  p.deadline = std::chrono::seconds(60);
  test::check_or_die(test::run_seed_scenario(p));
}

TEST(FaultInjectionDeathTest, SkippedCloneOnTheReferralPathIsCaught) {
  if constexpr (!debug::kCounters)
    GTEST_SKIP() << "fault injection exists in debug and sanitizer builds only";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // What catches it: ASan's report, the debug magic check (builds without
  // ASan keep freed messages in a quarantine), or the end-of-run accounting.
  EXPECT_DEATH(scenario(true), "heap-use-after-free|used after its Message was freed|seed scenario FAILED");
}

TEST(FaultInjectionDeathTest, ControlRunWithoutTheFaultExitsCleanly) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        scenario(false);
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace mxdp::routing
