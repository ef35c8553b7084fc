#pragma once
// The SMTP client engine (RFC 5321) for one connection: used by the referral
// relay and the load generator. Transport-independent like the server: the
// transport feeds server bytes in, drains output(), and closes when
// wants_close().
//
// It greets with EHLO (falling back to HELO when EHLO is refused), reads the
// capabilities, and sends the submitted messages in order over one
// connection: with PIPELINING (RFC 2920) whole transactions go out in groups
// (MAIL, RCPT..., then DATA, or BDAT with the body when the server offers
// CHUNKING, RFC 3030), up to max_in_flight transactions ahead of their final
// reply; without it, one command per round trip. A transaction sent behind an
// unfinished one, or after one that may have left the server's transaction
// open, starts with RSET, so recipients can never join the wrong envelope.
// Each message's outcome is reported once, in submission order, with the
// server's deciding reply and one reply code per recipient.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/output_buffer.hpp"
#include "smtp/reply_parser.hpp"

namespace mxdp::smtp {

struct ClientConfig {
  std::string helo_name = "mxdp-client.localdomain";
  std::size_t output_capacity = 65536;
  std::size_t max_in_flight = 16;     // transactions sent ahead of their final reply (with PIPELINING)
  std::size_t max_queued = 1024;      // submitted and not yet reported
  std::size_t max_recipients = 1000;  // per message
  bool prefer_chunking = true;        // BDAT when the server offers CHUNKING
  // RFC 5321 §4.5.3.2: 5 minutes for a reply, 10 for the one after the content.
  std::chrono::nanoseconds reply_timeout = std::chrono::minutes(5);
  std::chrono::nanoseconds data_end_timeout = std::chrono::minutes(10);

  // Throws std::invalid_argument naming the field and the fix (start-up only).
  void validate() const;
};

struct Capabilities {
  bool esmtp = false;  // EHLO accepted
  bool pipelining = false;
  bool chunking = false;
  bool eight_bit_mime = false;
  bool smtputf8 = false;
  bool enhanced_status_codes = false;
  bool size = false;
  std::uint64_t max_size = 0;  // SIZE value; 0: no fixed limit
};

// The message stays owned by the caller and must stay valid until its result
// has been reported.
struct OutgoingMessage {
  std::string_view reverse_path;                 // mailbox without brackets; empty: "<>"
  std::span<const std::string_view> recipients;  // mailboxes without brackets
  std::span<const std::string_view> body;        // text with CRLF line ends, not dot-stuffed
  // The body is already in wire form (is_wire_ready(body)): its bytes go out
  // as they are, with no per-line scan. A sender that sends one body many
  // times (the load generator, a relay fanning out) checks once.
  bool wire_ready = false;
  bool eight_bit = false;    // send BODY=8BITMIME when offered
  bool smtputf8 = false;     // send SMTPUTF8 when offered
  std::uint64_t cookie = 0;  // returned in the result
};

// True when `body` needs no change on the wire for DATA or BDAT: it is not
// empty, every CR is followed by LF and every LF preceded by CR (RFC 5321
// §2.3.8), no line opens with '.' (nothing to dot-stuff, §4.5.2) and it ends
// in CRLF (no line end to add before the end mark, §4.1.1.4).
bool is_wire_ready(std::span<const std::string_view> body) noexcept;

enum class Outcome : std::uint8_t {
  kAccepted,    // 2xx to the end of data (some recipients may have failed: see recipient_codes)
  kTempFailed,  // 4xx: try again later
  kPermFailed,  // 5xx
  kNotSent,     // the connection failed before the server answered
};

struct MessageResult {
  std::uint64_t cookie = 0;
  Outcome outcome = Outcome::kNotSent;
  std::uint16_t code = 0;     // the deciding reply (0: none)
  std::string_view enhanced;  // views valid during the callback
  std::string_view text;
  std::span<const std::uint16_t> recipient_codes;  // one per recipient, 0 if never answered
  std::size_t accepted_recipients = 0;
};

class ClientObserver {
 public:
  virtual ~ClientObserver() = default;
  virtual void on_result(const MessageResult& result) noexcept = 0;
};

class ClientSession {
 public:
  ClientSession(const ClientConfig& config, ClientObserver& observer);

