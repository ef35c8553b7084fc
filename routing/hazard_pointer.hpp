#pragma once
// Hazard pointers (Michael, IEEE TPDS 2004) with asymmetric fences, in the
// style of folly's hazptr: protect() is a store plus a compiler barrier, the
// reclaimer pays the heavy fence (membarrier PRIVATE_EXPEDITED, atomic_traits.hpp).
//
//   HazardDomain<> domain;                      // one per protected structure
//   HazardPointer<> hp(domain);                 // one per reader thread, kept
//   Node* n = hp.protect(bucket);               // n stays valid ...
//   use(*n); hp.reset();                        // ... until reset
//   domain.retire_delete(old);                  // writer, after unlinking
//
// Retired objects collect in a lock-free list and are scanned in batches when
// their number reaches max(1000, 2 x slots) or the oldest has waited
// kScanInterval; the scan runs on the retiring thread (the admin thread, never
// an lcore), so deleters stay off the data path. A stalled reader pins at most
// the object its slot names: everything else is reclaimable.
//
// Templated on the atomic (STYLE.md item 8): tests run the same bodies on
// std::atomic and on the deterministic scheduler.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "routing/atomic_traits.hpp"
#include "routing/spsc_ring.hpp"

namespace mxdp::routing {

template <template <typename> class Atom = std::atomic>
class HazardDomain {
 public:
  using Deleter = void (*)(void*);
  static constexpr std::chrono::milliseconds kScanInterval{10};

  // `scan_interval`: the time trigger (deterministic tests pass a huge one so
  // that no scan depends on the clock).
  explicit HazardDomain(std::size_t max_slots = 256,
                        std::chrono::nanoseconds scan_interval = std::chrono::nanoseconds(kScanInterval))
      : slot_count_(max_slots), slots_(std::make_unique<Slot[]>(max_slots)), scan_interval_(scan_interval) {
    threshold_ = std::max<std::size_t>(1000, 2 * max_slots);
  }
  HazardDomain(const HazardDomain&) = delete;
  HazardDomain& operator=(const HazardDomain&) = delete;

  // Precondition: no reader uses the domain any more.
  ~HazardDomain() {
    RetiredNode* n = retired_.exchange(nullptr, std::memory_order_acquire);
    while (n != nullptr) {
      RetiredNode* next = n->next;
      n->deleter(n->object);
      delete n;
      n = next;
    }
  }

  // Hands `object` (already unlinked from every shared location) to the
  // domain; `deleter` runs once no hazard pointer names it. May scan.
  void retire(void* object, Deleter deleter) { retire_raw(object, deleter); }

  // retire() with `delete static_cast<T*>(object)` as the deleter.
  template <typename T>
  void retire_delete(T* object) {
    retire_raw(static_cast<void*>(object), [](void* p) { delete static_cast<T*>(p); });
  }

  void retire_raw(void* object, Deleter deleter) {
    auto* node = new RetiredNode{object, deleter, nullptr};
    RetiredNode* head = retired_.load(std::memory_order_relaxed);
    do {
      node->next = head;
      // Release: publishes the node to the scanning thread's acquire exchange.
    } while (
        !retired_.compare_exchange_weak(head, node, std::memory_order_release, std::memory_order_relaxed));
    // Relaxed: a trigger heuristic, not a synchronisation point.
    const std::size_t count = retired_count_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (count >= threshold_ || due()) reclaim();
  }

  // Scans now if the time trigger expired (call from the admin thread's timer).
  std::size_t reclaim_if_due() { return due() ? reclaim() : 0; }

  // Scans the retired list once; deletes every object no slot names.
  // Returns the number deleted. Concurrent callers: one scans, others return 0.
  std::size_t reclaim() {
    bool expected = false;
    // Acquire/release: scans never overlap; one scan's pushes-back are seen
    // by the next.
    if (!scanning_.compare_exchange_strong(expected, true, std::memory_order_acquire,
                                           std::memory_order_relaxed)) {
      return 0;
    }
    // Relaxed: a trigger heuristic read by concurrent retire() callers.
    last_scan_ns_.store(now_ns(), std::memory_order_relaxed);
    RetiredNode* list = retired_.exchange(nullptr, std::memory_order_acquire);
    // The heavy half of the asymmetric fence pair. The retired objects were
    // unlinked before they were retired (program order on the retiring thread,
    // release on the list). After this barrier, for every reader, either its
    // slot store is visible to the loads below, or its validating re-load in
    // protect() runs after the barrier and sees the unlink, so it retries and
    // never uses the object.
    AtomicTraits<Atom>::heavy_barrier();
    std::vector<void*> hazards;
    hazards.reserve(slot_count_);
    for (std::size_t i = 0; i < slot_count_; ++i) {
      // Acquire: a reader's reset() (release) orders its last use of an
      // object before we may delete it.
      void* p = slots_[i].ptr.load(std::memory_order_acquire);
      if (p != nullptr) hazards.push_back(p);
    }
    std::sort(hazards.begin(), hazards.end());
    std::size_t deleted = 0, kept = 0;
    RetiredNode* keep = nullptr;
    while (list != nullptr) {
      RetiredNode* next = list->next;
      if (std::binary_search(hazards.begin(), hazards.end(), list->object)) {
        list->next = keep;
        keep = list;
        ++kept;
      } else {
        list->deleter(list->object);
        delete list;
        ++deleted;
      }
      list = next;
    }
    if (keep != nullptr) {
      RetiredNode* tail = keep;
      while (tail->next != nullptr)
        tail = tail->next;
      RetiredNode* head = retired_.load(std::memory_order_relaxed);
      do {
        tail->next = head;
      } while (
          !retired_.compare_exchange_weak(head, keep, std::memory_order_release, std::memory_order_relaxed));
    }
    retired_count_.fetch_sub(deleted, std::memory_order_relaxed);
    (void)kept;
    scanning_.store(false, std::memory_order_release);
    return deleted;
  }

