#include "tools/mxdp/kernel_bench.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <random>
#include <thread>

#include "routing/directory.hpp"
#include "tools/mxdp/appliance.hpp"
#include "tools/mxdp/sink_server.hpp"

namespace mxdp::cli {

namespace {

constexpr unsigned kDemoUsers = 100000;
constexpr unsigned kDemoReferrals = 1000;

// Recipients to draw from, with the requested share of referrals.
std::vector<std::string> bench_recipients(double referral_share) {
  constexpr unsigned kListSize = 10000;
  auto referrals = static_cast<unsigned>(std::lround(referral_share * kListSize));
  std::vector<std::string> list;
  list.reserve(kListSize);
  std::mt19937 rng(42);
  for (unsigned i = 0; i < kListSize - referrals; ++i)
    list.push_back("user" + std::to_string(rng() % kDemoUsers) + "@example.test");
  for (unsigned i = 0; i < referrals; ++i)
    list.push_back("pf" + std::to_string(i % kDemoReferrals) + "@public.example.test");
  return list;
}

}  // namespace

std::string run_kernel_bench(const BenchOptions& o, RunReport& report) {
  if (o.referral_share < 0 || o.referral_share > 1) return "--referral-share must be between 0 and 1";
  SinkServer sink;
  std::string err = sink.start("127.0.0.1:0");
  if (!err.empty()) return "referral sink: " + err;
  std::string sink_addr = "127.0.0.1:" + std::to_string(sink.port());

  ServeConfig sc;
  sc.listen = "127.0.0.1:0";
  sc.cores = o.serve_cores;
  sc.shards = o.shards;
  sc.metrics = "";
  sc.referral_target = sink_addr;
  sc.smtp.max_recipients = std::max(1000u, o.load.recipients);
  sc.relay.retry_initial_ms = 20;
  sc.relay.retry_max_ms = 500;
  Appliance appliance(sc);
  err = appliance.start();
  if (!err.empty()) return "appliance: " + err;

  // The admin thread: moves recipients between shards (and some off-box to
  // the sink) while messages are in flight, the scenario the design exists for.
  std::atomic<bool> load_done{false};
  std::atomic<std::uint64_t> moves{0};
  std::thread mover;
  if (o.move_rate > 0) {
    mover = std::thread([&] {
      std::mt19937_64 rng(7);
      auto& dir = appliance.directory();
      auto server = dir.intern_server(sink_addr);
      unsigned shards = sc.shards ? sc.shards : 2 * std::max(1u, sc.cores);
      auto period = std::chrono::duration<double>(1.0 / o.move_rate);
      auto next = std::chrono::steady_clock::now();
      while (!load_done.load(std::memory_order_relaxed)) {
        unsigned n = static_cast<unsigned>(rng() % kDemoUsers);
        std::string addr = "user" + std::to_string(n) + "@example.test";
        if (rng() % 10 == 0) {
          dir.upsert(addr, routing::Entry::moved_to_server(server));
        } else {
          dir.upsert(
              addr, routing::Entry::moved_to_shard(
                        routing::ShardId{static_cast<std::uint16_t>(rng() % shards)}, routing::MailboxId{n}));
        }
        moves.fetch_add(1, std::memory_order_relaxed);
        appliance.admin_tick();
        next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(period);
        std::this_thread::sleep_until(next);
      }
    });
  }

  LoadgenOptions load = o.load;
  load.target = "127.0.0.1:" + std::to_string(appliance.port());
  if (load.recipient_list.empty()) load.recipient_list = bench_recipients(o.referral_share);
  report.command = "bench";
  err = run_loadgen(load, report);
  load_done.store(true);
  if (mover.joinable()) mover.join();

  // Quiescence: every relayed recipient confirmed or bounced, counters still.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  ApplianceTotals last{};
  int still = 0;
  while (std::chrono::steady_clock::now() < until && still < 3) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto t = appliance.totals();
    bool relays_done = t.shards.referred + t.shards.moved_off_box <= t.shards.relayed + t.shards.bounced;
    bool same = t.shards.delivered == last.shards.delivered && t.shards.relayed == last.shards.relayed &&
                t.shards.handed_off == last.shards.handed_off;
    still = (relays_done && same) ? still + 1 : 0;
    last = t;
  }
  appliance.request_stop();
  appliance.wait();
  sink.stop();
  auto t = appliance.totals();

  report.target = "embedded";
  report.cores = o.serve_cores;
  report.referral_share = o.referral_share;
  report.move_rate_per_s = o.move_rate;
  report.recipients_delivered = static_cast<std::int64_t>(t.shards.delivered);
  report.recipients_referred = static_cast<std::int64_t>(t.shards.referred);
  report.recipients_relayed = static_cast<std::int64_t>(t.shards.relayed);
  report.recipients_bounced = static_cast<std::int64_t>(t.shards.bounced);
  report.recipients_moved = static_cast<std::int64_t>(moves.load());
  report.messages_live_at_end = t.shards.live;
  return err;
}

}  // namespace mxdp::cli
