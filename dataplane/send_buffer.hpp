#pragma once
// A connection's send buffer: a byte ring holding the bytes from SND.UNA on
// (sent-unacknowledged, then unsent). Storage is allocated on first use, so an
// idle connection costs no buffer.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace mxdp::dataplane {

class SendBuffer {
 public:
  explicit SendBuffer(std::size_t capacity = 0) noexcept : capacity_(capacity) {}

  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t free_space() const noexcept { return capacity_ - size_; }

  // Appends as much of `data` as fits; returns the count.
  std::size_t push(std::span<const std::uint8_t> data) {
    const std::size_t n = std::min(data.size(), free_space());
    if (n == 0) return 0;
    if (!storage_) storage_ = std::make_unique<std::uint8_t[]>(capacity_);
    std::size_t tail = (head_ + size_) % capacity_;
    const std::size_t first = std::min(n, capacity_ - tail);
    std::memcpy(storage_.get() + tail, data.data(), first);
    if (n > first) std::memcpy(storage_.get(), data.data() + first, n - first);
    size_ += n;
    return n;
  }

  // Drops n acknowledged bytes from the front.
  void pop(std::size_t n) noexcept {
    if (n > size_) n = size_;
    head_ = capacity_ == 0 ? 0 : (head_ + n) % capacity_;
    size_ -= n;
    if (size_ == 0) head_ = 0;
  }

  // Copies len bytes starting `offset` bytes after the front into out.
  void copy_out(std::size_t offset, std::size_t len, std::uint8_t* out) const noexcept {
    if (len == 0) return;
    const std::size_t start = (head_ + offset) % capacity_;
    const std::size_t first = std::min(len, capacity_ - start);
    std::memcpy(out, storage_.get() + start, first);
    if (len > first) std::memcpy(out + first, storage_.get(), len - first);
  }

  void clear() noexcept {
    head_ = 0;
    size_ = 0;
  }

 private:
  std::size_t capacity_;
  std::unique_ptr<std::uint8_t[]> storage_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace mxdp::dataplane
