#pragma once
// A connection's send buffer: a byte ring holding the bytes from SND.UNA on
// (sent-unacknowledged, then unsent). The ring does not own its storage: the
// stack lends it a block from a SendBufferPool when send() finds it without
// one and takes it back whenever it is empty again (all acknowledged) or the
// connection closes, so an idle connection costs no buffer and blocks move
// between connections.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>

namespace mxdp::dataplane {

class SendBuffer {
 public:
  explicit SendBuffer(std::size_t capacity = 0, std::uint8_t* storage = nullptr) noexcept
      : capacity_(capacity), storage_(storage) {}

  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t free_space() const noexcept { return capacity_ - size_; }
  std::uint8_t* storage() const noexcept { return storage_; }
  // Lends the ring `capacity()` bytes of storage (it has none).
  void attach(std::uint8_t* storage) noexcept { storage_ = storage; }
  // Takes the storage back (the ring must be empty); nullptr if it had none.
  std::uint8_t* detach() noexcept {
    std::uint8_t* s = storage_;
    storage_ = nullptr;
    clear();
    return s;
  }

  // Appends as much of `data` as fits; returns the count (0 without storage).
  std::size_t push(std::span<const std::uint8_t> data) noexcept {
    const std::size_t n = std::min(data.size(), free_space());
    if (n == 0 || storage_ == nullptr) return 0;
    std::size_t tail = (head_ + size_) % capacity_;
    const std::size_t first = std::min(n, capacity_ - tail);
    std::memcpy(storage_ + tail, data.data(), first);
    if (n > first) std::memcpy(storage_, data.data() + first, n - first);
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
    std::memcpy(out, storage_ + start, first);
    if (len > first) std::memcpy(out + first, storage_, len - first);
  }

  void clear() noexcept {
    head_ = 0;
    size_ = 0;
  }

 private:
  std::size_t capacity_;
  std::uint8_t* storage_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

// Blocks of one size for SendBuffers, recycled through a free list threaded
// through the free blocks themselves. A block is allocated only when none is
// free, i.e. when more connections hold unsent or unacknowledged bytes at the
// same moment than ever before on this stack (`reserve` of them are allocated
// up front): below that high-water mark, opening, using and closing
// connections allocates nothing. Blocks go back to the heap with the pool.
class SendBufferPool {
 public:
  SendBufferPool(std::size_t block_bytes, std::size_t reserve)
      : block_(std::max(block_bytes, sizeof(std::uint8_t*))) {
    for (std::size_t i = 0; i < reserve; ++i) {
      std::uint8_t* b = new std::uint8_t[block_];
      give(b);
    }
  }
  ~SendBufferPool() {
    while (free_ != nullptr) {
      std::uint8_t* b = free_;
      std::memcpy(&free_, b, sizeof free_);
      delete[] b;
    }
  }
  SendBufferPool(const SendBufferPool&) = delete;
  SendBufferPool& operator=(const SendBufferPool&) = delete;

  // A block of block_bytes; nullptr when the heap is exhausted.
  std::uint8_t* take() noexcept {
    if (free_ == nullptr) {
      std::uint8_t* b = new (std::nothrow) std::uint8_t[block_];
      if (b != nullptr) ++allocated_;
      return b;
    }
    std::uint8_t* b = free_;
    std::memcpy(&free_, b, sizeof free_);
    return b;
  }
  // Returns a block from take().
  void give(std::uint8_t* b) noexcept {
    std::memcpy(b, &free_, sizeof free_);
    free_ = b;
  }
  // Blocks allocated by take() because none was free (not counting `reserve`).
  std::uint64_t allocated() const noexcept { return allocated_; }

 private:
  std::size_t block_;
  std::uint8_t* free_ = nullptr;
  std::uint64_t allocated_ = 0;
};

}  // namespace mxdp::dataplane
