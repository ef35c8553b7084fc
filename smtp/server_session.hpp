#pragma once
// The SMTP server engine (RFC 5321) for one connection: resumable, copy-free,
// transport-independent.
//
// The transport (DPDK TCP, kernel sockets, a test) drives it:
//
//   session.start(now);                       // greeting into output()
//   loop:
//     n = session.feed(bytes, now);           // all bytes of one receive burst
//     send(session.output()); session.consume_output(sent);
//     keep bytes[n..] if n < bytes.size() and feed them again later
//     release input spans with feed sequence < session.retain_from()
//     close once session.wants_close() and output() is empty
//     session.on_tick(now) when session.deadline() passes
//
// All replies to one burst are appended together, so a pipelined group (RFC
// 2920) is answered in one segment. feed() consumes less than it was given only
// when it must wait: for a deferred sink answer (complete()) or for room in the
// output buffer; wants_input() is then false and the transport should hold at
// most held_input_limit() further bytes before it stops reading (TCP window).
// Nothing in feed() allocates except the body segment list, which keeps its
// capacity from message to message.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/data_scanner.hpp"
#include "smtp/line_framer.hpp"
#include "smtp/output_buffer.hpp"
#include "smtp/reply_code.hpp"
#include "smtp/sink.hpp"

namespace mxdp::smtp {

// Time as the transport's monotonic clock reads it (any fixed epoch).
using Time = std::chrono::nanoseconds;

struct ServerConfig {
  std::string hostname = "mxdp.localdomain";
  std::size_t max_command_line = 512;           // octets incl. CRLF (RFC 5321 §4.5.3.1.4)
  std::size_t max_text_line = 1000;             // octets incl. CRLF (RFC 5321 §4.5.3.1.6)
  std::uint64_t max_message_size = 10 << 20;    // announced in EHLO SIZE (RFC 1870)
  std::size_t max_recipients = 100;             // RFC 5321 §4.5.3.1.8: at least 100
  std::size_t max_errors = 20;                  // then 421 4.7.0 and close
  Time idle_timeout = std::chrono::minutes(5);  // RFC 5321 §4.5.3.2.7
  Time total_timeout = std::chrono::hours(1);
  std::size_t output_capacity = 16384;  // bytes of replies held before the transport drains
  std::size_t max_held_input = 65536;   // input a transport holds while the session waits
  bool offer_pipelining = true;         // EHLO keywords; switched off to test clients against older servers
  bool offer_chunking = true;

  // Throws std::invalid_argument naming the field and the fix (start-up only).
  void validate() const;
};

struct ServerStats {
  std::uint64_t commands = 0;
  std::uint64_t messages_accepted = 0;
  std::uint64_t messages_rejected = 0;  // by the session (bare newline, size, line) or the sink
  std::uint64_t errors = 0;
};

class ServerSession {
 public:
  // Allocates everything the session will use; the config must be valid.
  ServerSession(const ServerConfig& config, MessageSink& sink);

  // Queues the 220 greeting and starts the timeouts.
  void start(Time now) noexcept;

  // Processes input; returns how many bytes were consumed (see above). The
  // span gets feed sequence number feed_seq() (as read before the call).
  std::size_t feed(std::string_view input, Time now) noexcept;

  // Delivers a deferred sink answer for transaction txn. Returns false if no
  // answer for txn is awaited.
  bool complete(std::uint64_t txn, const SinkAnswer& answer) noexcept;

  // Enforces the idle and total timeouts (421 4.4.2 and close).
  void on_tick(Time now) noexcept;

  // The service is stopping: 421 4.3.2 and close (RFC 5321 §3.8). A message
  // waiting for its sink answer gets that answer first.
  void shutdown() noexcept;

  std::string_view output() const noexcept { return out_.view(); }
  void consume_output(std::size_t n) noexcept { out_.consume(n); }

  // The session is done: close once output() has been sent.
  bool wants_close() const noexcept { return closing_; }
  // False while waiting for a sink answer or output room, or when closing.
  bool wants_input() const noexcept;
  std::size_t held_input_limit() const noexcept { return config_.max_held_input; }
  // When on_tick() must run next.
  Time deadline() const noexcept;
  // Sequence number of the next feed() call.
  std::uint64_t feed_seq() const noexcept { return feed_seq_; }
  // Input spans with a sequence number below this may be released.
  std::uint64_t retain_from() const noexcept;
  // A sink answer is awaited.
  bool awaiting_sink() const noexcept { return phase_ == Phase::kAwaitingSink; }

