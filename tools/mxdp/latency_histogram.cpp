#include "tools/mxdp/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace mxdp::cli {

// Values below kSubBuckets map one to one; above, bucket b holds values whose
// highest set bit is (b + kSubBucketBits - 1), split into kSubBuckets linear
// sub-buckets: the relative width of a sub-bucket is at most 1/kSubBuckets.
int LatencyHistogram::index_of(std::uint64_t v) noexcept {
  if (v < kSubBuckets) return static_cast<int>(v);
  int msb = 63 - std::countl_zero(v);
  int bucket = msb - kSubBucketBits + 1;
  int sub = static_cast<int>(v >> (msb - kSubBucketBits)) - kSubBuckets;  // top bits below the msb
  return bucket * kSubBuckets + sub;
}

std::uint64_t LatencyHistogram::upper_edge(int index) noexcept {
  int bucket = index / kSubBuckets;
  int sub = index % kSubBuckets;
  if (bucket == 0) return static_cast<std::uint64_t>(sub);
  int shift = bucket - 1;
  std::uint64_t low = static_cast<std::uint64_t>(kSubBuckets + sub) << shift;
  return low + ((1ull << shift) - 1);
}

void LatencyHistogram::record(std::uint64_t value_ns) noexcept {
  ++counts_[static_cast<std::size_t>(index_of(value_ns))];
  ++count_;
  sum_ += value_ns;
  min_ = std::min(min_, value_ns);
  max_ = std::max(max_, value_ns);
}

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
  for (std::size_t i = 0; i < counts_.size(); ++i)
    counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void LatencyHistogram::reset() noexcept {
  *this = LatencyHistogram{};
}

std::uint64_t LatencyHistogram::percentile(double q) const noexcept {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::max<std::uint64_t>(rank, 1);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(upper_edge(static_cast<int>(i)), max_);
  }
  return max_;
}

std::vector<LatencyHistogram::Bucket> LatencyHistogram::buckets() const {
  std::vector<Bucket> out;
  for (std::size_t i = 0; i < counts_.size(); ++i)
    if (counts_[i] != 0) out.push_back({upper_edge(static_cast<int>(i)), counts_[i]});
  return out;
}

LatencyHistogram LatencyHistogram::from_buckets(std::span<const Bucket> buckets, std::uint64_t min_ns,
                                                std::uint64_t max_ns, std::uint64_t sum_ns) noexcept {
  LatencyHistogram h;
  for (const Bucket& b : buckets) {
    h.counts_[static_cast<std::size_t>(index_of(b.upper_ns))] += b.count;
    h.count_ += b.count;
  }
  if (h.count_ != 0) {
    h.min_ = min_ns;
    h.max_ = max_ns;
    h.sum_ = sum_ns;
  }
  return h;
}

}  // namespace mxdp::cli
