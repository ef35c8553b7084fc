// The split count's protocol, every body run twice: on std::atomic with real
// threads (repeated; TSan watches) and on the deterministic scheduler over all
// interleavings (tests/routing/deterministic_schedule.hpp).
#include "routing/biased_count.hpp"

#include <gtest/gtest.h>

#include "tests/routing/deterministic_schedule.hpp"

namespace mxdp::routing {
namespace {

using test::DetAtomic;
using test::Runner;

// Applies a release result the way MsgRef and Owner do: frees are counted,
// a queue request sets the "in the owner's merge queue" flag (the owner merges
// at quiescence, as its next poll would).
template <template <typename> class Atom>
struct Outcomes {
  Atom<int> frees{0};
  Atom<int> queued{0};
  void apply(ReleaseResult r) {
    if (r == ReleaseResult::kFree) frees.fetch_add(1);
    if (r == ReleaseResult::kQueueForMerge) queued.fetch_add(1);
  }
};

// Owner holds 1 reference and handed 2 (owner clones) to two remote threads;
// all three release concurrently. Exactly one free, at most one queueing.
template <template <typename> class Atom>
void owner_release_races_two_remote_releases() {
  BiasedCount<Atom> c;
  c.owner_clone();
  c.owner_clone();
  Outcomes<Atom> o;
  Runner<Atom>::run({[&] { o.apply(c.owner_release()); }, [&] { o.apply(c.remote_release()); },
                     [&] { o.apply(c.remote_release()); }});
  int frees = o.frees.load();
  const int queued = o.queued.load();
  ASSERT_LE(queued, 1);
  if (queued == 1) frees += c.merge() ? 1 : 0;  // the owner's next poll
  EXPECT_EQ(frees, 1);
}

// A remote thread clones its reference and both copies die remotely while the
// owner releases its own: references created on both sides.
template <template <typename> class Atom>
void remote_clone_then_releases_race_owner() {
  BiasedCount<Atom> c;
  c.owner_clone();  // one for the remote thread
  Outcomes<Atom> o;
  Runner<Atom>::run({[&] { o.apply(c.owner_release()); },
                     [&] {
                       c.remote_clone();
                       o.apply(c.remote_release());
                       o.apply(c.remote_release());
                     }});
  int frees = o.frees.load();
  if (o.queued.load() == 1) frees += c.merge() ? 1 : 0;
  EXPECT_EQ(frees, 1);
}

// The owner keeps releasing after a remote release queued the object: the
// owner's local count may pass zero while queued; merge() must still sum.
template <template <typename> class Atom>
void owner_releases_while_queued() {
  BiasedCount<Atom> c;
  c.owner_clone();
  c.owner_clone();  // local = 3: two stay with the owner, one goes remote
  Outcomes<Atom> o;
  Runner<Atom>::run({[&] {
                       o.apply(c.owner_release());
                       o.apply(c.owner_release());
                     },
                     [&] { o.apply(c.remote_release()); }});
  int frees = o.frees.load();
  if (o.queued.load() == 1) frees += c.merge() ? 1 : 0;
  EXPECT_EQ(frees, 1);
}

TEST(BiasedCount, OwnerOnlyNeverTouchesTheAtomic) {
  BiasedCount<> c;
  for (int i = 0; i < 10; ++i)
    c.owner_clone();
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(c.owner_release(), ReleaseResult::kKeep);
  EXPECT_EQ(c.shared_for_test(), 0);
  EXPECT_EQ(c.owner_release(), ReleaseResult::kFree);
}

TEST(BiasedCount, RemoteReleaseOfOwnerReferenceQueuesOnce) {
  BiasedCount<> c;
  c.owner_clone();
  c.owner_clone();
  EXPECT_EQ(c.remote_release(), ReleaseResult::kQueueForMerge);
  EXPECT_EQ(c.remote_release(), ReleaseResult::kKeep);  // already queued
  EXPECT_FALSE(c.merge());                              // the owner still holds one
  EXPECT_EQ(c.owner_release(), ReleaseResult::kFree);   // merged: via the atomic
}

TEST(BiasedCount, OnThreadsOwnerRacesRemotes) {
  test::repeat_on_threads(owner_release_races_two_remote_releases<std::atomic>, 300);
}
TEST(BiasedCount, OnThreadsRemoteCloneRacesOwner) {
  test::repeat_on_threads(remote_clone_then_releases_race_owner<std::atomic>, 300);
}
TEST(BiasedCount, OnThreadsOwnerReleasesWhileQueued) {
  test::repeat_on_threads(owner_releases_while_queued<std::atomic>, 300);
}

TEST(BiasedCount, AllInterleavingsOwnerRacesRemotes) {
  const std::size_t runs = test::explore_all(owner_release_races_two_remote_releases<DetAtomic>);
  EXPECT_GT(runs, 10u);
  std::printf("explored %zu interleavings\n", runs);
}
TEST(BiasedCount, AllInterleavingsRemoteCloneRacesOwner) {
  const std::size_t runs = test::explore_all(remote_clone_then_releases_race_owner<DetAtomic>);
  std::printf("explored %zu interleavings\n", runs);
}
TEST(BiasedCount, AllInterleavingsOwnerReleasesWhileQueued) {
  const std::size_t runs = test::explore_all(owner_releases_while_queued<DetAtomic>);
  std::printf("explored %zu interleavings\n", runs);
}

}  // namespace
}  // namespace mxdp::routing
