#include "dataplane/tsc_clock.hpp"

#include <rte_cycles.h>

namespace mxdp::dataplane {

TimeUs tsc_now_us() noexcept {
  // The frequency is fixed after EAL start; computing it once keeps the hot
  // path to one rdtsc and one multiply.
  static const double us_per_cycle = 1e6 / static_cast<double>(rte_get_tsc_hz());
  return static_cast<TimeUs>(static_cast<double>(rte_rdtsc()) * us_per_cycle);
}

}  // namespace mxdp::dataplane
