#pragma once
// `mxdp bench`: the appliance, a referral sink and the load generator in one
// process, with an admin thread that moves recipients while the load runs.
// The transport decides how the two sides meet: loopback sockets (kernel) or
// a pair of in-memory DPDK ports, generator lcore(s) on one side and
// appliance lcore(s) on the other (dpdk_bench.hpp).

#include <cstdint>
#include <functional>
#include <string>

#include "tools/mxdp/loadgen.hpp"
#include "tools/mxdp/loop_factory.hpp"
#include "tools/mxdp/run_report.hpp"
#include "tools/mxdp/serve_config.hpp"

namespace mxdp::cli {

struct BenchOptions {
  LoadgenOptions load;        // target is filled in by the bench
  unsigned serve_cores = 1;   // appliance worker threads
  unsigned shards = 0;        // 0: two per appliance core
  double referral_share = 0;  // share of recipients that are referrals (0..1)
  double move_rate = 0;       // recipient moves per second by the admin thread
  // Each routing shard's mailbox log, in bytes (--mailbox-log).
  std::uint64_t mailbox_log_bytes = kDefaultMailboxLogBytes;
  bool discard = false;  // the appliance keeps nothing (ServeConfig::discard)
};

// How generator and appliance meet.
struct BenchTransport {
  LoopFactory appliance_loops;
  LoopFactory generator_loops;
  std::string appliance_listen;  // the appliance's address ("127.0.0.1:0" on loopback)
  // Where the built-in referral sink listens. With sink_on_generator it runs
  // on the generator's first loop (the far end of the DPDK ports); otherwise
  // on its own kernel loop thread.
  std::string sink_listen;
  bool sink_on_generator = false;
  // Transport counters for the report (port and queue counters on DPDK).
  std::function<void(RunReport&)> add_counters;
};

// Loopback sockets.
BenchTransport kernel_bench_transport();

std::string run_bench(const BenchOptions& options, const BenchTransport& transport, RunReport& report);

}  // namespace mxdp::cli
