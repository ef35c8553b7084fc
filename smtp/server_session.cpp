#include "smtp/server_session.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "smtp/address.hpp"

namespace mxdp::smtp {

namespace {

constexpr std::string_view kCrlf = "\r\n";

// Splits "VERB args": the verb is everything up to the first space.
std::pair<std::string_view, std::string_view> split_verb(std::string_view line) noexcept {
  // Most verbs have four letters (RFC 5321 §4.1.1): a look there saves a search.
  if (line.size() >= 5 && line[4] == ' ' && line[0] != ' ' && line[1] != ' ' && line[2] != ' ' &&
      line[3] != ' ')
    return {line.substr(0, 4), line.substr(5)};
  const std::size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return {line, {}};
  return {line.substr(0, sp), line.substr(sp + 1)};
}

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// 1*DIGIT without overflow; at most 20 digits.
bool parse_u64(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty() || s.size() > 20) return false;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

bool has_control(std::string_view s) noexcept {
  return std::any_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

}  // namespace

void ServerConfig::validate() const {
  auto fail = [](const char* what) { throw std::invalid_argument(what); };
  if (hostname.empty() || hostname.size() > 255 || has_control(hostname)) {
    fail("smtp server: hostname must be 1..255 octets without CR/LF; set ServerConfig::hostname");
  }
  if (max_command_line < 64 || max_command_line > 65536) {
    fail("smtp server: max_command_line must be in [64, 65536] (RFC 5321 minimum is 512)");
  }
  if (max_text_line < 64) fail("smtp server: max_text_line must be at least 64 (RFC 5321 minimum is 1000)");
  if (max_recipients < 1 || max_recipients > 100000)
    fail("smtp server: max_recipients must be in [1, 100000]");
  if (max_errors < 1) fail("smtp server: max_errors must be at least 1");
  if (output_capacity < 2048 + max_command_line) {
    fail("smtp server: output_capacity must hold 2048 bytes plus one command line; raise it");
  }
  if (idle_timeout.count() <= 0 || total_timeout.count() <= 0) fail("smtp server: timeouts must be positive");
}

const ServerSession::Verb ServerSession::kVerbs[] = {
    // Ordered by frequency in a mail stream: MAIL, RCPT and DATA/BDAT lead.
    {"RCPT", &ServerSession::on_rcpt},
    {"MAIL", &ServerSession::on_mail},
    {"DATA", &ServerSession::on_data},
    {"BDAT", &ServerSession::on_bdat},
    {"EHLO", &ServerSession::on_ehlo},
    {"HELO", &ServerSession::on_helo},
    {"RSET", &ServerSession::on_rset},
    {"NOOP", &ServerSession::on_noop},
    {"QUIT", &ServerSession::on_quit},
    {"VRFY", &ServerSession::on_vrfy},
    {"HELP", &ServerSession::on_help},
    {"EXPN", &ServerSession::on_not_implemented},
    {"STARTTLS", &ServerSession::on_not_implemented},
    {"AUTH", &ServerSession::on_not_implemented},
    {"TURN", &ServerSession::on_not_implemented},
    {"ETRN", &ServerSession::on_not_implemented},
};

ServerSession::ServerSession(const ServerConfig& config, MessageSink& sink)
    : config_((config.validate(), config)),
      sink_(sink),
      out_(config.output_capacity),
      framer_(config.max_command_line),
      scanner_(config.max_text_line),
      reply_reserve_(1024 + config.hostname.size()),
      arena_size_(kMaxPath * (config.max_recipients + 1) + 256) {
  arena_.reset(new char[arena_size_ + 256]);
  recipients_.reserve(config_.max_recipients);
  segments_.reserve(64);
}

void ServerSession::start(Time now) noexcept {
  started_ = now;
  last_input_ = now;
  phase_ = Phase::kCommand;
  // RFC 5321 §4.2: the greeting carries no enhanced code (RFC 2034 starts after EHLO).
  out_.append("220 ");
  out_.append(config_.hostname);
  out_.append(" ESMTP mxdp");
  out_.append(kCrlf);
}

bool ServerSession::wants_input() const noexcept {
  return !closing_ && phase_ != Phase::kAwaitingSink && out_.free_space() >= reply_reserve_;
}

Time ServerSession::deadline() const noexcept {
  const Time total = started_ + config_.total_timeout;
  // The idle clock stops while the sink owes an answer: the wait is ours, not the client's.
  if (phase_ == Phase::kAwaitingSink) return total;
  return std::min(total, last_input_ + config_.idle_timeout);
}

std::uint64_t ServerSession::retain_from() const noexcept {
  if (body_retained_) return body_first_feed_;
  return feed_seq_;
}

void ServerSession::on_tick(Time now) noexcept {
  if (closing_ || phase_ == Phase::kClosed) return;
  if (now >= deadline()) {
    reply(Reply::kTimeout);
    close();
  }
}

void ServerSession::shutdown() noexcept {
  if (closing_ || phase_ == Phase::kClosed) return;
  if (phase_ == Phase::kAwaitingSink) {
    shutdown_requested_ = true;
    return;
  }
  reply(Reply::kShuttingDown);
  close();
}

std::size_t ServerSession::feed(std::string_view input, Time now) noexcept {
  ++feed_seq_;
  if (closing_ || phase_ == Phase::kClosed) return input.size();  // discarded: we are closing
  if (!input.empty()) last_input_ = now;
  std::size_t pos = 0;
  while (pos < input.size() && !closing_) {
    if (phase_ == Phase::kAwaitingSink || out_.free_space() < reply_reserve_) break;
    const std::string_view rest = input.substr(pos);
    if (phase_ == Phase::kData) {
      pos += feed_data(rest);
      continue;
    }
    if (phase_ == Phase::kChunk) {
      pos += feed_chunk(rest);
      continue;
    }
    const LineFramer::Result r = framer_.next(rest.data(), rest.size());
    pos += r.consumed;
    switch (r.status) {
      case LineFramer::Status::kNeedMore:
        break;
      case LineFramer::Status::kTooLong:
        ++stats_.commands;
        reply(Reply::kLineTooLong);
        break;
      case LineFramer::Status::kLine:
        ++stats_.commands;
        if (r.bare_newline) {
          // Never split the line at the bare CR/LF: that is how smuggled
          // commands would start (2023 SMTP smuggling advisories).
          reply(Reply::kBareNewlineCommand);
        } else {
          dispatch(r.line);
        }
        break;
    }
  }
  if (closing_) return input.size();
  return pos;
}

// The four octets of a four-letter verb, case folded: OR-ing 0x20 maps exactly
// 'A'..'Z' onto 'a'..'z' and nothing else onto them, so equal keys are equal
// verbs (RFC 5321 §2.4: verbs are case-insensitive).
constexpr std::uint32_t verb_key(char a, char b, char c, char d) noexcept {
  return (static_cast<std::uint32_t>(static_cast<unsigned char>(a) | 0x20) << 24) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(b) | 0x20) << 16) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(c) | 0x20) << 8) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(d) | 0x20);
}

