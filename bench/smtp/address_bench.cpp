// Path parsing (RFC 5321 §4.1.2) as MAIL FROM and RCPT TO see it. Arg 0: a
// typical dot-atom@domain path; 1: the same followed by ESMTP parameters;
// 2: 256 different paths in turn (lengths and dot positions vary as between
// the recipients of real traffic, so branch prediction cannot learn one).
// BM_ParsePathFull runs the full parser alone on the same inputs: parse_path
// before its one-pass fast path.
//
//   build/release/bench/smtp_address_bench --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/address.hpp"

namespace {

using namespace mxdp::smtp;

const std::vector<std::string>& paths(std::int64_t arg) {
  static const std::vector<std::string> typical = {"<sender.name@example.test>"};
  static const std::vector<std::string> with_params = {"<sender.name@example.test> SIZE=2048 BODY=8BITMIME"};
  static const std::vector<std::string> varied = [] {
    const char* const words[] = {"john", "sender", "name",     "alice", "b",       "postmaster",
                                 "info", "x1",     "no-reply", "news",  "support", "marketing"};
    const char* const domains[] = {"example.test", "mail.example.org",   "d17.example",
                                   "a-b.c",        "corp.example.co.uk", "x.y"};
    std::mt19937_64 rng(7);
    std::vector<std::string> v;
    for (int i = 0; i < 256; ++i) {
      std::string s = "<";
      s += words[rng() % 12];
      if (rng() % 2 != 0) s.append(".").append(words[rng() % 12]);
      if (rng() % 3 == 0) s += std::to_string(rng() % 10000);
      s.append("@").append(domains[rng() % 6]).append(">");
      if (rng() % 2 != 0) s += " SIZE=1000";
      v.push_back(s);
    }
    return v;
  }();
  return arg == 0 ? typical : arg == 1 ? with_params : varied;
}

// One parser over the inputs of `paths(range(0))`, in turn.
template <ParsedPath (*Parse)(std::string_view, bool, bool) noexcept>
void parse_each(benchmark::State& state) {
  const std::vector<std::string>& in = paths(state.range(0));
  std::size_t i = 0;
  for (auto _ : state) {
    std::string_view s = in[i++ & (in.size() - 1)];  // sizes are powers of two: no division
    benchmark::DoNotOptimize(s);
    const ParsedPath p = Parse(s, true, true);
    benchmark::DoNotOptimize(p);
  }
}

void BM_ParsePath(benchmark::State& state) {
  parse_each<parse_path>(state);
}
BENCHMARK(BM_ParsePath)->Arg(0)->Arg(1)->Arg(2);

void BM_ParsePathFull(benchmark::State& state) {
  parse_each<detail::parse_path_full>(state);
}
BENCHMARK(BM_ParsePathFull)->Arg(0)->Arg(1)->Arg(2);

}  // namespace
