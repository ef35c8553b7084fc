// Hazard pointer read side (protect + reset) next to liburcu's QSBR read side
// (rcu_read_lock + rcu_dereference + rcu_read_unlock, where lock/unlock are
// empty by design and the reader pays with periodic quiescent states), and
// retire + reclaim per object.
#include <benchmark/benchmark.h>

#include <atomic>

#include "routing/hazard_pointer.hpp"

#ifdef MXDP_HAVE_URCU_QSBR
#include <urcu-qsbr.h>
#endif

namespace mxdp::routing {
namespace {

struct Node {
  int value = 1;
};

void BM_HazardProtectReset(benchmark::State& state) {
  HazardDomain<> domain;
  HazardPointer<> hp(domain);
  Node n;
  std::atomic<Node*> src{&n};
  for (auto _ : state) {
    Node* p = hp.protect(src);
    benchmark::DoNotOptimize(p->value);
    hp.reset();
  }
}
BENCHMARK(BM_HazardProtectReset);

#ifdef MXDP_HAVE_URCU_QSBR
void BM_UrcuQsbrReadSide(benchmark::State& state) {
  urcu_qsbr_register_thread();
  Node n;
  Node* src = &n;
  std::size_t i = 0;
  for (auto _ : state) {
    urcu_qsbr_read_lock();
    Node* p = rcu_dereference(src);
    benchmark::DoNotOptimize(p->value);
    urcu_qsbr_read_unlock();
    // QSBR readers must announce quiescent states; once per 1024 reads is a
    // typical poll-loop cadence.
    if ((++i & 1023) == 0) urcu_qsbr_quiescent_state();
  }
  urcu_qsbr_unregister_thread();
}
BENCHMARK(BM_UrcuQsbrReadSide);
#endif

void BM_RetireReclaimPerObject(benchmark::State& state) {
  HazardDomain<> domain;
  HazardPointer<> reader(domain);  // one idle reader slot, as on a running appliance
  for (auto _ : state) {
    domain.retire_delete(new Node);  // scans in batches of max(1000, 2 x slots)
  }
  domain.reclaim();
}
BENCHMARK(BM_RetireReclaimPerObject);

}  // namespace
}  // namespace mxdp::routing