void ServerSession::dispatch(std::string_view line) noexcept {
  const auto [verb, args] = split_verb(line);
  if (verb.size() == 4) {
    // The verbs of every transaction, without the table walk.
    switch (verb_key(verb[0], verb[1], verb[2], verb[3])) {
      case verb_key('r', 'c', 'p', 't'):
        return on_rcpt(args);
      case verb_key('m', 'a', 'i', 'l'):
        return on_mail(args);
      case verb_key('d', 'a', 't', 'a'):
        return on_data(args);
      case verb_key('b', 'd', 'a', 't'):
        return on_bdat(args);
      default:
        break;
    }
  }
  for (const Verb& v : kVerbs) {
    if (iequals(verb, v.name)) {
      (this->*v.handler)(args);
      return;
    }
  }
  reply(Reply::kUnknownCommand);
}

// --- replies -------------------------------------------------------------

void ServerSession::reply_line(std::uint16_t code, bool more, std::string_view enhanced,
                               std::string_view text) noexcept {
  // One append per line: "ddd" SP/"-" [enhanced SP] text CRLF (RFC 5321 §4.2).
  char line[600];
  std::size_t n = 0;
  line[n++] = static_cast<char>('0' + code / 100);
  line[n++] = static_cast<char>('0' + code / 10 % 10);
  line[n++] = static_cast<char>('0' + code % 10);
  line[n++] = more ? '-' : ' ';
  if (!enhanced.empty() && enhanced.size() <= 16) {
    std::memcpy(line + n, enhanced.data(), enhanced.size());
    n += enhanced.size();
    line[n++] = ' ';
  }
  const std::size_t t = std::min(text.size(), sizeof(line) - n - 2);
  if (t > 0) std::memcpy(line + n, text.data(), t);
  n += t;
  line[n++] = '\r';
  line[n++] = '\n';
  out_.append(std::string_view(line, n));
}

