// Router behaviour, single-threaded and deterministic: every shard is polled
// from the test thread (the cross-shard protocol still goes through rings and
// references, DESIGN.md), the fake relay completes when the test says so.
#include "routing/router.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "routing/owner.hpp"
#include "tests/routing/router_harness.hpp"

namespace mxdp::routing {
namespace {

using test::FakeRelay;
using test::Ledger;

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() : dir_(64), relay_(4, 0), scope_(owner_) {
    mx_ = dir_.intern_server("mx.remote.example");
    dir_.upsert("a@x.example", Entry::mailbox_on(ShardId{0}, MailboxId{1}));
    dir_.upsert("b@x.example", Entry::mailbox_on(ShardId{1}, MailboxId{2}));
    dir_.upsert("c@x.example", Entry::mailbox_on(ShardId{1}, MailboxId{3}));
    dir_.upsert("d@x.example", Entry::moved_to_shard(ShardId{2}, MailboxId{4}));
    dir_.upsert("pf@x.example", Entry::referral_to(mx_));
    dir_.upsert("gone@x.example", Entry::moved_to_server(mx_));
    cfg_.observer = &ledger_;
    cfg_.relay_backoff_initial = std::chrono::nanoseconds(0);
    cfg_.relay_backoff_max = std::chrono::nanoseconds(0);
    cfg_.max_relay_attempts = 3;
  }
  ~RouterTest() override {
    router_->shutdown_drain();
    EXPECT_EQ(router_->total_stats().live, 0);
  }
  void make_router() { router_ = std::make_unique<Router>(dir_, relay_, cfg_); }
  IngressResult send(std::uint64_t id, std::vector<std::string> rcpts, ShardId at = ShardId{0}) {
    ledger_.expect(MessageId{id}, rcpts.size());
    return router_->ingress(at, MessageId{id}, Envelope{"s@origin.example", std::move(rcpts)},
                            Body::contiguous("body"));
  }
  void poll_all(int rounds = 3) {
    for (int i = 0; i < rounds; ++i) {
      for (std::uint16_t s = 0; s < 4; ++s)
        router_->poll(ShardId{s});
      relay_.run_once(*router_);
    }
  }

