#include "tools/mxdp/bench_run.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
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

// Samples the appliance's counters every 50 ms; settled after three samples
// in a row with every relay finished and nothing moving, or after 15 s.
// Every generator thread asks while it lingers.
class Quiescence {
 public:
  explicit Quiescence(const Appliance& a) : appliance_(a) {}
  bool settled() {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    if (until_ == std::chrono::steady_clock::time_point{}) until_ = now + std::chrono::seconds(15);
    if (now >= until_ || still_ >= 3) return true;
    if (now < next_) return false;
    next_ = now + std::chrono::milliseconds(50);
    auto t = appliance_.totals();
    bool relays_done = t.shards.referred + t.shards.moved_off_box <= t.shards.relayed + t.shards.bounced;
    bool same = t.shards.delivered == last_.shards.delivered && t.shards.relayed == last_.shards.relayed &&
                t.shards.handed_off == last_.shards.handed_off;
    still_ = (relays_done && same) ? still_ + 1 : 0;
    last_ = t;
    return still_ >= 3;
  }

 private:
  const Appliance& appliance_;
  std::mutex mutex_;
  ApplianceTotals last_{};
  int still_ = 0;
  std::chrono::steady_clock::time_point until_{}, next_{};
};

}  // namespace

BenchTransport kernel_bench_transport() {
  BenchTransport t;
  t.appliance_loops = kernel_loops();
  t.generator_loops = kernel_loops();
  t.appliance_listen = "127.0.0.1:0";
  t.sink_listen = "127.0.0.1:0";
  return t;
}

std::string run_bench(const BenchOptions& o, const BenchTransport& transport, RunReport& report) {
  if (o.referral_share < 0 || o.referral_share > 1) return "--referral-share must be between 0 and 1";
  SinkServer sink;
  std::string sink_addr = transport.sink_listen;
  if (!transport.sink_on_generator) {
    std::string err = sink.start(transport.sink_listen);
    if (!err.empty()) return "referral sink: " + err;
    sink_addr = sink_addr.substr(0, sink_addr.rfind(':') + 1) + std::to_string(sink.port());
  }

  ServeConfig sc;
  sc.listen = transport.appliance_listen;
  sc.cores = o.serve_cores;
  sc.shards = o.shards;
  sc.mailbox_log_bytes = o.mailbox_log_bytes;
  sc.discard = o.discard;
  sc.metrics = "";
  sc.referral_target = sink_addr;
  sc.smtp.max_recipients = std::max(1000u, o.load.recipients);
  sc.relay.retry_initial_ms = 20;
  sc.relay.retry_max_ms = 500;
  Appliance appliance(sc, transport.appliance_loops);
  std::string err = appliance.start();
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
  load.target = sc.listen.substr(0, sc.listen.rfind(':') + 1) + std::to_string(appliance.port());
  load.loops = transport.generator_loops;
  std::mutex sink_mutex;
  std::string sink_error;
  if (transport.sink_on_generator) {
    // Every generator loop is the far end of one appliance link: each serves
    // the referral sink, so every appliance core can reach it.
    load.on_loop_ready = [&](dataplane::transport::EventLoop& loop, unsigned) {
      std::lock_guard lock(sink_mutex);
      std::string e = sink.attach(loop, sink_addr);
      if (!e.empty()) sink_error = e;
    };
  }
  if (load.recipient_list.empty()) load.recipient_list = bench_recipients(o.referral_share);
  // After the load, the generator's first loop keeps running until the
  // appliance is quiescent: every relayed recipient confirmed or bounced and
  // the counters still (on DPDK the referral sink lives on that loop).
  Quiescence quiet(appliance);
  load.linger = [&] {
    load_done.store(true, std::memory_order_relaxed);
    return !quiet.settled();
  };
  report.command = "bench";
  err = run_loadgen(load, report);
  if (err.empty() && !sink_error.empty()) err = "referral sink: " + sink_error;
  load_done.store(true);
  if (mover.joinable()) mover.join();
  appliance.request_stop();
  appliance.wait();
  sink.stop();
  auto t = appliance.totals();

  report.target = "embedded";
  report.cores = o.serve_cores;
  report.referral_share = o.referral_share;
  report.move_rate_per_s = o.move_rate;
  report.mailbox_log_bytes = static_cast<std::int64_t>(o.mailbox_log_bytes);
  report.recipients_delivered = static_cast<std::int64_t>(t.shards.delivered);
  report.recipients_referred = static_cast<std::int64_t>(t.shards.referred);
  report.recipients_relayed = static_cast<std::int64_t>(t.shards.relayed);
  report.recipients_bounced = static_cast<std::int64_t>(t.shards.bounced);
  report.recipients_moved = static_cast<std::int64_t>(moves.load());
  report.messages_live_at_end = t.shards.live;
  report.transport_counters["appliance.bodies_lent"] = t.bodies_lent;
  report.transport_counters["appliance.bodies_copied"] = t.bodies_copied;
  report.transport_counters["appliance.messages_discarded"] = t.messages_discarded;
  report.transport_counters["appliance.lookups_reused"] = t.shards.lookups_reused;
  report.transport_counters["appliance.handoffs_resolved"] = t.shards.handoffs_resolved;
  report.transport_counters["appliance.relay_bodies_copied"] = t.shards.relay_bodies_copied;
  report.transport_counters["appliance.mailbox_evicted"] = t.shards.evicted;
  report.transport_counters["appliance.worker_cpu_us"] = t.worker_cpu_us;
  if (transport.add_counters) transport.add_counters(report);
  return err;
}

}  // namespace mxdp::cli
