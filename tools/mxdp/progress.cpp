#include "tools/mxdp/progress.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace mxdp::cli {

Progress::Progress(bool print) : print_(print), start_(std::chrono::steady_clock::now()), last_(start_) {}

bool Progress::due() const {
  return std::chrono::steady_clock::now() - last_ >= std::chrono::seconds(1);
}

void Progress::line(const LatencyHistogram& h, std::uint64_t accepted, std::uint64_t failed,
                    std::uint64_t bytes) {
  auto now = std::chrono::steady_clock::now();
  double dt = std::chrono::duration<double>(now - last_).count();
  double elapsed = std::chrono::duration<double>(now - start_).count();
  if (dt > 0) {
    TimelinePoint p;
    p.t_s = elapsed;
    p.messages_per_s = static_cast<double>(accepted - last_accepted_) / dt;
    p.gbit_per_s = static_cast<double>(bytes - last_bytes_) * 8 / dt / 1e9;
    p.p50_ns = h.percentile(0.5);
    p.p99_ns = h.percentile(0.99);
    p.failed = failed - last_failed_;
    timeline_.push_back(p);
    if (print_) {
      std::fputs(fmt::format("[{:5.1f}s] {:>9.0f} msg/s  {:6.3f} Gbit/s  p50 {:>7.0f} us  p99 {:>7.0f} us  "
                             "accepted {}  errors {}\n",
                             elapsed, p.messages_per_s, p.gbit_per_s, static_cast<double>(p.p50_ns) / 1000.0,
                             static_cast<double>(p.p99_ns) / 1000.0, accepted, failed)
                     .c_str(),
                 stderr);
    }
  }
  last_ = now;
  last_accepted_ = accepted;
  last_failed_ = failed;
  last_bytes_ = bytes;
}

}  // namespace mxdp::cli
