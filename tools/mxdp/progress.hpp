#pragma once
// The live line of a long run: once a second on stderr, the rate and latency
// of the last second (not averages since the start, which hide stalls). The
// same numbers are kept as the run's timeline, printed or not (--quiet).

#include <chrono>
#include <cstdint>
#include <vector>

#include "tools/mxdp/latency_histogram.hpp"
#include "tools/mxdp/run_report.hpp"

namespace mxdp::cli {

class Progress {
 public:
  // print: a line per second on stderr. The timeline is recorded either way.
  explicit Progress(bool print);
  // A line is due (a second has passed since the last one).
  bool due() const;
  // Records a timeline point for the interval since the last call and prints
  // it when printing is on; the counters are totals since the start.
  void line(const LatencyHistogram& last_second, std::uint64_t accepted, std::uint64_t failed,
            std::uint64_t bytes);
  // One point per line() call so far, oldest first.
  const std::vector<TimelinePoint>& timeline() const noexcept { return timeline_; }

 private:
  bool print_;
  std::chrono::steady_clock::time_point start_, last_;
  std::uint64_t last_accepted_ = 0, last_failed_ = 0, last_bytes_ = 0;
  std::vector<TimelinePoint> timeline_;
};

}  // namespace mxdp::cli