  Directory dir_;
  FakeRelay relay_;
  Owner owner_;
  OwnerScope scope_;
  Ledger ledger_;
  ServerId mx_;
  RouterConfig cfg_;
  std::unique_ptr<Router> router_;
};

TEST_F(RouterTest, ResolvesDeliversHandsOffAndRelays) {
  make_router();
  const IngressResult r = send(1, {"a@x.example", "b@X.EXAMPLE", "c@x.example", "d@x.example", "pf@x.example",
                                   "gone@x.example", "nobody@x.example"});
  ASSERT_EQ(r.status, IngressStatus::kAccepted);
  EXPECT_EQ(r.rcpts,
            (std::vector<RcptRoute>{RcptRoute::kDelivered, RcptRoute::kHandedOff, RcptRoute::kHandedOff,
                                    RcptRoute::kHandedOff, RcptRoute::kRelaying, RcptRoute::kRelaying,
                                    RcptRoute::kBounced}));
  const ShardStats s0 = router_->shard(ShardId{0}).stats();
  EXPECT_EQ(s0.accepted, 1u);
  EXPECT_EQ(s0.delivered, 1u);
  EXPECT_EQ(s0.handed_off, 2u);  // one reference for shard 1 (b and c), one for shard 2 (d)
  EXPECT_EQ(s0.referred, 1u);
  EXPECT_EQ(s0.moved_off_box, 1u);
  EXPECT_EQ(s0.bounced, 1u);
  EXPECT_EQ(relay_.submitted.load(), 2u);  // pf and gone share a server but not a reason: 2 jobs
  poll_all();
  EXPECT_EQ(router_->shard(ShardId{1}).stats().delivered, 2u);
  EXPECT_EQ(router_->shard(ShardId{2}).stats().delivered, 1u);
  // The directory did not change: both receivers delivered with shard 0's lookups.
  EXPECT_EQ(router_->shard(ShardId{1}).stats().handoffs_resolved, 1u);
  EXPECT_EQ(router_->shard(ShardId{2}).stats().handoffs_resolved, 1u);
  EXPECT_EQ(router_->total_stats().relayed, 2u);
  EXPECT_EQ(ledger_.outcomes.load(), 7u);
  EXPECT_EQ(ledger_.duplicates.load(), 0u);
  auto bounces = router_->shard(ShardId{0}).take_bounces();
  ASSERT_EQ(bounces.size(), 1u);
  EXPECT_EQ(bounces[0].status, "5.1.1");
  EXPECT_EQ(bounces[0].recipient, "nobody@x.example");
  EXPECT_EQ(bounces[0].reverse_path, "s@origin.example");
}

TEST_F(RouterTest, RecipientMovedInFlightIsForwardedOnce) {
  make_router();
  send(2, {"b@x.example"});
  dir_.upsert("b@x.example", Entry::mailbox_on(ShardId{3}, MailboxId{2}));  // moves while in the ring
  poll_all();
  EXPECT_EQ(router_->shard(ShardId{1}).stats().forwarded, 1u);
  EXPECT_EQ(router_->shard(ShardId{3}).stats().delivered, 1u);
  EXPECT_EQ(router_->shard(ShardId{1}).stats().delivered, 0u);
  // Shard 1 saw the epoch move on and looked b@ up again; shard 3 could use
  // shard 1's fresh lookup.
  EXPECT_EQ(router_->shard(ShardId{1}).stats().handoffs_resolved, 0u);
  EXPECT_EQ(router_->shard(ShardId{3}).stats().handoffs_resolved, 1u);
  EXPECT_EQ(ledger_.open_messages(), 0u);
}

TEST_F(RouterTest, HandoffsCarryManyRecipientsAndTheirMailboxes) {
  // More recipients for one shard than a hand-off holds inline.
  for (int i = 0; i < 9; ++i)
    dir_.upsert("m" + std::to_string(i) + "@x.example", Entry::mailbox_on(ShardId{1}, MailboxId{100u + i}));
  make_router();
  std::vector<std::string> rcpts;
  for (int i = 0; i < 9; ++i)
    rcpts.push_back("m" + std::to_string(i) + "@x.example");
  send(5, rcpts);
  poll_all();
  EXPECT_EQ(router_->shard(ShardId{1}).stats().delivered, 9u);
  EXPECT_EQ(router_->shard(ShardId{1}).stats().handoffs_resolved, 1u);
  for (int i = 0; i < 9; ++i)
    EXPECT_EQ(router_->shard(ShardId{1}).store().counters(MailboxId{100u + i}).messages, 1u) << i;
  EXPECT_EQ(ledger_.open_messages(), 0u);
}

TEST_F(RouterTest, MovedOffBoxInFlightGoesToTheRelay) {
  make_router();
  send(3, {"b@x.example"});
  dir_.upsert("b@x.example", Entry::moved_to_server(mx_));
  poll_all();
  EXPECT_EQ(router_->shard(ShardId{1}).stats().moved_off_box, 1u);
  EXPECT_EQ(router_->total_stats().relayed, 1u);
}

TEST_F(RouterTest, ChasingARecipientIsBoundedAndBouncesAsALoop) {
  cfg_.max_hops = 3;
  make_router();
  send(4, {"b@x.example"});
  // The recipient moves every time the message arrives: 1 -> 2 -> 3 -> 1 ...
  for (std::uint16_t hop = 0; hop < 6; ++hop) {
    const auto at = ShardId{static_cast<std::uint16_t>(1 + hop % 3)};
    const auto to = ShardId{static_cast<std::uint16_t>(1 + (hop + 1) % 3)};
    dir_.upsert("b@x.example", Entry::mailbox_on(to, MailboxId{2}));
    router_->poll(at);
  }
  const ShardStats t = router_->total_stats();
  EXPECT_EQ(t.delivered, 0u);
  EXPECT_EQ(t.bounced, 1u);
  EXPECT_EQ(ledger_.by_outcome[static_cast<int>(Outcome::kBounced)].load(), 1u);
  bool found = false;
  for (std::uint16_t s = 0; s < 4; ++s) {
    for (const BounceRecord& b : router_->shard(ShardId{s}).take_bounces())
      found |= b.status == "5.4.6";
  }
  EXPECT_TRUE(found);
}

TEST(RouterRelay, TransientFailuresRetryThenBounceWithoutLosingTheReference) {
  Directory dir(8);
  const ServerId mx = dir.intern_server("mx.remote.example");
  dir.upsert("pf@x.example", Entry::referral_to(mx));
  FakeRelay always_fails(1, 100);
  Ledger ledger;
  RouterConfig cfg;
  cfg.shard_count = 1;
  cfg.observer = &ledger;
  cfg.max_relay_attempts = 4;
  cfg.relay_backoff_initial = std::chrono::microseconds(1);
  cfg.relay_backoff_max = std::chrono::microseconds(4);
  Owner owner;
  OwnerScope scope(owner);
  Router router(dir, always_fails, cfg);
  ledger.expect(MessageId{1}, 1);
  router.ingress(ShardId{0}, MessageId{1}, Envelope{"s@o", {"pf@x.example"}}, Body::contiguous("x"));
  for (int i = 0; i < 2000 && ledger.outcomes.load() == 0; ++i) {
    router.poll(ShardId{0});
    always_fails.run_once(router);
  }
  EXPECT_EQ(always_fails.submitted.load(), 4u);
  EXPECT_EQ(router.total_stats().relay_retries, 3u);
  const auto b = router.shard(ShardId{0}).take_bounces();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].status, "5.4.7");
  router.shutdown_drain();
  EXPECT_EQ(router.total_stats().live, 0);
}

