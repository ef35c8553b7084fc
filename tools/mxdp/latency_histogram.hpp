#pragma once
// An HDR-style latency histogram: log-linear buckets with a fixed relative
// error (2^-kSubBucketBits, under 1%), constant memory, O(1) record, mergeable
// across loop threads. Values are nanoseconds; up to 2^63.

#include <array>
#include <cstdint>

namespace mxdp::cli {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 7;  // 128 sub-buckets: < 0.8% error
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  static constexpr int kBuckets = 64 - kSubBucketBits + 1;

  void record(std::uint64_t value_ns) noexcept;
  void merge(const LatencyHistogram& other) noexcept;
  void reset() noexcept;

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  std::uint64_t max() const noexcept { return max_; }
  double mean() const noexcept {
    return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0;
  }
  // The value at quantile q in [0, 1] (upper edge of its bucket, clamped to max()).
  std::uint64_t percentile(double q) const noexcept;

 private:
  static int index_of(std::uint64_t v) noexcept;
  static std::uint64_t upper_edge(int index) noexcept;

  std::array<std::uint64_t, kBuckets * kSubBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = ~0ull;
  std::uint64_t max_ = 0;
};

}  // namespace mxdp::cli
