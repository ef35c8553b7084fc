#pragma once
// Single-producer/single-consumer ring moved through in bursts (DESIGN.md:
// cores exchange work only through SPSC rings). Elements are moved in and out,
// so a ring of MsgRef carries references, never raw pointers.
//
// Layout: the producer's line holds the write index and its cached copy of the
// read index; the consumer's line the reverse; the slots follow. Each side
// reads the other's index only when its cached copy says the ring looks
// full/empty, so a burst costs two atomic loads/stores per side, not per item.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

namespace mxdp::routing {

inline constexpr std::size_t kCacheLine = 64;

template <typename T, std::size_t Capacity, template <typename> class Atom = std::atomic>
class SpscRing {
  static_assert(Capacity >= 2 && (Capacity & (Capacity - 1)) == 0, "Capacity must be a power of two");

 public:
  SpscRing() = default;
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  static constexpr std::size_t capacity() noexcept { return Capacity; }

  // Producer: moves up to n items from `items` into the ring; returns how many
  // were moved (the first k). Items not moved are left untouched.
  std::size_t push_burst(T* items, std::size_t n) noexcept {
    const std::size_t tail = prod_.tail.load(std::memory_order_relaxed);  // own index
    std::size_t free = Capacity - (tail - prod_.cached_head);
    if (free < n) {
      // Acquire: the consumer's reads of the slots it released happen before
      // we overwrite them.
      prod_.cached_head = cons_.head.load(std::memory_order_acquire);
      free = Capacity - (tail - prod_.cached_head);
      if (n > free) n = free;
    }
    for (std::size_t i = 0; i < n; ++i)
      slots_[(tail + i) & (Capacity - 1)] = std::move(items[i]);
    // Release: the slot writes are visible before the consumer sees the index.
    if (n != 0) prod_.tail.store(tail + n, std::memory_order_release);
    return n;
  }

  bool push(T&& item) noexcept { return push_burst(&item, 1) == 1; }

  // Consumer: moves up to n items into `out`; returns how many.
  std::size_t pop_burst(T* out, std::size_t n) noexcept {
    const std::size_t head = cons_.head.load(std::memory_order_relaxed);  // own index
    std::size_t avail = cons_.cached_tail - head;
    if (avail < n) {
      // Acquire: pairs with the producer's release store of tail.
      cons_.cached_tail = prod_.tail.load(std::memory_order_acquire);
      avail = cons_.cached_tail - head;
      if (n > avail) n = avail;
    }
    for (std::size_t i = 0; i < n; ++i)
      out[i] = std::move(slots_[(head + i) & (Capacity - 1)]);
    // Release: our reads of the slots complete before the producer reuses them.
    if (n != 0) cons_.head.store(head + n, std::memory_order_release);
    return n;
  }

  bool pop(T& out) noexcept { return pop_burst(&out, 1) == 1; }

  // Either side; exact only when the other side is idle.
  std::size_t size_approx() const noexcept {
    return prod_.tail.load(std::memory_order_acquire) - cons_.head.load(std::memory_order_acquire);
  }
  bool empty_approx() const noexcept { return size_approx() == 0; }

 private:
  struct alignas(kCacheLine) Producer {
    Atom<std::size_t> tail{0};
    std::size_t cached_head = 0;
  };
  struct alignas(kCacheLine) Consumer {
    Atom<std::size_t> head{0};
    std::size_t cached_tail = 0;
  };
  Producer prod_;
  Consumer cons_;
  alignas(kCacheLine) std::array<T, Capacity> slots_{};
};

}  // namespace mxdp::routing
