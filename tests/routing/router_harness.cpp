#include "tests/routing/router_harness.hpp"

#include <cstdio>
#include <cstdlib>

#include "routing/msg_ref.hpp"
#include "routing/owner.hpp"

namespace mxdp::routing::test {

namespace {

std::string mailbox_address(std::size_t i) {
  return "user" + std::to_string(i) + "@d" + std::to_string(i % 7) + ".example";
}
std::string referral_address(std::size_t i) {
  return "pf" + std::to_string(i) + "@lists.example";
}

// Writes addresses with random domain case: the directory must not care.
std::string random_case(std::string a, std::mt19937_64& rng) {
  const std::size_t at = a.rfind('@');
  for (std::size_t i = at + 1; i < a.size(); ++i) {
    if ((rng() & 1) && a[i] >= 'a' && a[i] <= 'z') a[i] = static_cast<char>(a[i] - 32);
  }
  return a;
}

}  // namespace

ScenarioReport run_seed_scenario(const ScenarioParams& p) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::uint64_t c0 = debug::messages_constructed(), d0 = debug::messages_destroyed();
  Directory dir(p.mailboxes + p.referrals + 16, p.shards + p.lcores + 8);
  std::vector<ServerId> servers;
  for (int i = 0; i < 3; ++i)
    servers.push_back(dir.intern_server("mx" + std::to_string(i) + ".remote.example"));
  for (std::size_t i = 0; i < p.mailboxes; ++i) {
    dir.upsert(mailbox_address(i), Entry::mailbox_on(ShardId{static_cast<std::uint16_t>(i % p.shards)},
                                                     MailboxId{static_cast<std::uint32_t>(i)}));
  }
  for (std::size_t i = 0; i < p.referrals; ++i)
    dir.upsert(referral_address(i), Entry::referral_to(servers[i % 3]));

  Ledger ledger;
  FakeRelay relay(p.shards, p.transient_percent, 0, 42);
  RouterConfig cfg;
  cfg.shard_count = p.shards;
  cfg.mailbox_log_bytes = 256 << 10;  // small: eviction runs all the time
  cfg.max_hops = 16;
  cfg.max_relay_attempts = 30;
  cfg.relay_backoff_initial = std::chrono::microseconds(50);
  cfg.relay_backoff_max = std::chrono::milliseconds(5);
  cfg.observer = &ledger;
  cfg.fault_skip_referral_clone = p.fault_skip_referral_clone;
  Router router(dir, relay, cfg);

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> moves{0};
  std::vector<std::unique_ptr<Owner>> owners;
  for (std::size_t l = 0; l < p.lcores; ++l)
    owners.push_back(std::make_unique<Owner>());

  std::vector<std::thread> threads;
  for (std::size_t l = 0; l < p.lcores; ++l) {
    threads.emplace_back([&, l] {
      OwnerScope scope(*owners[l]);
      std::mt19937_64 rng(1000 + l);
      std::vector<ShardId> mine;
      for (std::size_t s = l; s < p.shards; s += p.lcores)
        mine.push_back(ShardId{static_cast<std::uint16_t>(s)});
      std::uint64_t next = l;  // message ids l, l + lcores, ...
      const std::size_t addresses = p.mailboxes + p.referrals;
      while (!stop.load(std::memory_order_relaxed)) {
        std::size_t work = 0;
        for (ShardId s : mine) {
          for (int burst = 0; burst < 4 && next < p.messages; ++burst, next += p.lcores) {
            const unsigned n = 1 + static_cast<unsigned>(rng() % p.max_rcpts);
            std::vector<std::string> rcpts;
            for (unsigned k = 0; k < n; ++k) {
              const std::size_t a = rng() % addresses;
              rcpts.push_back(
                  random_case(a < p.mailboxes ? mailbox_address(a) : referral_address(a - p.mailboxes), rng));
            }
            ledger.expect(MessageId{next}, n);
            router.ingress(s, MessageId{next},
                           Envelope("sender" + std::to_string(next) + "@origin.example", rcpts),
                           Body::contiguous(std::string(64 + next % 512, 'b')));
            ++work;
          }
          work += router.poll(s);
        }
        if (work == 0) std::this_thread::yield();
      }
    });
  }
  // The admin: moves mailboxes between shards, to moved-to-shard entries and
  // off-box, thousands of times a second, while traffic flows.
  threads.emplace_back([&] {
    std::mt19937_64 rng(7);
    const auto period = std::chrono::nanoseconds(1'000'000'000 / std::max(1u, p.moves_per_second));
    auto next = std::chrono::steady_clock::now();
    while (!stop.load(std::memory_order_relaxed)) {
      const std::size_t i = rng() % p.mailboxes;
      const auto shard = ShardId{static_cast<std::uint16_t>(rng() % p.shards)};
      const auto mb = MailboxId{static_cast<std::uint32_t>(i)};
      const unsigned kind = static_cast<unsigned>(rng() % 10);
      const Entry e = kind < 6   ? Entry::mailbox_on(shard, mb)
                      : kind < 8 ? Entry::moved_to_shard(shard, mb)
                                 : Entry::moved_to_server(servers[rng() % 3]);
      dir.upsert(mailbox_address(i), e);
      moves.fetch_add(1, std::memory_order_relaxed);
      dir.reclaim_if_due();
      next += period;
      const auto now = std::chrono::steady_clock::now();
      if (next > now) {
        std::this_thread::sleep_until(next);
      } else if (now - next > std::chrono::milliseconds(50)) {
        next = now;  // do not burst to catch up after a stall
      }
    }
  });
  threads.emplace_back([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      if (relay.run_once(router) == 0) std::this_thread::yield();
    }
  });

