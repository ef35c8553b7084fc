#pragma once
// The lcore clock: the TSC (rte_rdtsc) in microseconds, for Stack::poll().

#include "dataplane/time.hpp"

namespace mxdp::dataplane {

// Microseconds since an arbitrary start; needs the EAL (TSC frequency).
TimeUs tsc_now_us() noexcept;

}  // namespace mxdp::dataplane