// A lent body (packet buffers on DPDK) whose release the test can see.
struct Lender {
  static constexpr std::string_view kBytes = "Subject: lent\r\n\r\nbody over two segments\r\n";
  int releases = 0;
  Body lend() {
    const BodySegment parts[2] = {
        {reinterpret_cast<const std::byte*>(kBytes.data()), 20},
        {reinterpret_cast<const std::byte*>(kBytes.data()) + 20, kBytes.size() - 20}};
    return Body::borrowed(
        parts, [](void* self) noexcept { ++static_cast<Lender*>(self)->releases; }, this);
  }
};

std::string body_bytes(const Message& m) {
  std::string out;
  for (const BodySegment& s : m.body().segments())
    out.append(reinterpret_cast<const char*>(s.data), s.size);
  return out;
}

// Records the body each relay outcome was reported with.
struct BodyAtOutcome final : DeliveryObserver {
  std::vector<std::string> bodies;
  void on_outcome(const Message& m, std::uint32_t, Outcome o, ShardId) noexcept override {
    if (o == Outcome::kRelayed || o == Outcome::kBounced) bodies.push_back(body_bytes(m));
  }
};

TEST(RouterRelay, AJobWaitingForARetryHoldsNoLentBuffers) {
  Directory dir(8);
  dir.upsert("pf@x.example", Entry::referral_to(dir.intern_server("mx.remote.example")));
  FakeRelay always_fails(1, 100);
  BodyAtOutcome seen;
  RouterConfig cfg;
  cfg.shard_count = 1;
  cfg.observer = &seen;
  cfg.max_relay_attempts = 3;
  cfg.relay_backoff_initial = std::chrono::hours(1);  // the retry waits: nothing else may happen meanwhile
  Owner owner;
  OwnerScope scope(owner);
  Router router(dir, always_fails, cfg);
  Lender lender;
  router.ingress(ShardId{0}, MessageId{7}, Envelope{"s@o", {"pf@x.example"}}, lender.lend());
  EXPECT_EQ(lender.releases, 0);  // the relay job holds the lent body
  always_fails.run_once(router);  // 451: back to the router
  router.poll(ShardId{0});        // parked for a retry an hour away
  EXPECT_EQ(lender.releases, 1);  // ... holding a copy, not the lender's buffers
  EXPECT_EQ(router.total_stats().relay_bodies_copied, 1u);
  EXPECT_EQ(router.total_stats().live, 1);  // the copy
  router.shutdown_drain();
  EXPECT_EQ(router.total_stats().live, 0);
}

// Takes jobs only when open; the test completes them.
class GateRelay final : public Relay {
 public:
  bool open = false;
  std::vector<RelayJob> taken;
  bool submit(RelayJob& job) noexcept override {
    if (!open) return false;
    taken.push_back(std::move(job));
    return true;
  }
};