  // Queues a message; false when max_queued are outstanding, the message has
  // more than max_recipients or none, or the session is closing.
  bool submit(const OutgoingMessage& message) noexcept;
  // Sends QUIT once every queued message is done.
  void quit() noexcept;
  // Server bytes; always consumes everything.
  std::size_t feed(std::string_view input) noexcept;
  // The connection broke: every outstanding message is reported kNotSent
  // (or with the last reply seen) and the session closes.
  void connection_lost() noexcept;

  std::string_view output() const noexcept { return out_.view(); }
  void consume_output(std::size_t n) noexcept;

  // Timeouts: the transport calls on_tick() with its monotonic clock (often,
  // or at deadline()). When the server owes a reply for longer than the
  // configured timeout, every outstanding message is reported (kNotSent: the
  // server may or may not have it) and the session closes.
  void on_tick(std::chrono::nanoseconds now) noexcept;
  std::chrono::nanoseconds deadline() const noexcept;

  bool ready() const noexcept { return state_ == State::kReady; }
  bool wants_close() const noexcept { return state_ == State::kClosed; }
  const Capabilities& capabilities() const noexcept { return caps_; }
  std::size_t outstanding() const noexcept { return static_cast<std::size_t>(tail_ - head_); }

 private:
  enum class State : std::uint8_t { kGreeting, kEhlo, kHelo, kReady, kQuitting, kClosed };
  enum class Stage : std::uint8_t { kFresh, kRset, kMail, kRcpt, kData, kBody, kSent };
  enum class Expect : std::uint8_t {
    kGreeting,
    kEhlo,
    kHelo,
    kRset,
    kMail,
    kRcpt,
    kData,
    kDataEnd,
    kBdat,
    kQuit
  };
  struct Pending {
    Expect kind;
    std::uint32_t rcpt;
  };
  struct Txn {
    OutgoingMessage msg;
    Stage stage = Stage::kFresh;
    bool use_bdat = false;
    bool mail_ok = false;
    std::size_t next_rcpt = 0;
    std::size_t accepted = 0;
    std::uint16_t decided_code = 0;  // first failure seen (MAIL or RCPT), kept for the report
    std::uint8_t decided_enh_len = 0;
    std::uint8_t decided_text_len = 0;
    char decided_enh[16];
    char decided_text[200];
  };

  Txn& txn(std::uint64_t i) noexcept { return txns_[i % txns_.size()]; }
  std::uint16_t* codes(std::uint64_t i) noexcept {
    return &rcpt_codes_[(i % txns_.size()) * config_.max_recipients];
  }
  void push_expect(Expect kind, std::uint32_t rcpt = 0) noexcept;
  void on_line(const ReplyLine& line) noexcept;
  void on_reply(const ReplyLine& line) noexcept;
  void finish_head(const ReplyLine* line) noexcept;
  void fail_all(const ReplyLine* line) noexcept;
  void remember(Txn& t, const ReplyLine& line) noexcept;
  void pump() noexcept;
  bool write_body() noexcept;
  void write_command(std::string_view a, std::string_view b = {}, std::string_view c = {}) noexcept;

  ClientConfig config_;
  ClientObserver& observer_;
  OutputBuffer out_;
  ReplyParser parser_;
  Capabilities caps_;
  State state_ = State::kGreeting;
  bool quit_requested_ = false;
  bool awaiting_354_ = false;
  std::size_t ehlo_lines_ = 0;   // lines of the EHLO reply read so far
  bool last_left_open_ = false;  // the previous transaction may still be open on the server

  std::vector<Txn> txns_;                  // ring, max_queued slots
  std::vector<std::uint16_t> rcpt_codes_;  // max_recipients per slot
  std::uint64_t head_ = 0;                 // oldest unreported
  std::uint64_t send_ = 0;                 // next to send
  std::uint64_t tail_ = 0;                 // next free
  std::vector<Pending> expects_;           // ring of replies we wait for, in order
  std::uint64_t expect_head_ = 0;
  std::uint64_t expect_tail_ = 0;

  // Progress seen by on_tick(): replies read and output drained.
  std::uint64_t progress_ = 0;
  std::uint64_t progress_at_tick_ = ~std::uint64_t{0};
  std::chrono::nanoseconds last_progress_{0};

  // Body being written (DATA: dot-stuffed, RFC 5321 §4.5.2; BDAT: raw).
  bool body_active_ = false;
  bool body_stuffed_ = false;
  std::size_t body_seg_ = 0;
  std::size_t body_off_ = 0;
  bool body_line_start_ = true;
  bool body_skip_lf_ = false;
};

}  // namespace mxdp::smtp