  std::size_t retired_count() const noexcept { return retired_count_.load(std::memory_order_relaxed); }
  std::size_t slot_count() const noexcept { return slot_count_; }
  std::size_t threshold() const noexcept { return threshold_; }

 private:
  template <template <typename> class>
  friend class HazardPointer;
  using Clock = std::chrono::steady_clock;

  struct alignas(kCacheLine) Slot {
    Atom<void*> ptr{nullptr};
    Atom<bool> taken{false};
  };
  struct RetiredNode {
    void* object;
    Deleter deleter;
    RetiredNode* next;
  };

  static std::int64_t now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
  }
  bool due() const noexcept {
    return retired_count_.load(std::memory_order_relaxed) != 0 &&
           now_ns() - last_scan_ns_.load(std::memory_order_relaxed) >= scan_interval_.count();
  }

  Slot* acquire_slot() {
    for (std::size_t i = 0; i < slot_count_; ++i) {
      bool expected = false;
      // Relaxed is not enough for reuse: acquire pairs with release_slot() so
      // the previous holder's last store (nullptr) is ordered before ours.
      if (!slots_[i].taken.load(std::memory_order_relaxed) &&
          slots_[i].taken.compare_exchange_strong(expected, true, std::memory_order_acquire,
                                                  std::memory_order_relaxed)) {
        return &slots_[i];
      }
    }
    throw std::runtime_error(
        "hazard pointer domain: all " + std::to_string(slot_count_) +
        " slots taken; construct the HazardDomain (or Directory) with more reader slots");
  }
  static void release_slot(Slot* s) noexcept {
    s->ptr.store(nullptr, std::memory_order_release);
    s->taken.store(false, std::memory_order_release);
  }

  const std::size_t slot_count_;
  std::unique_ptr<Slot[]> slots_;
  std::size_t threshold_;
  std::chrono::nanoseconds scan_interval_;
  Atom<RetiredNode*> retired_{nullptr};
  std::atomic<std::size_t> retired_count_{0};
  std::atomic<bool> scanning_{false};
  std::atomic<std::int64_t> last_scan_ns_{now_ns()};  // written by the scanner, read by retire()
};

// One hazard slot, held by one thread for as long as it likes (an lcore keeps
// one for its lifetime, so protect/reset never allocate or search).
template <template <typename> class Atom = std::atomic>
class HazardPointer {
 public:
  explicit HazardPointer(HazardDomain<Atom>& domain) : slot_(domain.acquire_slot()) {}
  HazardPointer(HazardPointer&& other) noexcept : slot_(std::exchange(other.slot_, nullptr)) {}
  HazardPointer& operator=(HazardPointer&&) = delete;
  HazardPointer(const HazardPointer&) = delete;
  ~HazardPointer() {
    if (slot_ != nullptr) HazardDomain<Atom>::release_slot(slot_);
  }

  // Loads `src` and publishes it in the slot until it is stable: the returned
  // pointer (possibly nullptr) cannot be deleted before reset() or the next
  // protect(). The object's contents are visible (acquire on the re-load).
  template <typename T>
  T* protect(const Atom<T*>& src) noexcept {
    T* p = src.load(std::memory_order_relaxed);
    for (;;) {
      // Release: this store also ends the protection of whatever the slot
      // held before (a lookup moving to the next bucket). Our reads of that
      // object must happen before a reclaimer that sees the new value frees
      // it; a relaxed store let them float past it (TSan caught the race in
      // Directory.LookupsRaceMovesWithoutTornOrLostEntries). Free on x86.
      // Ordering of this store against the re-load below comes from the
      // asymmetric fence pair (light here, heavy in reclaim()).
      slot_->ptr.store(static_cast<void*>(p), std::memory_order_release);
      AtomicTraits<Atom>::light_barrier();
      // Acquire: pairs with the writer's release publication of *q.
      T* q = src.load(std::memory_order_acquire);
      if (q == p) return p;
      p = q;
    }
  }

  // Release: our reads of the protected object happen before a reclaimer
  // that sees the slot empty deletes it.
  void reset() noexcept { slot_->ptr.store(nullptr, std::memory_order_release); }

 private:
  typename HazardDomain<Atom>::Slot* slot_;
};

}  // namespace mxdp::routing
