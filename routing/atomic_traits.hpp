#pragma once
// What a concurrency primitive needs besides loads, stores and RMWs, chosen by
// the atomic template it is instantiated with (STYLE.md item 8). The default is
// for std::atomic on real threads; tests/routing/deterministic_schedule.hpp
// specialises it for the deterministic scheduler, where every operation is a
// sequentially consistent scheduling point and the fences become yields.

#include <atomic>

namespace mxdp::routing {

namespace detail {
// True once membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) is known to work in
// this process (hazard_pointer.cpp). Written once before any reader runs.
bool heavy_barrier_available() noexcept;
extern std::atomic<bool> g_use_fallback_fences;
void heavy_barrier_membarrier() noexcept;

// A full store-load fence. ThreadSanitizer does not model
// atomic_thread_fence (gcc -Wtsan), so TSan builds use a seq_cst RMW on one
// shared word instead: on x86 a locked instruction is a full fence too, and
// TSan understands the synchronisation it creates.
extern std::atomic<unsigned> g_fence_word;
inline void full_fence() noexcept {
#if defined(__SANITIZE_THREAD__)
  g_fence_word.fetch_add(0, std::memory_order_seq_cst);
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}
}  // namespace detail

template <template <typename> class Atom>
struct AtomicTraits {
  // The reader half of an asymmetric fence pair (hazard pointer protect). With
  // membarrier the reader pays only a compiler barrier: the kernel makes every
  // running thread of the process execute a full barrier when the reclaimer
  // calls heavy_barrier(), which is what orders the reader's slot store before
  // its validating load as seen by the reclaimer. Without membarrier (old
  // kernel, seccomp) the reader has to pay the full store-load fence itself.
  static void light_barrier() noexcept {
    // Relaxed: the flag is written once at start-up before readers exist.
    if (detail::g_use_fallback_fences.load(std::memory_order_relaxed)) [[unlikely]] {
      detail::full_fence();
    } else {
      std::atomic_signal_fence(std::memory_order_seq_cst);
    }
  }
  // The reclaimer half: after it, every slot store that preceded a reader's
  // validating load is visible to the reclaimer's scan.
  static void heavy_barrier() noexcept {
    if (detail::g_use_fallback_fences.load(std::memory_order_relaxed)) [[unlikely]] {
      detail::full_fence();
    } else {
      detail::heavy_barrier_membarrier();
    }
  }
};

}  // namespace mxdp::routing
