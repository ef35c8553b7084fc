#pragma once
// An HDR-style latency histogram: log-linear buckets with a fixed relative
// error (2^-kSubBucketBits, under 1%), constant memory, O(1) record, mergeable
// across loop threads. Values are nanoseconds; up to 2^63.

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace mxdp::cli {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 7;  // 128 sub-buckets: < 0.8% error
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  static constexpr int kBuckets = 64 - kSubBucketBits + 1;

  // One non-empty bucket: the largest value it holds and how many values fell in it.
  struct Bucket {
    std::uint64_t upper_ns = 0;
    std::uint64_t count = 0;
    friend bool operator==(const Bucket&, const Bucket&) = default;
  };

  // Rebuilds a histogram written out with buckets() (a report read back from
  // JSON). Each bucket's count goes to the bucket holding upper_ns; min, max and
  // sum are the exact summary values, which the buckets alone cannot give.
  static LatencyHistogram from_buckets(std::span<const Bucket> buckets, std::uint64_t min_ns,
                                       std::uint64_t max_ns, std::uint64_t sum_ns) noexcept;

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
  // The non-empty buckets in increasing order of value.
  std::vector<Bucket> buckets() const;

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
