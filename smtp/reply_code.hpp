#pragma once
// SMTP reply codes (RFC 5321 §4.2) with their enhanced status codes (RFC 2034,
// RFC 3463), and the fixed set of replies the server engine sends.

#include <cstdint>
#include <string_view>

namespace mxdp::smtp {

enum class ReplyClass : std::uint8_t { kPositive, kIntermediate, kTransient, kPermanent, kInvalid };

// Classifies a three-digit reply code by its first digit (RFC 5321 §4.2.1).
ReplyClass classify_reply(int code) noexcept;

// Every reply the server engine can send, one enumerator each. The wire text is
// "<code> <enhanced> <text>" (RFC 2034 §4: the enhanced code leads the text).
// Replies whose text carries a value (greeting, EHLO, BDAT octet count) are
// assembled by the session around the fixed part given here.
enum class Reply : std::uint8_t {
  kOk,                  // 250 2.0.0 any command that succeeded without a more specific code
  kSenderOk,            // 250 2.1.0 MAIL accepted
  kRecipientOk,         // 250 2.1.5 RCPT accepted
  kStartData,           // 354 DATA accepted, send the message
  kBye,                 // 221 2.0.0 QUIT
  kCannotVrfy,          // 252 2.0.0 VRFY (RFC 5321 §3.5.3: 252 when we do not verify)
  kHelp,                // 214 2.0.0 HELP
  kNeedHelo,            // 503 5.5.1 MAIL before EHLO/HELO
  kNestedMail,          // 503 5.5.1 MAIL inside a transaction
  kNeedMail,            // 503 5.5.1 RCPT/DATA/BDAT before MAIL
  kNeedRcpt,            // 503 5.5.1 DATA/BDAT with no RCPT given
  kNoValidRecipients,   // 554 5.5.1 DATA/BDAT when every RCPT was refused (RFC 5321 §3.3)
  kDataAfterBdat,       // 503 5.5.1 DATA inside a BDAT transaction (RFC 3030 §2)
  kBadSequence,         // 503 5.5.1 MAIL/RCPT between BDAT chunks
  kUnknownCommand,      // 500 5.5.2 verb not recognised
  kNotImplemented,      // 502 5.5.1 recognised but not offered (EXPN, STARTTLS, AUTH, TURN)
  kLineTooLong,         // 500 5.5.2 command line over its limit (RFC 5321 §4.5.3.1.4)
  kBareNewlineCommand,  // 500 5.5.2 bare CR or LF inside a command line
  kSyntaxHelo,          // 501 5.5.4 EHLO/HELO without a name
  kSyntaxMail,          // 501 5.5.4 MAIL without FROM:<path>
  kSyntaxRcpt,          // 501 5.5.4 RCPT without TO:<path>
  kSyntaxNoArgs,        // 501 5.5.4 DATA/RSET/QUIT with arguments
  kSyntaxVrfy,          // 501 5.5.4 VRFY without an argument
  kSyntaxBdat,          // 501 5.5.4 BDAT with a bad size: the chunk length is unknown, so we close
  kBadSender,           // 501 5.1.7 reverse-path does not parse (RFC 3463 X.1.7)
  kBadRecipient,        // 501 5.1.3 forward-path does not parse (RFC 3463 X.1.3)
  kUnknownParameter,    // 555 5.5.4 unknown MAIL/RCPT parameter (RFC 5321 §4.1.1.11)
  kBadParameter,        // 501 5.5.4 known parameter with a bad value or given twice
  kNonAsciiAddress,     // 553 5.6.7 UTF-8 address without SMTPUTF8 (RFC 6531 §3.5)
  kSizeExceeded,        // 552 5.3.4 SIZE= or the received message over the limit (RFC 1870)
  kTooManyRecipients,   // 452 4.5.3 recipient limit (RFC 5321 §4.5.3.1.10, RFC 3463)
  kRecipientRejected,   // 550 5.1.1 the sink refused the recipient
  kRecipientTempFail,   // 450 4.2.0 the sink cannot take the recipient now
  kBareNewlineData,     // 550 5.5.2 bare CR or LF in message content: rejected, never delivered
  kTextLineTooLong,     // 554 5.6.0 text line over its limit (RFC 5321 §4.5.3.1.6)
  kTransactionFailed,   // 554 5.5.0 later BDAT of a transaction that already failed
  kQueued,              // 250 2.0.0 sink accepted the message
  kTempFailed,          // 451 4.3.0 sink failed temporarily
  kPermFailed,          // 550 5.7.1 sink refused the message
  kTooManyErrors,       // 421 4.7.0 error limit reached; closing (Postfix smtpd_hard_error_limit)
  kTimeout,             // 421 4.4.2 idle or total timeout; closing
  kShuttingDown,        // 421 4.3.2 the application stops the service (RFC 5321 §3.8)
  kCount
};

struct ReplyText {
  std::uint16_t code;
  std::string_view enhanced;  // "" for 354, which carries none (RFC 2034 §3)
  std::string_view text;
};

// The code, enhanced status code and text of a reply.
const ReplyText& reply_text(Reply r) noexcept;
// The whole reply line as it goes on the wire: "<code> [<enhanced> ]<text>\r\n"
// (built once, so a reply is one append).
std::string_view reply_wire(Reply r) noexcept;

}  // namespace mxdp::smtp
