// The Internet checksum (RFC 1071) over a segment's bytes, as the stack
// computes it on ports without checksum offload (every virtual port): the
// word-at-a-time sum of dataplane/checksum.cpp beside the 16-bit big-endian
// byte assembly it replaced, in one run.
//
//   build/release/bench/dataplane_checksum_bench --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <cstdint>
#include <span>
#include <vector>

#include "dataplane/checksum.hpp"

namespace {

using mxdp::dataplane::checksum_partial;

// The previous implementation, kept here as the baseline.
std::uint32_t bytewise_partial(std::span<const std::uint8_t> data, std::uint32_t sum) {
  std::uint64_t acc = sum;
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  while (n >= 4) {
    acc += (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    acc += (std::uint32_t{p[0]} << 8) | p[1];
    p += 2;
    n -= 2;
  }
  if (n == 1) acc += std::uint32_t{p[0]} << 8;
  while (acc >> 32)
    acc = (acc & 0xffffffffu) + (acc >> 32);
  return static_cast<std::uint32_t>((acc & 0xffff) + ((acc >> 16) & 0xffff));
}

std::vector<std::uint8_t> payload(std::size_t n) {
  std::vector<std::uint8_t> d(n);
  std::uint32_t x = 1;
  for (auto& b : d) {
    x = x * 1103515245u + 12345u;
    b = static_cast<std::uint8_t>(x >> 16);
  }
  return d;
}

template <std::uint32_t (*Sum)(std::span<const std::uint8_t>, std::uint32_t)>
void run(benchmark::State& state) {
  const auto data = payload(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(data.data());
    benchmark::DoNotOptimize(Sum(data, 0x1234));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

std::uint32_t wide(std::span<const std::uint8_t> d, std::uint32_t sum) {
  return checksum_partial(d, sum);
}

void BM_ChecksumWordAtATime(benchmark::State& state) {
  run<wide>(state);
}
void BM_ChecksumBytewiseBaseline(benchmark::State& state) {
  run<bytewise_partial>(state);
}

// 64: a small reply; 1448: one full segment at MTU 1500; 65536: a TSO burst.
BENCHMARK(BM_ChecksumWordAtATime)->Arg(64)->Arg(1448)->Arg(65536);
BENCHMARK(BM_ChecksumBytewiseBaseline)->Arg(64)->Arg(1448)->Arg(65536);

}  // namespace
