#pragma once
// Owner-biased split reference count (Choi, Shull, Torrellas, "Biased Reference
// Counting", PACT'18; CPython's free-threaded Python/brc.c works the same way).
//
// The owner thread's references live in a plain integer (`local_`): its clone
// and release are an increment and a decrement, no atomic read-modify-write.
// Every other thread's references live in one atomic word (`shared_`):
//
//     shared_ = count * 4 | kQueued | kMerged        (count is signed)
//
// A reference the owner cloned and another thread releases makes `count`
// negative (the owner's `local_` still counts it). The true number of live
// references is always local_ + count. Two flags make "last release frees
// exactly once" hold without the owner ever touching the atomic on its hot path:
//
//   kMerged  the owner gave up its bias: local_ was added into count, and from
//            now on every release (owner's too) goes to the atomic; whoever
//            brings count to 0 frees.
//   kQueued  a remote release drove count below zero before the merge, so the
//            owner's local_ may be the only thing keeping the object alive: the
//            remote thread hands the object to the owner's merge queue (exactly
//            once, the thread whose CAS set the flag) and the owner merges it at
//            its next poll (merge()). Only merge() may free a queued object.
//
// kMerged and kQueued are never set together: merge() clears kQueued as it sets
// kMerged, and kQueued is only set on an unmerged word.
//
// The class only counts; Message/MsgRef decide which side a thread is on and
// what "free" and "queue" mean. Templated on the atomic so the deterministic
// scheduler can explore every interleaving (tests/routing/biased_count_test.cpp).

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace mxdp::routing {

enum class ReleaseResult : std::uint8_t {
  kKeep,           // other references remain
  kFree,           // this was the last reference: the caller frees the object
  kQueueForMerge,  // the caller must push the object on its owner's merge queue
};

// Destructive-interference size on x86-64 (and most arm64 cores).
inline constexpr std::size_t kCountLine = 64;

template <template <typename> class Atom = std::atomic>
class BiasedCount {
 public:
  static constexpr std::int64_t kMerged = 1;
  static constexpr std::int64_t kQueued = 2;
  static constexpr std::int64_t kOne = 4;

  // Starts with one owner reference.
  BiasedCount() noexcept : shared_(0) {}

  // --- owner thread only -------------------------------------------------
  void owner_clone() noexcept {
    if (merged_) [[unlikely]] {
      // Relaxed: the caller already holds a reference, so the object cannot be
      // freed concurrently; the increment need not order anything.
      shared_.fetch_add(kOne, std::memory_order_relaxed);
      return;
    }
    ++local_;
  }

  ReleaseResult owner_release() noexcept {
    if (merged_) [[unlikely]]
      return shared_release();
    if (--local_ != 0) return ReleaseResult::kKeep;
    // The owner holds no reference any more: give up the bias so the last
    // remote release can free. local_ == 0 here, so count alone is the number
    // of live references.
    std::int64_t old = shared_.load(std::memory_order_relaxed);
    do {
      // Queued: the object sits in our merge queue and merge() will finish the
      // job (freeing here would leave a dangling queue entry). Possible values
      // of local_ after this point are still summed correctly by merge().
      if (old & kQueued) return ReleaseResult::kKeep;
      // acq_rel: release publishes our last uses of the object to whoever
      // frees; acquire makes the remote releasers' uses visible if we free.
    } while (!shared_.compare_exchange_weak(old, old | kMerged, std::memory_order_acq_rel,
                                            std::memory_order_relaxed));
    merged_ = true;
    return count_of(old) == 0 ? ReleaseResult::kFree : ReleaseResult::kKeep;
  }

  // The owner took this object from its merge queue. Returns true if the
  // caller must free it (no reference is left anywhere).
  bool merge() noexcept {
    const std::int64_t add = local_ * kOne + kMerged - kQueued;
    local_ = 0;
    merged_ = true;
    // acq_rel: as in owner_release(); this may be the freeing operation.
    const std::int64_t now = shared_.fetch_add(add, std::memory_order_acq_rel) + add;
    return count_of(now) == 0;
  }

  // --- any other thread ----------------------------------------------------
  void remote_clone() noexcept {
    // Relaxed: the caller holds a reference (see owner_clone()).
    shared_.fetch_add(kOne, std::memory_order_relaxed);
  }

  ReleaseResult remote_release() noexcept { return shared_release(); }

  // For tests and debug checks (racy by nature outside quiescence).
  std::int64_t local_for_test() const noexcept { return local_; }
  std::int64_t shared_for_test() const noexcept { return shared_.load(std::memory_order_relaxed); }

 private:
  static constexpr std::int64_t count_of(std::int64_t word) noexcept { return word >> 2; }  // floor

  ReleaseResult shared_release() noexcept {
    std::int64_t old = shared_.load(std::memory_order_relaxed);
    std::int64_t now;
    do {
      now = old - kOne;
      if ((old & (kMerged | kQueued)) == 0 && count_of(now) < 0) now |= kQueued;
      // acq_rel: release orders this thread's uses before the free that some
      // later release performs; acquire orders everyone's uses before our free.
    } while (!shared_.compare_exchange_weak(old, now, std::memory_order_acq_rel, std::memory_order_relaxed));
    if (now & kMerged) return count_of(now) == 0 ? ReleaseResult::kFree : ReleaseResult::kKeep;
    if ((now & kQueued) && !(old & kQueued)) return ReleaseResult::kQueueForMerge;
    return ReleaseResult::kKeep;
  }

  // Owner-only fields: never read or written by another thread while the owner
  // runs (a thread that adopts an Owner after its thread exited synchronises
  // through the join).
  // The owner's fields and the shared word live on different cache lines:
  // remote clones and releases write shared_ all the time, and if the owner's
  // plain count sat on that line every owner clone would miss in the cache
  // (measured: 122 ns per owner clone + release against a contending remote
  // thread with both on one line; see the commit and bench/routing/).
  std::int64_t local_ = 1;
  bool merged_ = false;
  alignas(kCountLine) Atom<std::int64_t> shared_;
};

}  // namespace mxdp::routing
