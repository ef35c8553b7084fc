// MsgRef hand-off between two threads through one SPSC ring, in bursts of 1,
// 8 and 32: the producer (the messages' owner) clones from a pool of messages
// and pushes; the consumer thread pops and releases (a remote release, one
// atomic operation per reference). items_per_second = references per second.
#include <benchmark/benchmark.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "routing/msg_ref.hpp"
#include "routing/owner.hpp"
#include "routing/spsc_ring.hpp"

namespace mxdp::routing {
namespace {

void BM_RingHandoff(benchmark::State& state) {
  const auto burst = static_cast<std::size_t>(state.range(0));
  Owner owner;
  OwnerScope scope(owner);
  std::vector<MsgRef> pool;
  for (int i = 0; i < 4096; ++i) {
    pool.push_back(make_message(MessageId{static_cast<std::uint64_t>(i)}, Envelope{"s@o", {"r@x"}},
                                Body::contiguous("b")));
  }
  auto ring = std::make_unique<SpscRing<MsgRef, 1024>>();
  std::atomic<bool> stop{false};
  std::thread consumer([&] {
    MsgRef out[32];
    while (!stop.load(std::memory_order_relaxed)) {
      const std::size_t n = ring->pop_burst(out, burst);
      for (std::size_t i = 0; i < n; ++i)
        out[i].reset();
    }
    while (ring->pop_burst(out, 32) != 0) {
      for (auto& r : out)
        r.reset();
    }
  });
  MsgRef batch[32];
  std::size_t next = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < burst; ++i)
      batch[i] = pool[(next + i) & 4095].clone();
    next += burst;
    std::size_t sent = 0;
    while (sent < burst)
      sent += ring->push_burst(batch + sent, burst - sent);
  }
  stop = true;
  consumer.join();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * burst));
  pool.clear();
  while (owner.has_pending())
    owner.merge_pending();
}
BENCHMARK(BM_RingHandoff)->Arg(1)->Arg(8)->Arg(32)->UseRealTime();

}  // namespace
}  // namespace mxdp::routing

namespace mxdp::routing {
namespace {

// The ring's own cost per reference, without a second thread: push a burst,
// pop it, release (owner path). On a loaded 2-core machine the two-thread
// figures above measure the scheduler as much as the ring; this one does not.
void BM_RingPushPopOneThread(benchmark::State& state) {
  const auto burst = static_cast<std::size_t>(state.range(0));
  Owner owner;
  OwnerScope scope(owner);
  MsgRef m = make_message(MessageId{1}, Envelope{"s@o", {"r@x"}}, Body::contiguous("b"));
  auto ring = std::make_unique<SpscRing<MsgRef, 1024>>();
  MsgRef batch[32];
  for (auto _ : state) {
    for (std::size_t i = 0; i < burst; ++i)
      batch[i] = m.clone();
    ring->push_burst(batch, burst);
    ring->pop_burst(batch, burst);
    for (std::size_t i = 0; i < burst; ++i)
      batch[i].reset();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * burst));
}
BENCHMARK(BM_RingPushPopOneThread)->Arg(1)->Arg(8)->Arg(32);

}  // namespace
}  // namespace mxdp::routing
