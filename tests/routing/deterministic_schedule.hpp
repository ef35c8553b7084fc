#pragma once
// A small deterministic scheduler (in the spirit of folly's DeterministicSchedule)
// that explores EVERY interleaving of a small concurrent test case.
//
// Test threads run one at a time (a baton passed under a mutex). Every
// operation on a DetAtomic, and every fence of AtomicTraits<DetAtomic>, is a
// scheduling point where the scheduler picks which thread runs next. A run is
// described by the list of picks; explore() performs depth-first search over
// that tree: after each run it advances the deepest pick that still has an
// untried alternative and replays the prefix. So every sequentially consistent
// interleaving of the atomic operations is executed exactly once.
//
// Limits (documented, not hidden): it models sequential consistency only, so
// it proves the algorithms' logic (counts, flags, protect/validate, scan) but
// not that each memory order is strong enough; the memory orders are argued in
// comments and exercised by TSan on real threads with std::atomic.
//
// The same test body runs on std::atomic with real threads through
// Runner<std::atomic>, and exhaustively here through Runner<DetAtomic>.

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "routing/atomic_traits.hpp"

namespace mxdp::routing::test {

class DetScheduler {
 public:
  static DetScheduler*& active() {
    static DetScheduler* s = nullptr;
    return s;
  }
  static int& tid() {
    thread_local int t = -1;
    return t;
  }

  // Called by every DetAtomic operation: maybe switch to another thread.
  static void yield_point() {
    DetScheduler* s = active();
    if (s == nullptr || tid() < 0) return;  // set-up and checks run unscheduled
    s->switch_from(tid());
  }

  void run(const std::vector<std::function<void()>>& fns) {
    std::unique_lock lock(m_);
    n_ = static_cast<int>(fns.size());
    finished_.assign(fns.size(), false);
    current_ = -2;  // nobody yet
    std::vector<std::thread> threads;
    for (int i = 0; i < n_; ++i) {
      threads.emplace_back([this, i, &fns] {
        tid() = i;
        {
          std::unique_lock l(m_);
          cv_.wait(l, [&] { return current_ == i; });
        }
        fns[static_cast<std::size_t>(i)]();
        std::unique_lock l(m_);
        finished_[static_cast<std::size_t>(i)] = true;
        current_ = choose(-1);
        cv_.notify_all();
      });
    }
    current_ = choose(-1);
    cv_.notify_all();
    cv_.wait(lock, [&] { return current_ == -1; });
    lock.unlock();
    for (auto& t : threads)
      t.join();
  }

  // Prepares the next unexplored path; false when the tree is exhausted.
  bool next_path() {
    while (!path_.empty()) {
      const std::size_t k = path_.size() - 1;
      if (path_[k] + 1 < options_[k]) {
        ++path_[k];
        options_.resize(k + 1);
        step_ = 0;
        return true;
      }
      path_.pop_back();
      options_.pop_back();
    }
    return false;
  }
  void begin_run() {
    step_ = 0;
    preemptions_ = 0;
  }
  // CHESS-style preemption bound (Musuvathi & Qadeer, PLDI'07): at most this
  // many switches away from a thread that could have continued. The default
  // (unbounded) explores every interleaving.
  void set_preemption_bound(int bound) { bound_ = bound; }

 private:
  void switch_from(int me) {
    std::unique_lock l(m_);
    current_ = choose(me);
    cv_.notify_all();
    cv_.wait(l, [&] { return current_ == me; });
  }

  // m_ held. Picks the next runnable thread, -1 if all finished. `from` is
  // the thread at a yield point (still runnable), or -1.
  int choose(int from) {
    std::vector<int> runnable;
    if (from >= 0) runnable.push_back(from);  // index 0: "continue" (no preemption)
    for (int i = 0; i < n_; ++i) {
      if (i != from && !finished_[static_cast<std::size_t>(i)]) runnable.push_back(i);
    }
    if (runnable.empty()) return -1;
    if (from >= 0 && bound_ >= 0 && preemptions_ >= bound_) return from;  // budget spent: no choice
    int pick = 0;
    if (step_ < path_.size()) {
      pick = path_[step_];
      if (pick >= static_cast<int>(runnable.size())) {
        std::fprintf(stderr,
                     "deterministic schedule: the test body is not deterministic (replay diverged)\n");
        std::abort();
      }
    } else {
      path_.push_back(0);
      options_.push_back(static_cast<int>(runnable.size()));
    }
    ++step_;
    if (from >= 0 && pick != 0) ++preemptions_;
    return runnable[static_cast<std::size_t>(pick)];
  }

