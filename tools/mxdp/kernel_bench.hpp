#pragma once
// `mxdp bench --backend kernel`: the appliance, a referral sink and the load
// generator in one process over loopback sockets, with an admin thread that
// moves recipients while the load runs.

#include <string>

#include "tools/mxdp/loadgen.hpp"
#include "tools/mxdp/run_report.hpp"

namespace mxdp::cli {

struct BenchOptions {
  LoadgenOptions load;        // target is filled in by the bench
  unsigned serve_cores = 1;   // appliance worker threads
  unsigned shards = 0;        // 0: two per appliance core
  double referral_share = 0;  // share of recipients that are referrals (0..1)
  double move_rate = 0;       // recipient moves per second by the admin thread
};

std::string run_kernel_bench(const BenchOptions& options, RunReport& report);

}  // namespace mxdp::cli
