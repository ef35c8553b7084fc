#include "smtp/client_session.hpp"

#include "smtp/line_break.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "smtp/address.hpp"

namespace mxdp::smtp {

namespace {

// Room kept free in the output buffer before a command is written: the longest
// command (MAIL with a 256-octet path and every parameter) fits with slack.
constexpr std::size_t kCommandRoom = 512;

// Size of the content once every bare CR and bare LF is sent as CRLF (the BDAT
// chunk size and the SIZE= estimate).
std::uint64_t body_size(std::span<const std::string_view> body) noexcept {
  std::uint64_t n = 0;
  bool after_cr = false;  // the byte before (perhaps in the previous segment) was a CR
  for (auto s : body) {
    n += s.size();
    const char* p = s.data();
    const char* end = p + s.size();
    while (p < end) {
      if (after_cr) {
        after_cr = false;
        if (*p == '\n') {  // CRLF
          ++p;
          continue;
        }
        ++n;  // the CR was bare and gains an LF
      }
      p = find_line_break(p, end);
      if (p == end) break;
      if (*p == '\n') {
        ++n;  // bare LF gains a CR
      } else {
        after_cr = true;
      }
      ++p;
    }
  }
  if (after_cr) ++n;
  return n;
}

std::uint64_t total_size(std::span<const std::string_view> body) noexcept {
  std::uint64_t n = 0;
  for (auto s : body)
    n += s.size();
  return n;
}

// The content size as sent: the bytes themselves when already in wire form.
std::uint64_t content_size(const OutgoingMessage& m) noexcept {
  return m.wire_ready ? total_size(m.body) : body_size(m.body);
}

std::string_view number(std::uint64_t v, char (&buf)[24]) noexcept {
  std::size_t k = sizeof(buf);
  do {
    buf[--k] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  return {buf + k, sizeof(buf) - k};
}

bool positive(std::uint16_t code) noexcept {
  return code >= 200 && code < 300;
}

}  // namespace

bool is_wire_ready(std::span<const std::string_view> body) noexcept {
  char prev2 = '\r', prev = '\n';  // as if after a CRLF: the first line opens here
  bool any = false;
  for (auto s : body) {
    for (char c : s) {
      any = true;
      if (prev == '\r' && c != '\n') return false;                  // bare CR
      if (c == '\n' && prev != '\r') return false;                  // bare LF
      if (c == '.' && prev == '\n' && prev2 == '\r') return false;  // a line opening with '.'
      prev2 = prev;
      prev = c;
    }
  }
  return any && prev2 == '\r' && prev == '\n';
}

void ClientConfig::validate() const {
  if (helo_name.empty() || helo_name.size() > 255 || helo_name.find_first_of("\r\n ") != std::string::npos) {
    throw std::invalid_argument("smtp client: helo_name must be 1..255 octets without spaces or CR/LF");
  }
  if (output_capacity < 4096)
    throw std::invalid_argument("smtp client: output_capacity must be at least 4096");
  if (max_in_flight < 1 || max_queued < 1 || max_recipients < 1) {
    throw std::invalid_argument(
        "smtp client: max_in_flight, max_queued and max_recipients must be at least 1");
  }
}

ClientSession::ClientSession(const ClientConfig& config, ClientObserver& observer)
    : config_((config.validate(), config)), observer_(observer), out_(config.output_capacity) {
  txns_.resize(config_.max_queued);
  rcpt_codes_.resize(config_.max_queued * config_.max_recipients);
  // Every reply we can wait for at once: the greeting/EHLO/QUIT, and per
  // transaction in flight RSET, MAIL, each RCPT and DATA/BDAT plus its end.
  expects_.resize(config_.max_in_flight * (config_.max_recipients + 4) + 8);
  push_expect(Expect::kGreeting);
}

void ClientSession::push_expect(Expect kind, std::uint32_t rcpt) noexcept {
  expects_[expect_tail_++ % expects_.size()] = Pending{kind, rcpt};
}

void ClientSession::consume_output(std::size_t n) noexcept {
  if (n > 0) ++progress_;
  out_.consume(n);
  pump();  // a long body continues as room frees up
}

bool ClientSession::submit(const OutgoingMessage& message) noexcept {
  if (state_ == State::kQuitting || state_ == State::kClosed || quit_requested_) return false;
  if (outstanding() >= txns_.size()) return false;
  if (message.recipients.empty() || message.recipients.size() > config_.max_recipients) return false;
  Txn& t = txn(tail_);
  t = Txn{};
  t.msg = message;
  std::fill_n(codes(tail_), message.recipients.size(), std::uint16_t{0});
  ++tail_;
  pump();
  return true;
}

void ClientSession::quit() noexcept {
  quit_requested_ = true;
  pump();
}

void ClientSession::write_command(std::string_view a, std::string_view b, std::string_view c) noexcept {
  out_.append(a);
  out_.append(b);
  out_.append(c);
  out_.append("\r\n");
}

std::size_t ClientSession::feed(std::string_view input) noexcept {
  std::size_t pos = 0;
  while (pos < input.size() && state_ != State::kClosed) {
    const ReplyParser::Result r = parser_.next(input.data() + pos, input.size() - pos);
    pos += r.consumed;
    if (r.status == ReplyParser::Status::kNeedMore) break;
    if (r.status == ReplyParser::Status::kError) {
      // The server broke the reply syntax: nothing after it can be trusted.
      fail_all(nullptr);
      state_ = State::kClosed;
      break;
    }
    ++progress_;
    on_line(r.line);
  }
  pump();
  return input.size();
}

void ClientSession::on_line(const ReplyLine& line) noexcept {
  if (expect_head_ != expect_tail_ && expects_[expect_head_ % expects_.size()].kind == Expect::kEhlo &&
      positive(line.code)) {
    // RFC 5321 §4.1.1.1: the first EHLO line names the server, each further one an extension.
    if (!line.last || ehlo_lines_ > 0) {
      std::string_view kw = line.text;
      std::string_view arg;
      const std::size_t sp = kw.find(' ');
      if (sp != std::string_view::npos) {
        arg = kw.substr(sp + 1);
        kw = kw.substr(0, sp);
      }
      if (ehlo_lines_ > 0) {
        if (iequals(kw, "PIPELINING")) caps_.pipelining = true;
        if (iequals(kw, "CHUNKING")) caps_.chunking = true;
        if (iequals(kw, "8BITMIME")) caps_.eight_bit_mime = true;
        if (iequals(kw, "SMTPUTF8")) caps_.smtputf8 = true;
        if (iequals(kw, "ENHANCEDSTATUSCODES")) caps_.enhanced_status_codes = true;
        if (iequals(kw, "SIZE")) {
          caps_.size = true;
          std::uint64_t v = 0;
          for (const char ch : arg) {
            if (ch < '0' || ch > '9' || v > (UINT64_MAX - 9) / 10) break;
            v = v * 10 + static_cast<std::uint64_t>(ch - '0');
          }
          caps_.max_size = v;
        }
      }
    }
    ++ehlo_lines_;
  }
  if (line.last) on_reply(line);
}

void ClientSession::remember(Txn& t, const ReplyLine& line) noexcept {
  if (t.decided_code != 0) return;
  t.decided_code = line.code;
  t.decided_enh_len = static_cast<std::uint8_t>(std::min(line.enhanced.size(), sizeof(t.decided_enh)));
  if (t.decided_enh_len > 0) std::memcpy(t.decided_enh, line.enhanced.data(), t.decided_enh_len);
  t.decided_text_len = static_cast<std::uint8_t>(std::min(line.text.size(), sizeof(t.decided_text)));
  if (t.decided_text_len > 0) std::memcpy(t.decided_text, line.text.data(), t.decided_text_len);
}

void ClientSession::on_reply(const ReplyLine& line) noexcept {
  if (expect_head_ == expect_tail_) {
    // A reply nobody asked for: the server is out of step with us.
    fail_all(&line);
    state_ = State::kClosed;
    return;
  }
  const Pending p = expects_[expect_head_++ % expects_.size()];
  switch (p.kind) {
    case Expect::kGreeting:
      if (line.code != 220) {
        fail_all(&line);
        write_command("QUIT");
        push_expect(Expect::kQuit);
        state_ = State::kQuitting;
        return;
      }
      write_command("EHLO ", config_.helo_name);
      push_expect(Expect::kEhlo);
      ehlo_lines_ = 0;
      state_ = State::kEhlo;
      return;
    case Expect::kEhlo:
      if (positive(line.code)) {
        caps_.esmtp = true;
        state_ = State::kReady;
      } else if (line.code >= 500) {
        // RFC 5321 §3.2: an old server refuses EHLO; fall back to HELO.
        caps_ = Capabilities{};
        write_command("HELO ", config_.helo_name);
        push_expect(Expect::kHelo);
        state_ = State::kHelo;
      } else {
        fail_all(&line);
        state_ = State::kClosed;
      }
      return;
    case Expect::kHelo:
      if (positive(line.code)) {
        state_ = State::kReady;
      } else {
        fail_all(&line);
        state_ = State::kClosed;
      }
      return;
    case Expect::kQuit:
      state_ = State::kClosed;
      return;
    case Expect::kRset:
      break;
    default:
      break;
  }
  // Transaction replies always belong to the oldest unreported transaction
  // whose replies are not all in: replies come back in command order (RFC 2920
  // §3.1), and every earlier transaction has been reported by then.
  Txn& t = txn(head_);
  switch (p.kind) {
    case Expect::kRset:
      break;
    case Expect::kMail:
      t.mail_ok = positive(line.code);
      if (!t.mail_ok) remember(t, line);
      break;
    case Expect::kRcpt:
      codes(head_)[p.rcpt] = line.code;
      if (positive(line.code)) {
        ++t.accepted;
      } else {
        remember(t, line);
      }
      break;
    case Expect::kData:
      awaiting_354_ = false;
      if (line.code == 354) {
        // RFC 5321 §4.1.1.4: now the content, dot-stuffed, then <CRLF>.<CRLF>.
        body_active_ = true;
        body_stuffed_ = true;
        body_seg_ = 0;
        body_off_ = 0;
        body_line_start_ = true;
        body_skip_lf_ = false;
        break;
      }
      // Any other reply ends the transaction: the content is never sent.
      t.stage = Stage::kSent;
      ++send_;
      finish_head(&line);
      break;
    case Expect::kDataEnd:
    case Expect::kBdat:
      finish_head(&line);
      break;
    default:
      break;
  }
  // RFC 5321 §3.8: 421 means the server is closing the channel.
  if (line.code == 421 && state_ != State::kClosed) {
    fail_all(&line);
    state_ = State::kClosed;
  }
}

void ClientSession::finish_head(const ReplyLine* line) noexcept {
  Txn& t = txn(head_);
  MessageResult r;
  r.cookie = t.msg.cookie;
  r.recipient_codes = std::span<const std::uint16_t>(codes(head_), t.msg.recipients.size());
  r.accepted_recipients = t.accepted;
  const bool accepted = line != nullptr && positive(line->code);
  if (accepted) {
    r.code = line->code;
    r.enhanced = line->enhanced;
    r.text = line->text;
  } else if (t.decided_code != 0 && (!t.mail_ok || t.accepted == 0)) {
    // The final reply is only the consequence (503/554); report the cause.
    r.code = t.decided_code;
    r.enhanced = std::string_view(t.decided_enh, t.decided_enh_len);
    r.text = std::string_view(t.decided_text, t.decided_text_len);
  } else if (line != nullptr) {
    r.code = line->code;
    r.enhanced = line->enhanced;
    r.text = line->text;
  }
  if (r.code == 0) {
    r.outcome = Outcome::kNotSent;
  } else if (positive(r.code)) {
    r.outcome = Outcome::kAccepted;
  } else if (r.code < 500) {
    r.outcome = Outcome::kTempFailed;
  } else {
    r.outcome = Outcome::kPermFailed;
  }
  last_left_open_ = !accepted && t.mail_ok;
  ++head_;
  observer_.on_result(r);
}

void ClientSession::fail_all(const ReplyLine* line) noexcept {
  body_active_ = false;
  awaiting_354_ = false;
  while (head_ < tail_) {
    if (send_ <= head_) send_ = head_ + 1;
    finish_head(line);
  }
  send_ = head_;
  expect_head_ = expect_tail_;
}

std::chrono::nanoseconds ClientSession::deadline() const noexcept {
  if (expect_head_ == expect_tail_ || state_ == State::kClosed) return std::chrono::nanoseconds::max();
  const Expect front = expects_[expect_head_ % expects_.size()].kind;
  const bool after_content = front == Expect::kDataEnd || front == Expect::kBdat;
  return last_progress_ + (after_content ? config_.data_end_timeout : config_.reply_timeout);
}

void ClientSession::on_tick(std::chrono::nanoseconds now) noexcept {
  if (progress_ != progress_at_tick_) {
    progress_at_tick_ = progress_;
    last_progress_ = now;
    return;
  }
  if (now >= deadline()) {
    fail_all(nullptr);
    state_ = State::kClosed;
  }
}

void ClientSession::connection_lost() noexcept {
  fail_all(nullptr);
  state_ = State::kClosed;
}

bool ClientSession::write_body() noexcept {
  Txn& t = txn(send_);
  const auto body = t.msg.body;
  if (t.msg.wire_ready) {
    // Already canonical, nothing to stuff, ends in CRLF: copied as it is.
    while (body_seg_ < body.size()) {
      const std::string_view rest = body[body_seg_].substr(body_off_);
      const std::size_t n = std::min(rest.size(), out_.free_space());
      if (n == 0 && !rest.empty()) return false;
      out_.append(rest.substr(0, n));
      body_off_ += n;
      if (body_off_ == body[body_seg_].size()) {
        ++body_seg_;
        body_off_ = 0;
      }
    }
    body_line_start_ = true;
  }
  while (body_seg_ < body.size()) {
    const std::string_view seg = body[body_seg_];
    if (body_off_ >= seg.size()) {
      ++body_seg_;
      body_off_ = 0;
      continue;
    }
    std::size_t room = out_.free_space();
    if (room < 16) return false;
    // Line ends made canonical for DATA and BDAT alike: a bare CR or LF goes
    // out as CRLF, so what we relay can never smuggle (RFC 5321 §2.3.8) and a
    // strict server takes it. DATA is dot-stuffed as well (RFC 5321 §4.5.2).
    // Each input byte becomes at most two output bytes.
    // The run up to the next CR or LF goes out as it is, in one append; only
    // a dot opening a line (DATA) is not part of a run.
    const char c = seg[body_off_];
    if (c != '\r' && c != '\n' && !(body_stuffed_ && body_line_start_ && c == '.')) {
      const char* from = seg.data() + body_off_;
      const char* to = find_line_break(from, seg.data() + seg.size());
      const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(to - from), room - 4);
      out_.append(std::string_view(from, n));
      body_off_ += n;
      body_skip_lf_ = false;
      body_line_start_ = false;
      continue;
    }
    ++body_off_;
    if (c == '\r') {
      out_.append("\r\n");
      body_skip_lf_ = true;
      body_line_start_ = true;
    } else if (c == '\n') {
      if (!body_skip_lf_) out_.append("\r\n");
      body_skip_lf_ = false;
      body_line_start_ = true;
    } else {  // a dot opening a line: doubled (RFC 5321 §4.5.2)
      out_.append("..");
      body_skip_lf_ = false;
      body_line_start_ = false;
    }
  }
  if (body_stuffed_) {
    if (out_.free_space() < 8) return false;
    // RFC 5321 §4.1.1.4: content that does not end in CRLF gets one before the end mark.
    if (!body_line_start_) out_.append("\r\n");
    out_.append(".\r\n");
    push_expect(Expect::kDataEnd);
  }
  body_active_ = false;
  t.stage = Stage::kSent;
  ++send_;
  return true;
}

void ClientSession::pump() noexcept {
  if (state_ != State::kReady) return;
  for (;;) {
    if (body_active_ && !write_body()) return;
    if (awaiting_354_) return;
    if (!caps_.pipelining && expect_head_ != expect_tail_) return;  // one command per round trip
    if (out_.free_space() < kCommandRoom) return;
    if (send_ == tail_) {
      if (quit_requested_ && head_ == tail_) {
        write_command("QUIT");
        push_expect(Expect::kQuit);
        state_ = State::kQuitting;
      }
      return;
    }
    Txn& t = txn(send_);
    if (t.stage == Stage::kFresh) {
      const std::uint64_t ahead = send_ - head_;
      if (ahead >= (caps_.pipelining ? config_.max_in_flight : 1)) return;
      t.use_bdat = caps_.chunking && config_.prefer_chunking;
      t.stage = (ahead > 0 || last_left_open_) ? Stage::kRset : Stage::kMail;
      last_left_open_ = false;
    }
    switch (t.stage) {
      case Stage::kRset:
        write_command("RSET");
        push_expect(Expect::kRset);
        t.stage = Stage::kMail;
        break;
      case Stage::kMail: {
        out_.append("MAIL FROM:<");
        out_.append(t.msg.reverse_path);
        out_.append(">");
        if (caps_.size) {
          char buf[24];
          out_.append(" SIZE=");
          out_.append(number(content_size(t.msg), buf));
        }
        if (t.msg.eight_bit && caps_.eight_bit_mime) out_.append(" BODY=8BITMIME");
        if (t.msg.smtputf8 && caps_.smtputf8) out_.append(" SMTPUTF8");
        out_.append("\r\n");
        push_expect(Expect::kMail);
        t.stage = Stage::kRcpt;
        t.next_rcpt = 0;
        break;
      }
      case Stage::kRcpt:
        if (t.next_rcpt < t.msg.recipients.size()) {
          write_command("RCPT TO:<", t.msg.recipients[t.next_rcpt], ">");
          push_expect(Expect::kRcpt, static_cast<std::uint32_t>(t.next_rcpt));
          ++t.next_rcpt;
        } else {
          t.stage = Stage::kData;
        }
        break;
      case Stage::kData:
        if (t.use_bdat) {
          // RFC 3030: one chunk with the whole content, pipelined with the envelope.
          char buf[24];
          write_command("BDAT ", number(content_size(t.msg), buf), " LAST");
          push_expect(Expect::kBdat);
          body_active_ = true;
          body_stuffed_ = false;
          body_seg_ = 0;
          body_off_ = 0;
        } else {
          // RFC 2920 §3.1: DATA is the last command of a group; wait for 354.
          write_command("DATA");
          push_expect(Expect::kData);
          awaiting_354_ = true;
        }
        t.stage = Stage::kBody;
        break;
      case Stage::kFresh:
      case Stage::kBody:
      case Stage::kSent:
        return;
    }
  }
}

}  // namespace mxdp::smtp
