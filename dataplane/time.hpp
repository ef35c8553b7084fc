#pragma once
// Dataplane time: microseconds on a monotonic clock. The stack never reads a
// clock itself; poll(now) receives it, so tests drive virtual time and the
// product drives the TSC (tsc_clock.hpp).

#include <cstdint>
#include <limits>

namespace mxdp::dataplane {

using TimeUs = std::uint64_t;
inline constexpr TimeUs kNever = std::numeric_limits<TimeUs>::max();

}  // namespace mxdp::dataplane
