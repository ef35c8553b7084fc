// MsgRef clone + release on the owner thread, on a remote thread, and
// std::shared_ptr copy + destroy, each alone and with a second thread hammering
// the same object (the "2 threads contending" case): the background thread does
// remote clone/release on the same message (or copies the same shared_ptr)
// while the measured thread runs the loop.
#include <benchmark/benchmark.h>

#include <atomic>
#include <memory>
#include <thread>

#include "routing/msg_ref.hpp"
#include "routing/owner.hpp"

namespace mxdp::routing {
namespace {

MsgRef make() {
  return make_message(MessageId{1}, Envelope{"s@o", {"r@x"}}, Body::contiguous("body"));
}

// Runs `fn` on a background thread until the benchmark loop ends.
class Contender {
 public:
  template <typename Fn>
  explicit Contender(Fn fn)
      : t_([this, fn] {
          while (!stop_.load(std::memory_order_relaxed))
            fn();
        }) {}
  ~Contender() {
    stop_ = true;
    t_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread t_;
};

void BM_OwnerCloneRelease(benchmark::State& state) {
  Owner owner;
  OwnerScope scope(owner);
  MsgRef m = make();
  for (auto _ : state) {
    MsgRef c = m.clone();
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_OwnerCloneRelease);

void BM_RemoteCloneRelease(benchmark::State& state) {
  Owner owner;
  MsgRef m;
  {
    OwnerScope scope(owner);
    m = make();
  }
  MsgRef local = std::move(m);  // this thread is not the owner
  for (auto _ : state) {
    MsgRef c = local.clone();
    benchmark::DoNotOptimize(c);
  }
  OwnerScope scope(owner);
  local.reset();
  owner.merge_pending();
}
BENCHMARK(BM_RemoteCloneRelease);

void BM_SharedPtrCopyDestroy(benchmark::State& state) {
  auto p = std::make_shared<int>(1);
  for (auto _ : state) {
    std::shared_ptr<int> c = p;
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_SharedPtrCopyDestroy);

void BM_OwnerCloneRelease_2ThreadsContending(benchmark::State& state) {
  Owner owner;
  OwnerScope scope(owner);
  MsgRef m = make();
  MsgRef for_remote = m.clone();
  {
    Contender other([&] {
      MsgRef c = for_remote.clone();  // remote: the shared word
      benchmark::DoNotOptimize(c);
    });
    for (auto _ : state) {
      MsgRef c = m.clone();
      benchmark::DoNotOptimize(c);
    }
  }
  for_remote.reset();
  owner.merge_pending();
}
BENCHMARK(BM_OwnerCloneRelease_2ThreadsContending)->UseRealTime();

void BM_RemoteCloneRelease_2ThreadsContending(benchmark::State& state) {
  Owner owner;
  MsgRef a, b;
  {
    OwnerScope scope(owner);
    a = make();
    b = a.clone();
  }
  {
    Contender other([&] {
      MsgRef c = b.clone();
      benchmark::DoNotOptimize(c);
    });
    for (auto _ : state) {
      MsgRef c = a.clone();
      benchmark::DoNotOptimize(c);
    }
  }
  OwnerScope scope(owner);
  a.reset();
  b.reset();
  owner.merge_pending();
}
BENCHMARK(BM_RemoteCloneRelease_2ThreadsContending)->UseRealTime();

void BM_SharedPtrCopyDestroy_2ThreadsContending(benchmark::State& state) {
  auto p = std::make_shared<int>(1);
  Contender other([&] {
    std::shared_ptr<int> c = p;
    benchmark::DoNotOptimize(c);
  });
  for (auto _ : state) {
    std::shared_ptr<int> c = p;
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_SharedPtrCopyDestroy_2ThreadsContending)->UseRealTime();

}  // namespace
}  // namespace mxdp::routing
