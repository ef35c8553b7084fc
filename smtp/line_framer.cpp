#include "smtp/line_framer.hpp"

#include <algorithm>
#include <cstring>

#include "smtp/line_break.hpp"

namespace mxdp::smtp {

namespace {

// A CR or LF inside a line (RFC 5321 §2.3.8 allows them only as the CRLF
// that ends it): one inline pass, where two library memchr calls cost more
// than the scan itself on a line of tens of octets.
bool has_newline(std::string_view s) noexcept {
  return find_line_break(s.data(), s.data() + s.size()) != s.data() + s.size();
}

}  // namespace

LineFramer::LineFramer(std::size_t max_line) : buf_(new char[max_line]), max_line_(max_line) {}

void LineFramer::reset() noexcept {
  held_ = 0;
  discarding_ = false;
  last_cr_ = false;
}

LineFramer::Result LineFramer::next(const char* p, std::size_t n) noexcept {
  // The common case: nothing held, and the first CR or LF of the span is the
  // CRLF that ends a line within the limit. One scan then finds the line's end
  // and shows it clean, where the general path below runs memchr for the LF
  // and scans the line again for a bare CR or LF.
  if (held_ == 0 && !discarding_ && !last_cr_) {
    const char* end = p + std::min(n, max_line_);
    const char* hit = find_line_break(p, end);
    const auto at = static_cast<std::size_t>(hit - p);
    if (hit != end && *hit == '\r' && at + 1 < n && p[at + 1] == '\n' && at + 2 <= max_line_)
      return {Status::kLine, at + 2, std::string_view(p, at), false};
  }
  std::size_t from = 0;
  while (from < n) {
    const void* hit = std::memchr(p + from, '\n', n - from);
    if (hit == nullptr) break;
    const std::size_t lf = static_cast<std::size_t>(static_cast<const char*>(hit) - p);
    const bool after_cr = lf > 0 ? p[lf - 1] == '\r' : last_cr_;
    if (!after_cr) {
      from = lf + 1;  // a bare LF: part of the line, keep looking
      continue;
    }
    const std::size_t consumed = lf + 1;
    const std::size_t total = held_ + consumed;
    if (discarding_ || total > max_line_) {
      reset();
      return {Status::kTooLong, consumed, {}, false};
    }
    std::string_view line;
    if (held_ == 0) {
      line = std::string_view(p, lf - 1);
    } else {
      std::memcpy(buf_.get() + held_, p, consumed);
      line = std::string_view(buf_.get(), total - 2);
    }
    held_ = 0;
    last_cr_ = false;
    return {Status::kLine, consumed, line, has_newline(line)};
  }
  // No line end in this span: keep the bytes (or just count them once the line
  // is already too long).
  if (!discarding_ && held_ + n <= max_line_) {
    std::memcpy(buf_.get() + held_, p, n);
    held_ += n;
  } else {
    discarding_ = true;
    held_ = max_line_;
  }
  if (n > 0) last_cr_ = p[n - 1] == '\r';
  return {Status::kNeedMore, n, {}, false};
}

}  // namespace mxdp::smtp