void ServerSession::reply(Reply r) noexcept {
  out_.append(reply_wire(r));
  const std::uint16_t code = reply_text(r).code;
  if (code >= 400 && code != 421) count_error();
}

void ServerSession::count_error() noexcept {
  ++stats_.errors;
  if (++errors_ >= config_.max_errors && !closing_) {
    reply(Reply::kTooManyErrors);
    close();
  }
}

void ServerSession::close() noexcept {
  closing_ = true;
  phase_ = Phase::kClosed;
  body_retained_ = false;
}

// --- envelope storage ----------------------------------------------------

std::string_view ServerSession::store(std::string_view s) noexcept {
  // The arena holds max_recipients + 1 paths of at most kMaxPath octets; the
  // parsers cap every stored string at that length.
  const std::size_t n = std::min(s.size(), arena_size_ - arena_used_);
  if (n == 0) return {};
  char* dst = arena_.get() + 256 + arena_used_;
  std::memcpy(dst, s.data(), n);
  arena_used_ += n;
  return {dst, n};
}

Envelope ServerSession::envelope() const noexcept {
  Envelope e;
  e.helo = helo_;
  e.reverse_path = reverse_path_;
  e.recipients = std::span<const std::string_view>(recipients_.data(), recipients_.size());
  e.body_type = body_type_;
  e.smtputf8 = smtputf8_;
  e.chunked = chunking_;
  e.declared_size = declared_size_;
  return e;
}

void ServerSession::reset_transaction() noexcept {
  in_transaction_ = false;
  rcpt_attempted_ = false;
  smtputf8_ = false;
  body_type_ = BodyType::kUnspecified;
  declared_size_ = 0;
  chunking_ = false;
  txn_failed_ = false;
  size_exceeded_ = false;
  body_size_ = 0;
  body_retained_ = false;
  reverse_path_ = {};
  recipients_.clear();
  segments_.clear();
  arena_used_ = 0;
}

// --- commands (RFC 5321 §4.1.1; each handler checks its preconditions first) --