TEST(RouterRelay, AJobParkedForABusyRelayHoldsNoLentBuffersAndKeepsItsBytes) {
  Directory dir(8);
  dir.upsert("pf@x.example", Entry::referral_to(dir.intern_server("mx.remote.example")));
  dir.upsert("local@x.example", Entry::mailbox_on(ShardId{0}, MailboxId{1}));
  GateRelay busy;
  BodyAtOutcome seen;
  RouterConfig cfg;
  cfg.shard_count = 1;
  cfg.observer = &seen;
  Owner owner;
  OwnerScope scope(owner);
  Router router(dir, busy, cfg);
  Lender lender;
  // One recipient delivered here, one referred: the message lives on in the
  // mailbox log (which keeps the lender's buffers, within its budget) and in the
  // parked job (which must not).
  router.ingress(ShardId{0}, MessageId{8}, Envelope{"s@o", {"local@x.example", "pf@x.example"}},
                 lender.lend());
  router.poll(ShardId{0});
  EXPECT_EQ(router.total_stats().relay_bodies_copied, 1u);
  EXPECT_EQ(router.total_stats().delivered, 1u);
  EXPECT_EQ(router.total_stats().live, 2);  // the logged original and the parked copy
  busy.open = true;
  router.poll(ShardId{0});  // the parked job goes out
  ASSERT_EQ(busy.taken.size(), 1u);
  EXPECT_FALSE(busy.taken[0].msg->body().is_borrowed());
  EXPECT_EQ(busy.taken[0].msg->id(), MessageId{8});
  EXPECT_EQ(busy.taken[0].msg->envelope().recipient(busy.taken[0].rcpts.at(0)), "pf@x.example");
  RelayCompletion done{std::move(busy.taken[0]), RelayOutcome::kDelivered, "250 ok"};
  busy.taken.clear();
  ASSERT_TRUE(router.complete(done));
  router.poll(ShardId{0});
  ASSERT_EQ(seen.bodies.size(), 1u);
  EXPECT_EQ(seen.bodies[0], Lender::kBytes);
  EXPECT_EQ(router.total_stats().relayed, 1u);
  router.shutdown_drain();
  EXPECT_EQ(lender.releases, 1);
  EXPECT_EQ(router.total_stats().live, 0);
}

TEST(RouterRelay, JobsWaitingForATargetAreCountedAndBounded) {
  Directory dir(8);
  const ServerId mx = dir.intern_server("mx.remote.example");
  const ServerId other = dir.intern_server("mx.other.example");
  dir.upsert("pf@x.example", Entry::referral_to(mx));
  GateRelay busy;
  RouterConfig cfg;
  cfg.shard_count = 2;
  cfg.max_relay_waiting_per_target = 3;
  Owner owner;
  OwnerScope scope(owner);
  Router router(dir, busy, cfg);
  for (std::uint64_t i = 0; i < 3; ++i) {
    EXPECT_FALSE(router.relay_target_full(mx));
    router.ingress(ShardId{static_cast<std::uint16_t>(i % 2)}, MessageId{i},
                   Envelope{"s@o", {"pf@x.example"}}, Body::contiguous("x"));
  }
  EXPECT_EQ(router.relay_waiting(mx), 3u);  // parked on both shards
  EXPECT_TRUE(router.relay_target_full(mx));
  EXPECT_FALSE(router.relay_target_full(other));
  busy.open = true;
  router.poll(ShardId{0});
  router.poll(ShardId{1});
  EXPECT_EQ(router.relay_waiting(mx), 0u);
  EXPECT_FALSE(router.relay_target_full(mx));
  // Waiting for a retry counts as well, until the retry goes out.
  busy.open = false;
  const ShardId origin = busy.taken[0].origin;
  RelayCompletion failed{std::move(busy.taken[0]), RelayOutcome::kTransientFailure, "451 later"};
  ASSERT_TRUE(router.complete(failed));
  router.poll(origin);  // a retry 100 ms away
  EXPECT_EQ(router.relay_waiting(mx), 1u);
  busy.taken.clear();  // the relay's jobs go with the owner's thread still here
  router.shutdown_drain();
  EXPECT_EQ(router.relay_waiting(mx), 0u);
}

TEST(RouterRelay, PermanentFailureBouncesAtOnce) {
  Directory dir(8);
  dir.upsert("pf@x.example", Entry::referral_to(dir.intern_server("mx")));
  FakeRelay refuses(1, 0, 100);
  RouterConfig cfg;
  cfg.shard_count = 1;
  Owner owner;
  OwnerScope scope(owner);
  Router router(dir, refuses, cfg);
  router.ingress(ShardId{0}, MessageId{1}, Envelope{"s@o", {"pf@x.example"}}, Body::contiguous("x"));
  refuses.run_once(router);
  router.poll(ShardId{0});
  EXPECT_EQ(router.total_stats().bounced, 1u);
  EXPECT_EQ(router.shard(ShardId{0}).take_bounces().at(0).status, "5.0.0");
  router.shutdown_drain();
}

TEST(RouterIngress, RejectsWhatItCannotAccept) {
  Directory dir(8);
  FakeRelay relay(1, 0);
  RouterConfig cfg;
  cfg.shard_count = 1;
  Router router(dir, relay, cfg);
  EXPECT_EQ(router.ingress(ShardId{0}, MessageId{1}, Envelope{"s@o", {"a@b"}}, Body{}).status,
            IngressStatus::kNoOwner);
  Owner owner;
  OwnerScope scope(owner);
  EXPECT_EQ(router.ingress(ShardId{5}, MessageId{1}, Envelope{"s@o", {"a@b"}}, Body{}).status,
            IngressStatus::kBadShard);
  EXPECT_EQ(router.ingress(ShardId{0}, MessageId{1}, Envelope{"s@o", {}}, Body{}).status,
            IngressStatus::kNoRecipients);
}

