#pragma once
// Received bytes of one connection, in order, as views over the mbufs they
// arrived in (no copy on the receive path). The chain owns the mbufs: they go
// back to the pool when the chain is destroyed or release()d.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

struct rte_mbuf;

namespace mxdp::dataplane {

struct RecvSegment {
  const std::uint8_t* data;
  std::uint32_t size;
};

class RecvChain {
 public:
  static constexpr std::size_t kMaxSegments = 64;

  RecvChain() noexcept = default;
  RecvChain(RecvChain&& other) noexcept;
  RecvChain& operator=(RecvChain&& other) noexcept;
  RecvChain(const RecvChain&) = delete;
  RecvChain& operator=(const RecvChain&) = delete;
  ~RecvChain() { release(); }

  std::span<const RecvSegment> segments() const noexcept { return {segments_.data(), count_}; }
  // The packet buffer segment i lies in (to take a reference on it).
  rte_mbuf* buffer(std::size_t i) const noexcept { return mbufs_[i]; }
  std::size_t size_bytes() const noexcept { return bytes_; }
  bool empty() const noexcept { return count_ == 0; }
  // Appends all bytes to `out` (a copy, for tests and simple consumers).
  void append_to(std::string& out) const;
  // Returns the mbufs to their pool; the views become invalid.
  void release() noexcept;

  // For the stack: adds one payload mbuf (its data is the segment).
  bool push(rte_mbuf* m) noexcept;
  bool full() const noexcept { return count_ == kMaxSegments; }

 private:
  // Only the first count_ entries are meaningful: the arrays are left
  // uninitialised and moves copy that many (a chain is made per read, and
  // zeroing 1.5 KB each time showed in the profile).
  std::array<rte_mbuf*, kMaxSegments> mbufs_;
  std::array<RecvSegment, kMaxSegments> segments_;
  std::size_t count_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace mxdp::dataplane
