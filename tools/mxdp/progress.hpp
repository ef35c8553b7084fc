#pragma once
// The live line of a long run: once a second on stderr, the rate and latency
// of the last second (not averages since the start, which hide stalls).

#include <chrono>
#include <cstdint>

#include "tools/mxdp/latency_histogram.hpp"

namespace mxdp::cli {

class Progress {
 public:
  explicit Progress(bool enabled);
  // A line is due (a second has passed since the last one).
  bool due() const;
  // Prints the line; the counters are totals since the start.
  void line(const LatencyHistogram& last_second, std::uint64_t accepted, std::uint64_t failed,
            std::uint64_t bytes);

 private:
  bool enabled_;
  std::chrono::steady_clock::time_point start_, last_;
  std::uint64_t last_accepted_ = 0, last_bytes_ = 0;
};

}  // namespace mxdp::cli
