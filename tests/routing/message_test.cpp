#include "routing/message.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>
#include <type_traits>
#include <vector>

#include "routing/msg_ref.hpp"
#include "routing/owner.hpp"

namespace mxdp::routing {
namespace {

// The bug this layer exists to prevent must not compile.
static_assert(!std::is_copy_constructible_v<MsgRef>, "MsgRef must be move-only");
static_assert(!std::is_copy_assignable_v<MsgRef>, "MsgRef must be move-only");
static_assert(std::is_nothrow_move_constructible_v<MsgRef>);
static_assert(!std::is_constructible_v<MsgRef, Message*>, "no MsgRef from a raw pointer");
static_assert(!std::is_copy_constructible_v<Message> && !std::is_move_constructible_v<Message>);

Envelope envelope(int rcpts) {
  std::vector<std::string> r;
  for (int i = 0; i < rcpts; ++i)
    r.push_back("r" + std::to_string(i) + "@example.com");
  return Envelope("sender@example.org", r);
}

struct Counts {
  std::uint64_t c0 = debug::messages_constructed();
  std::uint64_t d0 = debug::messages_destroyed();
  std::uint64_t constructed() const { return debug::messages_constructed() - c0; }
  std::uint64_t destroyed() const { return debug::messages_destroyed() - d0; }
};

TEST(Message, OwnerCloneAndReleaseFreeExactlyOnce) {
  Owner owner;
  OwnerScope scope(owner);
  std::atomic<std::int64_t> live{0};
  Counts n;
  {
    MsgRef a = make_message(MessageId{1}, envelope(2), Body::contiguous("hello"), &live);
    EXPECT_EQ(live.load(), 1);
    MsgRef b = a.clone();
    MsgRef c = std::move(b);
    EXPECT_FALSE(b);  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_TRUE(c.same_message(a));
    EXPECT_EQ(c->envelope().recipient_count(), 2u);
    EXPECT_EQ(c->body().size(), 5u);
  }
  EXPECT_EQ(live.load(), 0);
  if constexpr (debug::kCounters) {
    EXPECT_EQ(n.constructed(), 1u);
    EXPECT_EQ(n.destroyed(), 1u);
  }
}

TEST(Message, RemoteReleasesGoThroughTheOwnersMergeQueue) {
  Owner owner;
  OwnerScope scope(owner);
  std::atomic<std::int64_t> live{0};
  MsgRef a = make_message(MessageId{2}, envelope(1), Body::contiguous("x"), &live);
  std::vector<MsgRef> handed;
  for (int i = 0; i < 8; ++i)
    handed.push_back(a.clone());
  std::thread remote([&] {
    for (auto& r : handed) {
      MsgRef more = r.clone();  // a remote clone: shared count
      r.reset();
    }
  });
  remote.join();
  EXPECT_TRUE(owner.has_pending());  // the count went negative: queued once
  EXPECT_EQ(owner.merge_pending(), 1u);
  EXPECT_EQ(live.load(), 1);  // `a` still holds it
  a.reset();
  EXPECT_EQ(live.load(), 0);
}

TEST(Message, LastReleaseOnARemoteThreadFrees) {
  Owner owner;
  std::atomic<std::int64_t> live{0};
  MsgRef far;
  {
    OwnerScope scope(owner);
    MsgRef a = make_message(MessageId{3}, envelope(1), Body::contiguous("x"), &live);
    far = a.clone();
  }  // owner's reference released: local count 1 (the one `far` holds)
  std::thread remote([&] { far.reset(); });
  remote.join();
  EXPECT_EQ(live.load(), 1);  // still queued for the owner to merge
  OwnerScope scope(owner);
  owner.merge_pending();
  EXPECT_EQ(live.load(), 0);
}

TEST(Message, BorrowedBodyReleaseHookRunsOnceAtDestruction) {
  Owner owner;
  OwnerScope scope(owner);
  static int released = 0;
  released = 0;
  const char data1[] = "Subject: hi\r\n\r\n";
  const char data2[] = "body\r\n";
  std::vector<BodySegment> segs{{reinterpret_cast<const std::byte*>(data1), sizeof data1 - 1},
                                {reinterpret_cast<const std::byte*>(data2), sizeof data2 - 1}};
  int context = 7;
  MsgRef m = make_message(
      MessageId{4}, envelope(1),
      Body::borrowed(
          std::move(segs), [](void* c) noexcept { released += *static_cast<int*>(c); }, &context));
  EXPECT_TRUE(m->body().is_borrowed());
  EXPECT_EQ(m->body().segments().size(), 2u);
  EXPECT_EQ(m->body().size(), sizeof data1 - 1 + sizeof data2 - 1);
  MsgRef m2 = m.clone();
  m.reset();
  EXPECT_EQ(released, 0);
  m2.reset();
  EXPECT_EQ(released, 7);
}

TEST(Message, BorrowedBodyBeyondTheInlineSegmentsSurvivesMoves) {
  static int released = 0;
  released = 0;
  const std::string text = "one.two.three.four";
  std::vector<BodySegment> segs;
  for (std::size_t at = 0; at < text.size(); at += 4)
    segs.push_back(
        {reinterpret_cast<const std::byte*>(text.data() + at), std::min<std::size_t>(4, text.size() - at)});
  ASSERT_GT(segs.size(), Body::kInlineSegments);
  Body b = Body::borrowed(
      segs, [](void*) noexcept { ++released; }, nullptr);
  Body c = std::move(b);
  EXPECT_EQ(b.segments().size(), 0u);
  std::string joined;
  for (const BodySegment& s : c.segments())
    joined.append(reinterpret_cast<const char*>(s.data), s.size);
  EXPECT_EQ(joined, text);
  EXPECT_EQ(c.size(), text.size());
  c = Body::borrowed(
      std::span<const BodySegment>(segs).first(1), [](void*) noexcept { released += 10; }, nullptr);
  EXPECT_EQ(released, 1);  // the spilled body was released when replaced
  EXPECT_EQ(c.segments().size(), 1u);
}

TEST(Message, LenderStateInsideTheBodyReachesItsHooksAfterMoves) {
  Owner owner;
  OwnerScope scope(owner);
  static std::vector<Body::LenderWords> released;
  static std::vector<Body::LenderWords> prefetched;
  released.clear();
  prefetched.clear();
  const char text[] = "body\r\n";
  const BodySegment seg{reinterpret_cast<const std::byte*>(text), sizeof text - 1};
  int a = 1, b = 2;
  const Body::LenderWords words{&a, &b, nullptr, &text};
  Body body = Body::borrowed_with_state(
      {&seg, 1}, words,
      [](void* w) noexcept { released.push_back(*static_cast<const Body::LenderWords*>(w)); }, 4096,
      [](const void* w) noexcept { prefetched.push_back(*static_cast<const Body::LenderWords*>(w)); });
  EXPECT_TRUE(body.is_borrowed());
  EXPECT_EQ(body.footprint(), 4096u);
  Body moved = std::move(body);  // the words move with the body, not stay behind
  MsgRef m = make_message(MessageId{9}, envelope(1), std::move(moved));
  m->body().prefetch_context();  // nothing apart to fetch: must not touch the words as a pointer
  m->body().prefetch_buffers();
  ASSERT_EQ(prefetched.size(), 1u);
  EXPECT_EQ(prefetched[0], words);
  EXPECT_TRUE(released.empty());
  m.reset();
  ASSERT_EQ(released.size(), 1u);  // once, with the words, from inside the message
  EXPECT_EQ(released[0], words);
}

TEST(Message, EnvelopeKeepsEveryAddressInOneBuffer) {
  EXPECT_EQ(Envelope().recipient_count(), 0u);
  EXPECT_EQ(Envelope().reverse_path(), "");
  EXPECT_EQ(Envelope().address_bytes(), 0u);
  const Envelope null_path("", {"postmaster"});  // "<>": the null reverse path
  EXPECT_EQ(null_path.reverse_path(), "");
  ASSERT_EQ(null_path.recipient_count(), 1u);
  EXPECT_EQ(null_path.recipient(0), "postmaster");
  std::vector<std::string> many;
  std::size_t bytes = std::string_view("s@origin.example").size();
  for (int i = 0; i < 300; ++i) {
    many.push_back("recipient" + std::to_string(i) + (i % 2 ? "@a.example" : ""));
    bytes += many.back().size();
  }
  Envelope e("s@origin.example", many);
  Envelope moved = std::move(e);
  const Envelope copy = moved;
  for (const Envelope* x : {static_cast<const Envelope*>(&moved), &copy}) {
    EXPECT_EQ(x->reverse_path(), "s@origin.example");
    ASSERT_EQ(x->recipient_count(), many.size());
    for (std::size_t i = 0; i < many.size(); ++i)
      EXPECT_EQ(x->recipient(i), many[i]) << i;
    EXPECT_EQ(x->address_bytes(), bytes);
  }
  const std::string_view views[] = {"a@b", "c@d"};
  const Envelope from_views("", views);
  EXPECT_EQ(from_views.recipient(1), "c@d");
  EXPECT_EQ(from_views.address_bytes(), 6u);
}

TEST(Message, ContiguousBodySegmentSurvivesMoves) {
  Body b = Body::contiguous("short");
  Body c = std::move(b);
  ASSERT_EQ(c.segments().size(), 1u);
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(c.segments()[0].data), c.segments()[0].size),
            "short");
}