void ServerSession::on_ehlo(std::string_view args) noexcept {
  if (args.empty() || has_control(args)) return reply(Reply::kSyntaxHelo);
  // RFC 5321 §4.1.4: EHLO resets the state as RSET does.
  reset_transaction();
  const std::size_t n = std::min<std::size_t>(args.size(), 255);
  std::memcpy(arena_.get(), args.data(), n);
  helo_ = std::string_view(arena_.get(), n);
  greeted_ = Greeted::kEhlo;
  reply_line(250, true, {}, config_.hostname);
  if (config_.offer_pipelining) reply_line(250, true, {}, "PIPELINING");
  char size_line[32] = "SIZE ";
  std::size_t len = 5;
  {
    char digits[20];
    std::size_t k = 0;
    std::uint64_t v = config_.max_message_size;
    do {
      digits[k++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (k > 0)
      size_line[len++] = digits[--k];
  }
  reply_line(250, true, {}, std::string_view(size_line, len));
  reply_line(250, true, {}, "8BITMIME");
  reply_line(250, true, {}, "ENHANCEDSTATUSCODES");
  if (config_.offer_chunking) reply_line(250, true, {}, "CHUNKING");
  reply_line(250, false, {}, "SMTPUTF8");
}

void ServerSession::on_helo(std::string_view args) noexcept {
  if (args.empty() || has_control(args)) return reply(Reply::kSyntaxHelo);
  reset_transaction();
  const std::size_t n = std::min<std::size_t>(args.size(), 255);
  std::memcpy(arena_.get(), args.data(), n);
  helo_ = std::string_view(arena_.get(), n);
  greeted_ = Greeted::kHelo;
  reply_line(250, false, {}, config_.hostname);
}

void ServerSession::on_mail(std::string_view args) noexcept {
  if (greeted_ == Greeted::kNo) return reply(Reply::kNeedHelo);
  if (chunking_) return reply(Reply::kBadSequence);
  if (in_transaction_) return reply(Reply::kNestedMail);
  if (!istarts_with(args, "FROM:")) return reply(Reply::kSyntaxMail);
  std::string_view rest = args.substr(5);
  // RFC 5321 has no space after the colon; many clients send one (Postfix accepts it too).
  while (!rest.empty() && rest.front() == ' ')
    rest.remove_prefix(1);
  const ParsedPath path = parse_path(rest, true, true);
  if (path.error == PathError::kSyntax || path.error == PathError::kTooLong) return reply(Reply::kBadSender);
  rest.remove_prefix(path.consumed);
  if (!rest.empty() && rest.front() != ' ') return reply(Reply::kBadSender);

  bool seen_size = false, seen_body = false, utf8 = false;
  std::uint64_t size = 0;
  BodyType body = BodyType::kUnspecified;
  EsmtpParam p;
  bool ok = true;
  while (next_esmtp_param(rest, p, ok)) {
    if (!ok) return reply(Reply::kBadParameter);
    // ESMTP parameters exist only after EHLO (RFC 5321 §4.1.1.11).
    if (greeted_ != Greeted::kEhlo) return reply(Reply::kUnknownParameter);
    if (iequals(p.keyword, "SIZE")) {
      if (seen_size || !p.has_value || !parse_u64(p.value, size)) return reply(Reply::kBadParameter);
      seen_size = true;
    } else if (iequals(p.keyword, "BODY")) {
      if (seen_body || !p.has_value) return reply(Reply::kBadParameter);
      if (iequals(p.value, "7BIT")) {
        body = BodyType::k7Bit;
      } else if (iequals(p.value, "8BITMIME")) {
        body = BodyType::k8BitMime;
      } else {
        return reply(Reply::kBadParameter);
      }
      seen_body = true;
    } else if (iequals(p.keyword, "SMTPUTF8")) {
      if (utf8 || p.has_value) return reply(Reply::kBadParameter);
      utf8 = true;
    } else {
      return reply(Reply::kUnknownParameter);
    }
  }
  // RFC 1870 §6.2: refuse up front a message announced over the limit.
  if (size > config_.max_message_size) return reply(Reply::kSizeExceeded);
  if (path.non_ascii && !utf8) return reply(Reply::kNonAsciiAddress);
  reset_transaction();
  in_transaction_ = true;
  smtputf8_ = utf8;
  body_type_ = body;
  declared_size_ = size;
  reverse_path_ = store(path.mailbox);
  reply(Reply::kSenderOk);
}

void ServerSession::on_rcpt(std::string_view args) noexcept {
  if (!in_transaction_) return reply(Reply::kNeedMail);
  if (chunking_) return reply(Reply::kBadSequence);
  if (!istarts_with(args, "TO:")) return reply(Reply::kSyntaxRcpt);
  std::string_view rest = args.substr(3);
  while (!rest.empty() && rest.front() == ' ')
    rest.remove_prefix(1);
  rcpt_attempted_ = true;
  std::string_view mailbox;
  bool non_ascii = false;
  // RFC 5321 §4.1.1.3: "<Postmaster>" without a domain must be accepted.
  if (istarts_with(rest, "<postmaster>")) {
    mailbox = rest.substr(1, 10);
    rest.remove_prefix(12);
  } else {
    const ParsedPath path = parse_path(rest, false, true);
    if (path.error == PathError::kSyntax || path.error == PathError::kTooLong) {
      return reply(Reply::kBadRecipient);
    }
    mailbox = path.mailbox;
    non_ascii = path.non_ascii;
    rest.remove_prefix(path.consumed);
  }
  if (!rest.empty() && rest.front() != ' ') return reply(Reply::kBadRecipient);
  EsmtpParam p;
  bool ok = true;
  if (next_esmtp_param(rest, p, ok)) {
    // No RCPT parameters are offered (no DSN, RFC 3461).
    return reply(ok ? Reply::kUnknownParameter : Reply::kBadParameter);
  }
  if (non_ascii && !smtputf8_) return reply(Reply::kNonAsciiAddress);
  // RFC 5321 §4.5.3.1.10: 452 for recipients over the limit; the client
  // sends them in a later transaction.
  if (recipients_.size() >= config_.max_recipients) return reply(Reply::kTooManyRecipients);
  switch (sink_.check_recipient(mailbox, envelope())) {
    case RecipientVerdict::kAccept:
      break;
    case RecipientVerdict::kTempFail:
      return reply(Reply::kRecipientTempFail);
    case RecipientVerdict::kReject:
      return reply(Reply::kRecipientRejected);
  }
  recipients_.push_back(store(mailbox));
  reply(Reply::kRecipientOk);
}

void ServerSession::on_data(std::string_view args) noexcept {
  if (!args.empty()) return reply(Reply::kSyntaxNoArgs);
  if (!in_transaction_) return reply(Reply::kNeedMail);
  if (chunking_) return reply(Reply::kDataAfterBdat);
  if (recipients_.empty()) return reply(rcpt_attempted_ ? Reply::kNoValidRecipients : Reply::kNeedRcpt);
  reply(Reply::kStartData);
  start_body(DataScanner::Mode::kData);
  phase_ = Phase::kData;
}

void ServerSession::start_body(DataScanner::Mode mode) noexcept {
  scanner_.reset(mode);
  segments_.clear();
  body_size_ = 0;
  size_exceeded_ = false;
  // The body may begin in the span being fed now (its sequence is feed_seq_ - 1).
  body_first_feed_ = feed_seq_ - 1;
  body_retained_ = true;
}

void ServerSession::on_bdat(std::string_view args) noexcept {
  // RFC 3030 §2: "BDAT" SP chunk-size [SP end-marker].
  const std::size_t sp = args.find(' ');
  const std::string_view size_text = args.substr(0, sp);
  bool last = false;
  if (sp != std::string_view::npos) {
    if (!iequals(args.substr(sp + 1), "LAST")) {
      reply(Reply::kSyntaxBdat);
      return close();
    }
    last = true;
  }
  std::uint64_t size = 0;
  if (!parse_u64(size_text, size)) {
    // Without a size we cannot find the end of the chunk; reading its bytes as
    // commands would let them smuggle commands, so we close instead.
    reply(Reply::kSyntaxBdat);
    return close();
  }
  chunk_last_ = last;
  chunk_remaining_ = size;
  chunk_ok_ = false;
  // RFC 3030 §2: the chunk is read (and discarded) even when the command fails.
  if (greeted_ == Greeted::kNo) {
    chunk_error_ = Reply::kNeedHelo;
  } else if (!in_transaction_) {
    chunk_error_ = Reply::kNeedMail;
  } else if (recipients_.empty()) {
    chunk_error_ = rcpt_attempted_ ? Reply::kNoValidRecipients : Reply::kNeedRcpt;
  } else if (txn_failed_) {
    chunk_error_ = Reply::kTransactionFailed;
  } else {
    chunk_ok_ = true;
    if (!chunking_) {
      chunking_ = true;
      start_body(DataScanner::Mode::kChunk);
    }
  }
  phase_ = Phase::kChunk;
  if (size == 0) finish_chunk();
}

void ServerSession::on_rset(std::string_view args) noexcept {
  if (!args.empty()) return reply(Reply::kSyntaxNoArgs);
  reset_transaction();
  reply(Reply::kOk);
}

void ServerSession::on_noop(std::string_view) noexcept {
  reply(Reply::kOk);
}

void ServerSession::on_quit(std::string_view args) noexcept {
  if (!args.empty()) return reply(Reply::kSyntaxNoArgs);
  reply(Reply::kBye);
  close();
}

void ServerSession::on_vrfy(std::string_view args) noexcept {
  if (args.empty()) return reply(Reply::kSyntaxVrfy);
  reply(Reply::kCannotVrfy);
}

void ServerSession::on_help(std::string_view) noexcept {
  reply(Reply::kHelp);
}

void ServerSession::on_not_implemented(std::string_view) noexcept {
  reply(Reply::kNotImplemented);
}

// --- message content -----------------------------------------------------

void ServerSession::add_segment(const char* p, std::size_t n) noexcept {
  if (n == 0) return;
  body_size_ += n;
  if (size_exceeded_) return;
  if (body_size_ > config_.max_message_size) {
    // Keep reading to the end mark, but hold nothing: the message is refused.
    size_exceeded_ = true;
    segments_.clear();
    body_retained_ = false;
    return;
  }
  if (!segments_.empty() && segments_.back().data() + segments_.back().size() == p) {
    segments_.back() = std::string_view(segments_.back().data(), segments_.back().size() + n);
    return;
  }
  segments_.emplace_back(p, n);
}

std::size_t ServerSession::feed_data(std::string_view in) noexcept {
  const char* base = in.data();
  std::size_t seg = 0;
  std::size_t off = 0;
  for (;;) {
    const DataScanner::Result r = scanner_.scan(base + off, in.size() - off);
    const std::size_t at = off + r.offset;
    switch (r.event) {
      case DataScanner::Event::kDot:
        // RFC 5321 §4.5.2: the leading dot is not content: end the segment before it.
        add_segment(base + seg, at - seg);
        seg = at + 1;
        off = at + 1;
        continue;
      case DataScanner::Event::kEnd:
        // The segment was closed at the end mark's dot; its CR LF is not content.
        commit();
        return at;
      case DataScanner::Event::kNeedMore: {
        std::size_t end = in.size();
        if (scanner_.holding_end_cr() && end > seg) --end;
        add_segment(base + seg, end - seg);
        return in.size();
      }
    }
  }
}

std::size_t ServerSession::feed_chunk(std::string_view in) noexcept {
  const std::size_t take = static_cast<std::size_t>(
      std::min<std::uint64_t>(chunk_remaining_, static_cast<std::uint64_t>(in.size())));
  if (chunk_ok_) {
    scanner_.scan(in.data(), take);  // kChunk mode: no events, only bare-newline and line checks
    add_segment(in.data(), take);
  }
  chunk_remaining_ -= take;
  if (chunk_remaining_ == 0) finish_chunk();
  return take;
}

void ServerSession::finish_chunk() noexcept {
  phase_ = Phase::kCommand;
  if (!chunk_ok_) {
    reply(chunk_error_);
    if (chunk_last_ && chunking_) reset_transaction();
    return;
  }
  if (size_exceeded_) {
    // RFC 3030 §2 / RFC 1870: the chunk that crosses the limit fails; later
    // chunks of the transaction answer "transaction failed".
    txn_failed_ = true;
    reply(Reply::kSizeExceeded);
    ++stats_.messages_rejected;
    if (chunk_last_) reset_transaction();
    return;
  }
  if (!chunk_last_) {
    out_.append("250 2.0.0 Ok: ");
    out_.append_number(body_size_);
    out_.append(" octets received\r\n");
    return;
  }
  commit();
}

void ServerSession::commit() noexcept {
  phase_ = Phase::kCommand;
  Reply refused = Reply::kOk;
  if (scanner_.bare_newline()) {
    refused = Reply::kBareNewlineData;
  } else if (size_exceeded_) {
    refused = Reply::kSizeExceeded;
  } else if (scanner_.line_too_long()) {
    refused = Reply::kTextLineTooLong;
  }
  if (refused != Reply::kOk) {
    ++stats_.messages_rejected;
    reply(refused);
    reset_transaction();
    return;
  }
  ++txn_;
  Body body;
  body.segments = std::span<const std::string_view>(segments_.data(), segments_.size());
  body.size = body_size_;
  body.first_feed = body_first_feed_;
  body.last_feed = feed_seq_ - 1;
  const SinkAnswer answer = sink_.on_message(envelope(), body, txn_);
  if (answer.verdict == Verdict::kPending) {
    phase_ = Phase::kAwaitingSink;
    return;
  }
  apply_answer(answer);
}

bool ServerSession::complete(std::uint64_t txn, const SinkAnswer& answer) noexcept {
  if (phase_ != Phase::kAwaitingSink || txn != txn_ || answer.verdict == Verdict::kPending) return false;
  phase_ = Phase::kCommand;
  apply_answer(answer);
  if (shutdown_requested_) shutdown();
  return true;
}

void ServerSession::apply_answer(const SinkAnswer& answer) noexcept {
  Reply base = Reply::kQueued;
  if (answer.verdict == Verdict::kTempFail) base = Reply::kTempFailed;
  if (answer.verdict == Verdict::kPermFail) base = Reply::kPermFailed;
  const ReplyText& t = reply_text(base);
  if ((answer.code == 0 || answer.code == t.code) &&
      (answer.enhanced.empty() || answer.enhanced == t.enhanced) &&
      (answer.text.empty() || answer.text == t.text)) {
    // The standard reply (what a sink that accepts with "Ok: queued" gets).
    out_.append(reply_wire(base));
  } else {
    reply_custom(answer, t);
  }
  if (answer.verdict == Verdict::kAccept) {
    ++stats_.messages_accepted;
  } else {
    ++stats_.messages_rejected;
  }
  reset_transaction();
}

void ServerSession::reply_custom(const SinkAnswer& answer, const ReplyText& t) noexcept {
  std::uint16_t code = t.code;
  // A sink may pick a more precise code of the same class (e.g. 554 instead of 550).
  if (answer.code >= 200 && answer.code <= 599 && answer.code / 100 == t.code / 100) code = answer.code;
  const bool custom_enh = !answer.enhanced.empty() && answer.enhanced.size() <= 16 &&
                          !has_control(answer.enhanced) &&
                          answer.enhanced[0] == static_cast<char>('0' + code / 100);
  // Text that could break the reply framing is never copied out.
  const bool custom_text = !answer.text.empty() && answer.text.size() <= 400 && !has_control(answer.text);
  reply_line(code, false, custom_enh ? answer.enhanced : t.enhanced, custom_text ? answer.text : t.text);
}

}  // namespace mxdp::smtp
