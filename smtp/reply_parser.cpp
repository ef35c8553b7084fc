#include "smtp/reply_parser.hpp"

namespace mxdp::smtp {

namespace {

bool digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// "class.subject.detail" (RFC 3463 §2): 1 digit, 1-3 digits, 1-3 digits.
std::size_t enhanced_length(std::string_view s) noexcept {
  std::size_t i = 0;
  if (s.empty() || (s[0] != '2' && s[0] != '4' && s[0] != '5')) return 0;
  ++i;
  for (int part = 0; part < 2; ++part) {
    if (i >= s.size() || s[i] != '.') return 0;
    ++i;
    const std::size_t start = i;
    while (i < s.size() && digit(s[i]) && i - start < 3)
      ++i;
    if (i == start) return 0;
  }
  if (i < s.size() && s[i] != ' ') return 0;
  return i;
}

}  // namespace

bool parse_reply_line(std::string_view s, ReplyLine& out) noexcept {
  // Reply-line = *(Reply-code "-" [textstring] CRLF) Reply-code [SP textstring] CRLF
  if (s.size() < 3 || !digit(s[0]) || !digit(s[1]) || !digit(s[2])) return false;
  if (s[0] < '2' || s[0] > '5' || s[1] > '5') return false;
  out.code = static_cast<std::uint16_t>((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
  if (s.size() == 3) {
    out.last = true;
    out.enhanced = {};
    out.text = {};
    return true;
  }
  if (s[3] != ' ' && s[3] != '-') return false;
  out.last = s[3] == ' ';
  std::string_view text = s.substr(4);
  const std::size_t e = enhanced_length(text);
  if (e > 0 && text[0] == s[0]) {
    out.enhanced = text.substr(0, e);
    text.remove_prefix(e < text.size() ? e + 1 : e);
  } else {
    out.enhanced = {};
  }
  out.text = text;
  return true;
}

ReplyParser::ReplyParser(std::size_t max_line) : framer_(max_line) {}

void ReplyParser::reset() noexcept {
  framer_.reset();
  multi_code_ = 0;
}

ReplyParser::Result ReplyParser::next(const char* p, std::size_t n) noexcept {
  const LineFramer::Result r = framer_.next(p, n);
  switch (r.status) {
    case LineFramer::Status::kNeedMore:
      return {Status::kNeedMore, r.consumed, {}};
    case LineFramer::Status::kTooLong:
      return {Status::kError, r.consumed, {}};
    case LineFramer::Status::kLine:
      break;
  }
  ReplyLine line;
  if (r.bare_newline || !parse_reply_line(r.line, line)) return {Status::kError, r.consumed, {}};
  if (multi_code_ != 0 && line.code != multi_code_) return {Status::kError, r.consumed, {}};
  multi_code_ = line.last ? 0 : line.code;
  return {Status::kLine, r.consumed, line};
}

}  // namespace mxdp::smtp