  ScenarioReport rep;
  auto last_print = t0;
  for (;;) {
    const std::uint64_t got = ledger.outcomes.load(std::memory_order_acquire);
    const auto now = std::chrono::steady_clock::now();
    // All messages generated (every id < messages expected) and every
    // recipient has an outcome.
    if (ledger.expected.load(std::memory_order_relaxed) != 0 && got == ledger.expected.load() &&
        router.total_stats().accepted == p.messages) {
      break;
    }
    if (now - t0 > p.deadline) {
      rep.timed_out = true;
      break;
    }
    if (p.progress && now - last_print > std::chrono::seconds(10)) {
      last_print = now;
      std::fprintf(stderr, "stress: %llu messages accepted, %llu/%llu outcomes, %llu moves\n",
                   static_cast<unsigned long long>(router.total_stats().accepted),
                   static_cast<unsigned long long>(got),
                   static_cast<unsigned long long>(ledger.expected.load()),
                   static_cast<unsigned long long>(moves.load()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stop = true;
  for (auto& t : threads)
    t.join();
  // Quiescence: nothing may be left in the relay (every job was completed).
  while (!relay.idle())
    relay.run_once(router);
  router.shutdown_drain();

  rep.messages = router.total_stats().accepted;
  rep.expected_outcomes = ledger.expected.load();
  rep.outcomes = ledger.outcomes.load();
  rep.duplicates = ledger.duplicates.load();
  rep.unknown = ledger.unknown.load();
  rep.open_messages = ledger.open_messages();
  rep.delivered = ledger.by_outcome[0].load();
  rep.relayed = ledger.by_outcome[1].load();
  rep.bounced = ledger.by_outcome[2].load();
  rep.moves = moves.load();
  rep.totals = router.total_stats();
  rep.live = rep.totals.live;
  rep.constructed = debug::messages_constructed() - c0;
  rep.destroyed = debug::messages_destroyed() - d0;
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

void check_or_die(const ScenarioReport& r) {
  const bool ok = !r.timed_out && r.outcomes == r.expected_outcomes && r.duplicates == 0 && r.unknown == 0 &&
                  r.open_messages == 0 && r.live == 0 && r.constructed == r.destroyed;
  if (!ok) {
    std::fprintf(
        stderr,
        "seed scenario FAILED: timed_out=%d outcomes=%llu/%llu duplicates=%llu unknown=%llu open=%llu "
        "live=%lld constructed=%llu destroyed=%llu\n",
        r.timed_out, static_cast<unsigned long long>(r.outcomes),
        static_cast<unsigned long long>(r.expected_outcomes), static_cast<unsigned long long>(r.duplicates),
        static_cast<unsigned long long>(r.unknown), static_cast<unsigned long long>(r.open_messages),
        static_cast<long long>(r.live), static_cast<unsigned long long>(r.constructed),
        static_cast<unsigned long long>(r.destroyed));
    std::abort();
  }
}

}  // namespace mxdp::routing::test
