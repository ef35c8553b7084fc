#include "routing/hazard_pointer.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>

namespace mxdp::routing::detail {

namespace {

long membarrier(int cmd) noexcept {
  return syscall(__NR_membarrier, cmd, 0U, 0);
}

// Registration must precede the first MEMBARRIER_CMD_PRIVATE_EXPEDITED
// (membarrier(2)). Done once, during static initialisation, before any reader
// thread exists. Where it fails (kernel < 4.14, seccomp, some sandboxes) the
// documented fallback is symmetric fences: readers execute a seq_cst fence in
// protect() and the reclaimer another one, which is correct everywhere and
// costs the reader ~20 cycles. Under ThreadSanitizer the fallback is also used:
// TSan does not model membarrier, and a fence it understands keeps its
// happens-before reasoning about the slots exact.
bool register_membarrier() noexcept {
#if defined(__SANITIZE_THREAD__)
  return false;
#else
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
  return false;
#endif
#endif
  const long supported = membarrier(MEMBARRIER_CMD_QUERY);
  if (supported < 0 || (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return false;
  return membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
#endif
}

const bool g_membarrier_ok = register_membarrier();

}  // namespace

std::atomic<bool> g_use_fallback_fences{!g_membarrier_ok};
std::atomic<unsigned> g_fence_word{0};

bool heavy_barrier_available() noexcept {
  return g_membarrier_ok;
}

void heavy_barrier_membarrier() noexcept {
  if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0) {
    // Cannot happen after a successful registration; if it does, a full fence
    // on this side alone would not be enough, so fail loudly.
    std::perror("mxdp routing: membarrier(PRIVATE_EXPEDITED)");
    std::abort();
  }
}

}  // namespace mxdp::routing::detail
