// Hazard pointers: protect racing retire and reclaim, each body run on
// std::atomic with real threads and on the deterministic scheduler over all
// interleavings. Objects count their "destructions" (folly HazptrTest style):
// a reader must never see a destroyed object, and every retired object is
// destroyed exactly once after cleanup.
#include "routing/hazard_pointer.hpp"

#include <gtest/gtest.h>

#include "tests/routing/deterministic_schedule.hpp"

namespace mxdp::routing {
namespace {

using test::DetAtomic;
using test::Runner;

// Bookkeeping (value, destroyed, the tallies below) uses plain std::atomic in
// both instantiations: it is not part of the algorithm under test, so it adds
// no scheduling points, and its values still follow the explored order.
template <template <typename> class Atom>
struct Obj {
  explicit Obj(int v) : value(v) {}
  std::atomic<int> value;
  std::atomic<int> destroyed{0};  // set by the deleter instead of freeing (checked after)
};

template <template <typename> class Atom>
void mark_destroyed(void* p) {
  static_cast<Obj<Atom>*>(p)->destroyed.fetch_add(1);
}

// Reader protects and reads the current object; writer swaps in a new one,
// retires the old one and reclaims at once.
template <template <typename> class Atom>
void protect_races_retire_and_reclaim() {
  HazardDomain<Atom> domain(1, std::chrono::hours(1));
  Obj<Atom> a(1), b(2);
  Atom<Obj<Atom>*> src(&a);
  HazardPointer<Atom> hp(domain);
  std::atomic<int> seen_destroyed{0};
  std::atomic<std::size_t> reclaimed{0};
  Runner<Atom>::run({[&] {
                       Obj<Atom>* p = hp.protect(src);
                       const int v = p->value.load();
                       if (v != 1 && v != 2) seen_destroyed.fetch_add(1);
                       // Still protected: after any number of writer steps
                       // (the scheduler interleaves them before the reset).
                       test::DetScheduler::yield_point();
                       if (p->destroyed.load() != 0) seen_destroyed.fetch_add(1);
                       hp.reset();
                     },
                     [&] {
                       src.store(&b);
                       domain.retire(&a, &mark_destroyed<Atom>);
                       reclaimed.fetch_add(domain.reclaim());
                     }});
  EXPECT_EQ(seen_destroyed.load(), 0);
  // After the reader reset, a final scan frees whatever was still protected.
  std::size_t total = reclaimed.load() + domain.reclaim();
  EXPECT_EQ(total, 1u);
  EXPECT_EQ(a.destroyed.load(), 1);
  EXPECT_EQ(b.destroyed.load(), 0);
}

// Two readers, two successive replacements; a stalled reader (one that keeps
// its hazard) pins only the object it protects.
template <template <typename> class Atom>
void two_readers_two_retires() {
  HazardDomain<Atom> domain(2, std::chrono::hours(1));
  Obj<Atom> a(1), b(2), c(3);
  Atom<Obj<Atom>*> src(&a);
  HazardPointer<Atom> h1(domain), h2(domain);
  std::atomic<int> bad{0};
  Obj<Atom>* held = nullptr;
  Runner<Atom>::run({[&] {
                       Obj<Atom>* p = h1.protect(src);
                       if (p->destroyed.load() != 0) bad.fetch_add(1);
                       h1.reset();
                     },
                     [&] {
                       held = h2.protect(src);  // stalls: keeps it
                       if (held->destroyed.load() != 0) bad.fetch_add(1);
                     },
                     [&] {
                       src.store(&b);
                       domain.retire(&a, &mark_destroyed<Atom>);
                       src.store(&c);
                       domain.retire(&b, &mark_destroyed<Atom>);
                       domain.reclaim();
                     }});
  EXPECT_EQ(bad.load(), 0);
  domain.reclaim();
  // Everything retired except what the stalled reader holds is gone.
  EXPECT_EQ(held->destroyed.load(), 0);
  EXPECT_EQ(a.destroyed.load() + b.destroyed.load(), held == &c ? 2 : 1);
  h2.reset();
  domain.reclaim();
  EXPECT_EQ(a.destroyed.load(), 1);
  EXPECT_EQ(b.destroyed.load(), 1);
  EXPECT_EQ(c.destroyed.load(), 0);
}

TEST(HazardPointer, OnThreadsProtectRacesRetire) {
  test::repeat_on_threads(protect_races_retire_and_reclaim<std::atomic>, 300);
}
TEST(HazardPointer, OnThreadsTwoReadersTwoRetires) {
  test::repeat_on_threads(two_readers_two_retires<std::atomic>, 300);
}

TEST(HazardPointer, AllInterleavingsProtectRacesRetire) {
  std::printf("explored %zu interleavings\n", test::explore_all(protect_races_retire_and_reclaim<DetAtomic>));
}
// Three threads and ~30 scheduling points: all interleavings with up to 2
// preemptions (CHESS's observation: most concurrency bugs need 1 or 2).
TEST(HazardPointer, BoundedInterleavingsTwoReadersTwoRetires) {
  std::printf("explored %zu interleavings\n", test::explore_all(two_readers_two_retires<DetAtomic>, 2));
}

struct Counted {
  static inline std::atomic<int> dtors{0};
  ~Counted() { dtors.fetch_add(1); }
};

TEST(HazardPointer, BatchThresholdScansWithoutExplicitReclaim) {
  Counted::dtors = 0;
  HazardDomain<> domain(8);
  EXPECT_EQ(domain.threshold(), 1000u);  // max(1000, 2 x 8)
  for (int i = 0; i < 1000; ++i)
    domain.retire_delete(new Counted);  // the 1000th triggers a scan
  EXPECT_EQ(domain.retired_count(), 0u);
  EXPECT_EQ(Counted::dtors.load(), 1000);
}

TEST(HazardPointer, TimeTriggerScans) {
  Counted::dtors = 0;
  HazardDomain<> domain(8);
  domain.retire_delete(new Counted);
  std::this_thread::sleep_for(HazardDomain<>::kScanInterval * 2);
  EXPECT_EQ(domain.reclaim_if_due(), 1u);
  EXPECT_EQ(Counted::dtors.load(), 1);
}

TEST(HazardPointer, ProtectedObjectSurvivesUntilReset) {
  Counted::dtors = 0;
  HazardDomain<> domain(8);
  auto* c = new Counted;
  std::atomic<Counted*> src{c};
  HazardPointer<> hp(domain);
  EXPECT_EQ(hp.protect(src), c);
  src.store(nullptr);
  domain.retire_delete(c);
  EXPECT_EQ(domain.reclaim(), 0u);
  EXPECT_EQ(Counted::dtors.load(), 0);
  hp.reset();
  EXPECT_EQ(domain.reclaim(), 1u);
  EXPECT_EQ(Counted::dtors.load(), 1);
}

TEST(HazardPointer, SlotExhaustionIsALoudStartUpError) {
  HazardDomain<> domain(2);
  HazardPointer<> a(domain), b(domain);
  EXPECT_THROW(HazardPointer<> c(domain), std::runtime_error);
}

TEST(HazardPointer, SlotsAreReusedAfterRelease) {
  HazardDomain<> domain(1);
  { HazardPointer<> a(domain); }
  HazardPointer<> b(domain);
  SUCCEED();
}

TEST(HazardPointer, ReportsWhichFencePathIsInUse) {
  std::printf("membarrier PRIVATE_EXPEDITED: %s\n",
              detail::heavy_barrier_available() ? "registered" : "unavailable (seq_cst fence fallback)");
  SUCCEED();
}

}  // namespace
}  // namespace mxdp::routing
