#pragma once
// The boundary between the SMTP engine and whatever takes accepted mail (the
// router implements it; tests use their own). No routing/ types appear here.
//
// Lifetimes. Everything a sink receives is a view:
//  * Envelope strings live in the session's arena and stay valid until the
//    sink has answered (returned a verdict, or, for a deferred answer, until
//    ServerSession::complete() is called).
//  * Body segments point into the input spans the transport passed to
//    ServerSession::feed() (zero copy; dot-unstuffing only cuts segments, it
//    never copies). They stay valid for as long as the transport keeps those
//    spans, and the transport keeps every span with a feed sequence number at or
//    above ServerSession::retain_from(), which covers the body until the sink
//    has answered. A sink that needs the body longer copies it, or (DPDK) takes
//    its own references on the mbufs of feeds [first_feed, last_feed] before it
//    answers.

#include <cstdint>
#include <span>
#include <string_view>

namespace mxdp::smtp {

enum class BodyType : std::uint8_t { kUnspecified, k7Bit, k8BitMime };  // RFC 6152 BODY=

struct Envelope {
  std::string_view helo;                         // the EHLO/HELO argument
  std::string_view reverse_path;                 // mailbox of MAIL FROM; empty for the null path "<>"
  std::span<const std::string_view> recipients;  // accepted RCPT mailboxes, in order
  BodyType body_type = BodyType::kUnspecified;
  bool smtputf8 = false;            // RFC 6531 SMTPUTF8 on MAIL
  bool chunked = false;             // arrived with BDAT (RFC 3030)
  std::uint64_t declared_size = 0;  // RFC 1870 SIZE=, 0 if not given
};

struct Body {
  std::span<const std::string_view> segments;  // the content in order, dot-unstuffed
  std::uint64_t size = 0;                      // sum of the segment sizes
  std::uint64_t first_feed = 0;                // feed sequence numbers the segments point into
  std::uint64_t last_feed = 0;
};

enum class Verdict : std::uint8_t {
  kAccept,    // 250: the message is taken
  kTempFail,  // 451 (or 4xx given in SinkAnswer::code)
  kPermFail,  // 550 (or 5xx given in SinkAnswer::code, e.g. 554)
  kPending,   // the answer comes later through ServerSession::complete()
};

// A sink's answer. code/enhanced/text are optional: zero/empty picks the
// engine's default for the verdict; a code whose class does not match the
// verdict is ignored.
struct SinkAnswer {
  Verdict verdict = Verdict::kAccept;
  std::uint16_t code = 0;
  std::string_view enhanced;
  std::string_view text;
};

enum class RecipientVerdict : std::uint8_t {
  kAccept,    // 250 2.1.5
  kTempFail,  // 450 4.2.0
  kReject,    // 550 5.1.1
};

class MessageSink {
 public:
  virtual ~MessageSink() = default;

  // One RCPT of the current transaction (RFC 5321 §4.1.1.3), before it is
  // accepted: the directory lookup. Synchronous.
  virtual RecipientVerdict check_recipient(std::string_view mailbox, const Envelope& so_far) noexcept = 0;

  // One committed transaction (end of DATA, or BDAT LAST). txn numbers the
  // session's transactions; a kPending answer is completed with
  // ServerSession::complete(txn, answer).
  virtual SinkAnswer on_message(const Envelope& envelope, const Body& body, std::uint64_t txn) noexcept = 0;
};

}  // namespace mxdp::smtp
