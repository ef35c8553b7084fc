#pragma once
// Resumable parser of server replies (RFC 5321 §4.2) for the client engine.
//
// Returns one reply line at a time so the client can read EHLO keywords as
// they arrive; a multi-line reply ("250-..." lines then "250 ...") must keep
// one code throughout (RFC 5321 §4.2.1). Lines end only with <CR><LF>; a
// line over max_line octets, a bad code or a bare CR/LF is a protocol error.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "smtp/line_framer.hpp"

namespace mxdp::smtp {

struct ReplyLine {
  std::uint16_t code = 0;
  bool last = false;          // the final line of the reply ("250 " or "250")
  std::string_view enhanced;  // "2.1.5" if the text starts with an enhanced status code (RFC 2034)
  std::string_view text;      // after the code and the enhanced code
};

class ReplyParser {
 public:
  enum class Status : std::uint8_t { kNeedMore, kLine, kError };
  struct Result {
    Status status;
    std::size_t consumed;
    ReplyLine line;  // kLine: views valid until the next call
  };

  // RFC 5321 §4.5.3.1.5: reply lines are at most 512 octets; we allow some slack.
  explicit ReplyParser(std::size_t max_line = 2048);

  Result next(const char* p, std::size_t n) noexcept;
  void reset() noexcept;

 private:
  LineFramer framer_;
  std::uint16_t multi_code_ = 0;  // code of a multi-line reply in progress
};

// Parses one reply line without its CRLF; false if it is not one.
bool parse_reply_line(std::string_view s, ReplyLine& out) noexcept;

}  // namespace mxdp::smtp
