#include "smtp/output_buffer.hpp"

#include <cstring>

namespace mxdp::smtp {

OutputBuffer::OutputBuffer(std::size_t capacity) : data_(new char[capacity]), capacity_(capacity) {}

void OutputBuffer::consume(std::size_t n) noexcept {
  if (n >= size()) {
    begin_ = end_ = 0;
    return;
  }
  begin_ += n;
}

bool OutputBuffer::append(std::string_view s) noexcept {
  if (s.size() > free_space()) return false;
  if (s.size() > capacity_ - end_) {
    // Move the pending bytes to the front once instead of wrapping: replies are
    // drained after every burst, so this is rare and short.
    std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (!s.empty()) std::memcpy(data_.get() + end_, s.data(), s.size());
  end_ += s.size();
  return true;
}

bool OutputBuffer::append_number(std::uint64_t v) noexcept {
  char digits[20];
  std::size_t n = 0;
  do {
    digits[sizeof(digits) - 1 - n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  return append(std::string_view(digits + sizeof(digits) - n, n));
}

}  // namespace mxdp::smtp