  std::mutex m_;
  std::condition_variable cv_;
  int n_ = 0;
  int current_ = -1;
  std::vector<bool> finished_;
  std::vector<int> path_;
  std::vector<int> options_;
  std::size_t step_ = 0;
  int bound_ = -1;
  int preemptions_ = 0;
};

// An atomic whose every operation is a scheduling point. The value is a plain
// T: only one test thread runs at a time, and the baton's mutex orders them.
template <typename T>
class DetAtomic {
 public:
  DetAtomic() noexcept : v_() {}
  DetAtomic(T v) noexcept : v_(v) {}  // NOLINT: mirrors std::atomic
  DetAtomic(const DetAtomic&) = delete;
  DetAtomic& operator=(const DetAtomic&) = delete;

  T load(std::memory_order = std::memory_order_seq_cst) const noexcept {
    DetScheduler::yield_point();
    return v_;
  }
  void store(T v, std::memory_order = std::memory_order_seq_cst) noexcept {
    DetScheduler::yield_point();
    v_ = v;
  }
  T exchange(T v, std::memory_order = std::memory_order_seq_cst) noexcept {
    DetScheduler::yield_point();
    T old = v_;
    v_ = v;
    return old;
  }
  bool compare_exchange_strong(T& expected, T desired, std::memory_order = std::memory_order_seq_cst,
                               std::memory_order = std::memory_order_seq_cst) noexcept {
    DetScheduler::yield_point();
    if (v_ == expected) {
      v_ = desired;
      return true;
    }
    expected = v_;
    return false;
  }
  bool compare_exchange_weak(T& expected, T desired, std::memory_order s = std::memory_order_seq_cst,
                             std::memory_order f = std::memory_order_seq_cst) noexcept {
    return compare_exchange_strong(expected, desired, s, f);
  }
  T fetch_add(T d, std::memory_order = std::memory_order_seq_cst) noexcept {
    DetScheduler::yield_point();
    T old = v_;
    v_ = static_cast<T>(v_ + d);
    return old;
  }
  T fetch_sub(T d, std::memory_order = std::memory_order_seq_cst) noexcept {
    DetScheduler::yield_point();
    T old = v_;
    v_ = static_cast<T>(v_ - d);
    return old;
  }
  T fetch_or(T d, std::memory_order = std::memory_order_seq_cst) noexcept {
    DetScheduler::yield_point();
    T old = v_;
    v_ = static_cast<T>(v_ | d);
    return old;
  }

 private:
  T v_;
};

// Runs a case's threads: real threads for std::atomic, scheduled for DetAtomic.
template <template <typename> class Atom>
struct Runner;

template <>
struct Runner<std::atomic> {
  static void run(const std::vector<std::function<void()>>& fns) {
    std::vector<std::thread> threads;
    for (const auto& f : fns)
      threads.emplace_back(f);
    for (auto& t : threads)
      t.join();
  }
};

template <>
struct Runner<DetAtomic> {
  static void run(const std::vector<std::function<void()>>& fns) { DetScheduler::active()->run(fns); }
};

// Runs `body` once per interleaving. Returns the number of interleavings.
inline std::size_t explore_all(const std::function<void()>& body, int preemption_bound = -1,
                               std::size_t max_runs = 2'000'000) {
  DetScheduler sched;
  sched.set_preemption_bound(preemption_bound);
  DetScheduler::active() = &sched;
  std::size_t runs = 0;
  do {
    sched.begin_run();
    body();
    ++runs;
  } while (sched.next_path() && runs < max_runs);
  DetScheduler::active() = nullptr;
  EXPECT_LT(runs, max_runs) << "interleaving tree not exhausted";
  return runs;
}

// Repeats `body` on real threads (std::atomic instantiation).
inline void repeat_on_threads(const std::function<void()>& body, int iterations) {
  for (int i = 0; i < iterations; ++i)
    body();
}

}  // namespace mxdp::routing::test

namespace mxdp::routing {
// Under the deterministic scheduler every fence is a scheduling point.
template <>
struct AtomicTraits<test::DetAtomic> {
  static void light_barrier() noexcept { test::DetScheduler::yield_point(); }
  static void heavy_barrier() noexcept { test::DetScheduler::yield_point(); }
};
}  // namespace mxdp::routing
