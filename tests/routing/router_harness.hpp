#pragma once
// Test support for the router: a fake relay that completes on its own thread
// (sometimes failing transiently), an independent outcome ledger, and the
// seed scenario of the stress test (issue 4) as a reusable function, so the
// fault-injection test runs exactly what the stress test runs.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "routing/directory.hpp"
#include "routing/relay.hpp"
#include "routing/router.hpp"
#include "routing/spsc_ring.hpp"

namespace mxdp::routing::test {

// Jobs arrive through one SPSC ring per origin shard (submit() runs on that
// shard's thread); run_once() runs on the relay thread and is the single
// producer of every completion.
class FakeRelay final : public Relay {
 public:
  FakeRelay(std::size_t shards, unsigned transient_percent, unsigned permanent_percent = 0,
            std::uint64_t seed = 1)
      : transient_(transient_percent), permanent_(permanent_percent), rng_(seed) {
    for (std::size_t i = 0; i < shards; ++i)
      queues_.push_back(std::make_unique<SpscRing<RelayJob, 1024>>());
  }

  bool submit(RelayJob& job) noexcept override {
    if (!queues_[job.origin.value]->push(std::move(job))) return false;
    submitted.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  std::size_t run_once(RelayCompletionSink& sink) {
    std::size_t work = 0;
    while (!held_.empty() && sink.complete(held_.front())) {
      held_.pop_front();
      ++work;
    }
    RelayJob jobs[16];
    for (auto& q : queues_) {
      const std::size_t n = q->pop_burst(jobs, 16);
      for (std::size_t i = 0; i < n; ++i) {
        // Touch the message like an SMTP client would (reads the envelope).
        std::size_t bytes = jobs[i].msg->envelope().reverse_path().size();
        for (std::uint32_t r : jobs[i].rcpts)
          bytes += jobs[i].msg->envelope().recipient(r).size();
        touched.fetch_add(bytes, std::memory_order_relaxed);
        RelayCompletion c{std::move(jobs[i]), RelayOutcome::kDelivered, "250 2.0.0 Ok"};
        const unsigned roll = static_cast<unsigned>(rng_() % 100);
        if (roll < permanent_) {
          c.outcome = RelayOutcome::kPermanentFailure;
          c.diagnostic = "550 5.7.1 rejected";
        } else if (roll < permanent_ + transient_) {
          c.outcome = RelayOutcome::kTransientFailure;
          c.diagnostic = "451 4.3.0 try again later";
        }
        if (!held_.empty() || !sink.complete(c)) held_.push_back(std::move(c));
      }
      work += n;
    }
    return work;
  }
  bool idle() const { return held_.empty(); }

  std::atomic<std::uint64_t> submitted{0};
  std::atomic<std::uint64_t> touched{0};

 private:
  unsigned transient_, permanent_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<SpscRing<RelayJob, 1024>>> queues_;
  std::deque<RelayCompletion> held_;
};

// The independent log: what the generator submitted, checked against every
// outcome the router reports. Memory is proportional to messages in flight
// (a record is erased once each of its recipients has an outcome), so the
// 10^8-message run fits.
class Ledger final : public DeliveryObserver {
 public:
  void expect(MessageId id, std::size_t rcpts) {
    Stripe& s = stripe(id);
    std::lock_guard l(s.m);
    s.open.emplace(id.value, Record{std::vector<std::uint8_t>(rcpts, 0), static_cast<std::uint32_t>(rcpts)});
    expected.fetch_add(rcpts, std::memory_order_relaxed);
  }

  void on_outcome(const Message& msg, std::uint32_t rcpt, Outcome outcome, ShardId) noexcept override {
    Stripe& s = stripe(msg.id());
    {
      std::lock_guard l(s.m);
      auto it = s.open.find(msg.id().value);
      if (it == s.open.end() || rcpt >= it->second.seen.size()) {
        unknown.fetch_add(1, std::memory_order_relaxed);  // an outcome for a finished message: a duplicate
      } else if (it->second.seen[rcpt]++ != 0) {
        duplicates.fetch_add(1, std::memory_order_relaxed);
      } else if (--it->second.remaining == 0) {
        s.open.erase(it);
      }
    }
    by_outcome[static_cast<int>(outcome)].fetch_add(1, std::memory_order_relaxed);
    // Release: a waiter that sees the total also sees the ledger updates.
    outcomes.fetch_add(1, std::memory_order_release);
  }

  std::size_t open_messages() {
    std::size_t n = 0;
    for (Stripe& s : stripes_) {
      std::lock_guard l(s.m);
      n += s.open.size();
    }
    return n;
  }

  std::atomic<std::uint64_t> expected{0}, outcomes{0}, duplicates{0}, unknown{0};
  std::atomic<std::uint64_t> by_outcome[3] = {};

 private:
  struct Record {
    std::vector<std::uint8_t> seen;
    std::uint32_t remaining;
  };
  struct Stripe {
    std::mutex m;
    std::unordered_map<std::uint64_t, Record> open;
  };
  Stripe& stripe(MessageId id) { return stripes_[id.value % kStripes]; }
  static constexpr std::size_t kStripes = 64;
  Stripe stripes_[kStripes];
};

struct ScenarioParams {
  std::uint64_t messages = 5000;
  std::size_t shards = 4;
  std::size_t lcores = 2;        // ingress/shard threads; shard s runs on lcore s % lcores
  std::size_t mailboxes = 4000;  // on-box recipients
  std::size_t referrals = 1000;  // 20% of all addresses
  unsigned max_rcpts = 50;
  unsigned moves_per_second = 5000;
  unsigned transient_percent = 10;
  bool fault_skip_referral_clone = false;
  std::chrono::seconds deadline{300};
  bool progress = false;
};

struct ScenarioReport {
  std::uint64_t messages = 0, expected_outcomes = 0, outcomes = 0, duplicates = 0, unknown = 0,
                open_messages = 0;
  std::uint64_t delivered = 0, relayed = 0, bounced = 0;
  std::uint64_t moves = 0;
  std::uint64_t constructed = 0, destroyed = 0;
  std::int64_t live = 0;
  ShardStats totals{};
  bool timed_out = false;
  double seconds = 0;
};

ScenarioReport run_seed_scenario(const ScenarioParams& p);

// Aborts (for death tests) unless the report shows a clean run.
void check_or_die(const ScenarioReport& r);

}  // namespace mxdp::routing::test