TEST(Message, ManyThreadsCloneAndReleaseConcurrently) {
  Owner owner;
  std::atomic<std::int64_t> live{0};
  Counts n;
  std::vector<MsgRef> seeds;
  {
    OwnerScope scope(owner);
    for (int i = 0; i < 100; ++i) {
      seeds.push_back(
          make_message(MessageId{static_cast<std::uint64_t>(i)}, envelope(1), Body::contiguous("b"), &live));
    }
    std::vector<std::vector<MsgRef>> per_thread(3);
    for (auto& v : per_thread) {
      for (auto& s : seeds)
        v.push_back(s.clone());
    }
    seeds.clear();  // owner's references gone; only the threads' remain
    std::vector<std::thread> ts;
    for (auto& v : per_thread) {
      ts.emplace_back([&v] {
        for (int round = 0; round < 50; ++round) {
          for (auto& r : v) {
            MsgRef c = r.clone();
          }
        }
        v.clear();
      });
    }
    for (auto& t : ts)
      t.join();
    owner.merge_pending();
  }
  EXPECT_EQ(live.load(), 0);
  if constexpr (debug::kCounters) {
    EXPECT_EQ(n.constructed(), n.destroyed());
  }
}

#ifdef MXDP_DEBUG_COUNTERS
void release_twice() {
  Owner owner;
  OwnerScope scope(owner);
  MsgRef a = make_message(MessageId{9}, envelope(1), Body::contiguous("x"));
  MsgRef alias = FaultInjection::alias_without_reference(a);
  a.reset();      // frees: the alias was never counted
  alias.reset();  // use after free: ASan's report or the magic check aborts
}

TEST(MessageDeath, UseAfterFreeIsCaught) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(release_twice(), "");
}
#endif

}  // namespace
}  // namespace mxdp::routing
