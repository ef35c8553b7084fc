// Directory lookups (hits, random order) on 1M and 10M entries, the address
// hash alone, and the time to load a 10M-line CSV directory (one iteration).
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "routing/address.hpp"
#include "routing/directory.hpp"
#include "routing/directory_loader.hpp"

namespace mxdp::routing {
namespace {

std::string address(std::size_t i) {
  return "user" + std::to_string(i) + "@d" + std::to_string(i % 97) + ".example";
}

const Directory& directory_of(std::size_t n) {
  static std::unique_ptr<Directory> dir;
  static std::size_t size = 0;
  if (size != n) {
    dir.reset();
    dir = std::make_unique<Directory>(n + n / 4);
    for (std::size_t i = 0; i < n; ++i) {
      dir->upsert(address(i), Entry::mailbox_on(ShardId{static_cast<std::uint16_t>(i % 4)},
                                                MailboxId{static_cast<std::uint32_t>(i)}));
    }
    size = n;
  }
  return *dir;
}

void BM_DirectoryLookup(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const Directory& dir = directory_of(n);
  std::mt19937_64 rng(1);
  std::vector<std::string> keys;
  for (int i = 0; i < 1 << 20; ++i)
    keys.push_back(address(rng() % n));
  auto reader = dir.reader();
  std::size_t i = 0;
  for (auto _ : state) {
    const Lookup l = reader.lookup(keys[i++ & ((1 << 20) - 1)]);
    benchmark::DoNotOptimize(l);
  }
}
BENCHMARK(BM_DirectoryLookup)->Arg(1'000'000);

// The same 1M directory, 1024 hot addresses: the lookup's compute cost
// without DRAM and TLB misses (the random case above is memory-latency bound).
void BM_DirectoryLookupHot(benchmark::State& state) {
  const Directory& dir = directory_of(1'000'000);
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < 1024; ++i)
    keys.push_back(address(i * 977));
  auto reader = dir.reader();
  std::size_t i = 0;
  for (auto _ : state) {
    const Lookup l = reader.lookup(keys[i++ & 1023]);
    benchmark::DoNotOptimize(l);
  }
}
BENCHMARK(BM_DirectoryLookupHot);

// address_hash alone (run twice per RCPT: Directory::prefetch_bucket and
// Reader::lookup) over 1024 addresses of the directory's shape, domains in
// mixed case as senders write them.
void BM_AddressHash(benchmark::State& state) {
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < 1024; ++i) {
    std::string a = address(i * 977);
    if (i % 2 != 0) a[a.find('@') + 1] = 'D';
    keys.push_back(a);
  }
  std::size_t i = 0;
  for (auto _ : state) {
    std::string_view k = keys[i++ & 1023];
    benchmark::DoNotOptimize(k);
    benchmark::DoNotOptimize(address_hash(k));
  }
}
BENCHMARK(BM_AddressHash);
BENCHMARK(BM_DirectoryLookup)->Arg(10'000'000);

void BM_DirectoryLoad10M(benchmark::State& state) {
  std::string csv;
  csv.reserve(10'000'000 * 40);
  csv += "address,kind,arg\n";
  for (std::size_t i = 0; i < 10'000'000; ++i) {
    csv += address(i);
    if (i % 5 == 0) {
      csv += ",referral,mx" + std::to_string(i % 3) + ".example.net\n";
    } else {
      csv += ",mailbox," + std::to_string(i % 4) + ":" + std::to_string(i) + "\n";
    }
  }
  for (auto _ : state) {
    auto dir = std::make_unique<Directory>(12'500'000);
    benchmark::DoNotOptimize(load_directory_csv_text(*dir, csv));
    state.PauseTiming();  // the destructor is not part of loading
    dir.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_DirectoryLoad10M)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace mxdp::routing
