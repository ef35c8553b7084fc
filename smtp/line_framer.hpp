#pragma once
// Resumable command-line framing (RFC 5321 §2.3.8, §4.5.3.1.4).
//
// Only <CR><LF> ends a line. A bare CR or bare LF never ends a line and never
// starts a new command: it stays inside the line and the line is reported as
// bad (the SMTP smuggling defence; Postfix's smtpd_forbid_bare_newline). A line
// that lies whole inside one input span is returned as a view of that span (no
// copy); only a line split across spans is assembled in the framer's own
// buffer, allocated once at construction.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace mxdp::smtp {

class LineFramer {
 public:
  enum class Status : std::uint8_t {
    kNeedMore,  // consumed everything given; no complete line yet
    kLine,      // a complete line (without its CRLF)
    kTooLong,   // a line over the limit ended; its bytes were discarded
  };
  struct Result {
    Status status;
    std::size_t consumed;   // bytes of the input used by this call
    std::string_view line;  // kLine: valid until the next call (or as long as the input if inside it)
    bool bare_newline;      // kLine: the line holds a bare CR or LF
  };

  // max_line: the longest line in octets, CRLF included (RFC 5321: 512 for commands).
  explicit LineFramer(std::size_t max_line);

  Result next(const char* p, std::size_t n) noexcept;
  void reset() noexcept;
  // Bytes of an incomplete line held from earlier spans.
  std::size_t pending() const noexcept { return held_; }

 private:
  std::unique_ptr<char[]> buf_;
  std::size_t max_line_;
  std::size_t held_ = 0;     // bytes in buf_ (or counted while discarding)
  bool discarding_ = false;  // the current line went over the limit
  bool last_cr_ = false;     // the last byte seen was CR
};

}  // namespace mxdp::smtp
