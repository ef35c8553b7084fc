// Cost of splitting a DPDK-style command line: a smoke benchmark that keeps
// the suite runnable before the real primitives land.
#include <benchmark/benchmark.h>

#include "tools/mxdp/command_line.hpp"

static void BM_SplitEalArgs(benchmark::State& state) {
  const std::vector<std::string> args{"--no-huge", "--no-pci", "-l", "0-1", "--", "--duration", "3"};
  for (auto _ : state) {
    auto split = mxdp::cli::split_eal_args(args);
    benchmark::DoNotOptimize(split);
  }
}
BENCHMARK(BM_SplitEalArgs);