  const ServerStats& stats() const noexcept { return stats_; }
  const ServerConfig& config() const noexcept { return config_; }

 private:
  enum class Phase : std::uint8_t { kCommand, kData, kChunk, kAwaitingSink, kClosed };
  enum class Greeted : std::uint8_t { kNo, kHelo, kEhlo };
  using Handler = void (ServerSession::*)(std::string_view args) noexcept;
  struct Verb {
    std::string_view name;
    Handler handler;
  };
  static const Verb kVerbs[];

  void dispatch(std::string_view line) noexcept;
  void on_ehlo(std::string_view args) noexcept;
  void on_helo(std::string_view args) noexcept;
  void on_mail(std::string_view args) noexcept;
  void on_rcpt(std::string_view args) noexcept;
  void on_data(std::string_view args) noexcept;
  void on_bdat(std::string_view args) noexcept;
  void on_rset(std::string_view args) noexcept;
  void on_noop(std::string_view args) noexcept;
  void on_quit(std::string_view args) noexcept;
  void on_vrfy(std::string_view args) noexcept;
  void on_help(std::string_view args) noexcept;
  void on_not_implemented(std::string_view args) noexcept;

  std::size_t feed_data(std::string_view in) noexcept;
  std::size_t feed_chunk(std::string_view in) noexcept;
  void finish_chunk() noexcept;
  void start_body(DataScanner::Mode mode) noexcept;
  void add_segment(const char* p, std::size_t n) noexcept;
  void commit() noexcept;
  void apply_answer(const SinkAnswer& answer) noexcept;
  void reset_transaction() noexcept;
  void reply(Reply r) noexcept;
  void reply_line(std::uint16_t code, bool more, std::string_view enhanced, std::string_view text) noexcept;
  // A sink's answer with its own code, enhanced code or text (within the
  // class of `t`, and only text that cannot break the reply framing).
  void reply_custom(const SinkAnswer& answer, const ReplyText& t) noexcept;
  void count_error() noexcept;
  void close() noexcept;
  std::string_view store(std::string_view s) noexcept;
  Envelope envelope() const noexcept;

  ServerConfig config_;
  MessageSink& sink_;
  OutputBuffer out_;
  LineFramer framer_;
  DataScanner scanner_;
  std::size_t reply_reserve_;  // output room kept free before taking a command

  // Envelope storage: one arena sized for the helo name, the reverse path and
  // max_recipients forward paths; reset per transaction.
  std::unique_ptr<char[]> arena_;
  std::size_t arena_size_;
  std::size_t arena_used_ = 0;  // past the fixed helo slot
  std::string_view helo_;
  std::string_view reverse_path_;
  std::vector<std::string_view> recipients_;  // capacity max_recipients, reserved once
  std::vector<std::string_view> segments_;    // body; capacity kept across messages

  Phase phase_ = Phase::kClosed;
  Greeted greeted_ = Greeted::kNo;
  bool closing_ = false;
  bool shutdown_requested_ = false;
  bool in_transaction_ = false;  // MAIL accepted
  bool rcpt_attempted_ = false;
  bool smtputf8_ = false;
  BodyType body_type_ = BodyType::kUnspecified;
  std::uint64_t declared_size_ = 0;
  bool chunking_ = false;  // a BDAT of this transaction was accepted
  bool chunk_ok_ = false;  // the current chunk is part of a good transaction
  bool chunk_last_ = false;
  Reply chunk_error_ = Reply::kOk;  // reply to the current chunk when !chunk_ok_
  bool txn_failed_ = false;         // a chunk failed; later chunks answer kTransactionFailed
  bool size_exceeded_ = false;
  std::uint64_t chunk_remaining_ = 0;
  std::uint64_t body_size_ = 0;
  std::uint64_t body_first_feed_ = 0;
  bool body_retained_ = false;

  std::uint64_t feed_seq_ = 0;
  std::uint64_t txn_ = 0;
  std::size_t errors_ = 0;
  Time started_{0};
  Time last_input_{0};
  ServerStats stats_;
};

}  // namespace mxdp::smtp