TEST(RouterRings, FullRingsBacklogInsteadOfDropping) {
  Directory dir(8);
  dir.upsert("b@x.example", Entry::mailbox_on(ShardId{1}, MailboxId{2}));
  FakeRelay relay(2, 0);
  Ledger ledger;
  RouterConfig cfg;
  cfg.shard_count = 2;
  cfg.observer = &ledger;
  Owner owner;
  OwnerScope scope(owner);
  Router router(dir, relay, cfg);
  const std::uint64_t n = kHandoffRingSize * 3;
  for (std::uint64_t i = 0; i < n; ++i) {
    ledger.expect(MessageId{i}, 1);
    router.ingress(ShardId{0}, MessageId{i}, Envelope{"s@o", {"b@x.example"}}, Body::contiguous("x"));
  }
  for (int i = 0; i < 100 && ledger.outcomes.load() < n; ++i) {
    router.poll(ShardId{0});
    router.poll(ShardId{1});
  }
  EXPECT_EQ(router.shard(ShardId{1}).stats().delivered, n);
  EXPECT_EQ(ledger.open_messages(), 0u);
  router.shutdown_drain();
  EXPECT_EQ(router.total_stats().live, 0);
}

// The RCPT lookups reused at ingress (PriorLookups): taken while the directory
// is unchanged, ignored as soon as any change completed since they were made.
TEST_F(RouterTest, PriorLookupsAreUsedOnlyWhileTheDirectoryIsUnchanged) {
  make_router();
  {
    const std::uint64_t epoch = dir_.epoch();
    const std::vector<Lookup> rcpt = {dir_.lookup("a@x.example"), dir_.lookup("b@x.example")};
    const IngressOptions prior{{epoch, rcpt}};
    ledger_.expect(MessageId{1}, 2);
    const IngressResult r =
        router_->ingress(ShardId{0}, MessageId{1}, Envelope{"s@o", {"a@x.example", "b@x.example"}},
                         Body::contiguous("x"), prior);
    EXPECT_EQ(r.rcpts, (std::vector<RcptRoute>{RcptRoute::kDelivered, RcptRoute::kHandedOff}));
    EXPECT_EQ(router_->shard(ShardId{0}).stats().lookups_reused, 1u);
  }
  {
    // a@ moves to shard 3 after its RCPT lookup: the stale "shard 0" must not
    // be delivered locally; ingress looks up again and hands it to shard 3.
    const std::uint64_t epoch = dir_.epoch();
    const std::vector<Lookup> rcpt = {dir_.lookup("a@x.example")};
    ASSERT_EQ(dir_.upsert("a@x.example", Entry::moved_to_shard(ShardId{3}, MailboxId{1})),
              DirectoryStatus::kOk);
    EXPECT_NE(dir_.epoch(), epoch);
    const IngressOptions prior{{epoch, rcpt}};
    ledger_.expect(MessageId{2}, 1);
    const IngressResult r = router_->ingress(ShardId{0}, MessageId{2}, Envelope{"s@o", {"a@x.example"}},
                                             Body::contiguous("x"), prior);
    EXPECT_EQ(r.rcpts, (std::vector<RcptRoute>{RcptRoute::kHandedOff}));
    EXPECT_EQ(router_->shard(ShardId{0}).stats().lookups_reused, 1u);
  }
  {
    // A prior list that does not cover every recipient is not used.
    const std::vector<Lookup> rcpt = {dir_.lookup("c@x.example")};
    const IngressOptions prior{{dir_.epoch(), rcpt}, false};
    ledger_.expect(MessageId{3}, 2);
    const IngressResult r =
        router_->ingress(ShardId{0}, MessageId{3}, Envelope{"s@o", {"c@x.example", "pf@x.example"}},
                         Body::contiguous("x"), prior);
    EXPECT_EQ(router_->shard(ShardId{0}).stats().lookups_reused, 1u);
    EXPECT_TRUE(r.rcpts.empty());  // routes not asked for
  }
  poll_all();
  EXPECT_EQ(router_->shard(ShardId{3}).stats().delivered, 1u);
}

}  // namespace
}  // namespace mxdp::routing
