#pragma once
// The byte buffer a session appends its output to and the transport drains.
//
// Capacity is fixed at construction, so appending never allocates (no
// allocation per command). The session checks free space before it processes a
// command (a whole reply or command always fits, or the session stops reading
// until the transport drains), so a full buffer is backpressure, never loss.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace mxdp::smtp {

class OutputBuffer {
 public:
  explicit OutputBuffer(std::size_t capacity);

  // Bytes waiting for the transport, oldest first.
  std::string_view view() const noexcept { return {data_.get() + begin_, end_ - begin_}; }
  bool empty() const noexcept { return begin_ == end_; }
  std::size_t size() const noexcept { return end_ - begin_; }
  std::size_t capacity() const noexcept { return capacity_; }
  // Room for appends (after moving pending bytes to the front if needed).
  std::size_t free_space() const noexcept { return capacity_ - size(); }

  // The transport sent the first n pending bytes.
  void consume(std::size_t n) noexcept;

  // Appends s; returns false (and appends nothing) if it does not fit.
  bool append(std::string_view s) noexcept;
  bool append(char c) noexcept { return append(std::string_view(&c, 1)); }
  // Appends a decimal number.
  bool append_number(std::uint64_t v) noexcept;

  void clear() noexcept { begin_ = end_ = 0; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t capacity_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace mxdp::smtp
