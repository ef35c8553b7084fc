#include "smtp/reply_code.hpp"

#include <array>
#include <string>

namespace mxdp::smtp {

ReplyClass classify_reply(int code) noexcept {
  if (code < 200 || code > 599) return ReplyClass::kInvalid;
  switch (code / 100) {
    case 2:
      return ReplyClass::kPositive;
    case 3:
      return ReplyClass::kIntermediate;
    case 4:
      return ReplyClass::kTransient;
    default:
      return ReplyClass::kPermanent;
  }
}

namespace {

// Indexed by Reply; the static_assert below keeps the table and the enum in step.
constexpr std::array<ReplyText, static_cast<std::size_t>(Reply::kCount)> kReplies{{
    {250, "2.0.0", "Ok"},
    {250, "2.1.0", "Ok"},
    {250, "2.1.5", "Ok"},
    {354, "", "End data with <CR><LF>.<CR><LF>"},
    {221, "2.0.0", "Bye"},
    {252, "2.0.0", "Cannot VRFY user, but will accept message and attempt delivery"},
    {214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP"},
    {503, "5.5.1", "Error: send HELO/EHLO first"},
    {503, "5.5.1", "Error: nested MAIL command"},
    {503, "5.5.1", "Error: need MAIL command"},
    {503, "5.5.1", "Error: need RCPT command"},
    {554, "5.5.1", "Error: no valid recipients"},
    {503, "5.5.1", "Error: DATA after BDAT"},
    {503, "5.5.1", "Error: bad sequence of commands"},
    {500, "5.5.2", "Error: command not recognized"},
    {502, "5.5.1", "Error: command not implemented"},
    {500, "5.5.2", "Error: line too long"},
    {500, "5.5.2", "Error: bare <CR> or <LF> in command"},
    {501, "5.5.4", "Syntax: EHLO hostname"},
    {501, "5.5.4", "Syntax: MAIL FROM:<address>"},
    {501, "5.5.4", "Syntax: RCPT TO:<address>"},
    {501, "5.5.4", "Syntax error: no parameters allowed"},
    {501, "5.5.4", "Syntax: VRFY address"},
    {501, "5.5.4", "Syntax: BDAT size [LAST]; closing connection"},
    {501, "5.1.7", "Bad sender address syntax"},
    {501, "5.1.3", "Bad recipient address syntax"},
    {555, "5.5.4", "Unsupported option"},
    {501, "5.5.4", "Bad parameter value"},
    {553, "5.6.7", "Non-ASCII address requires SMTPUTF8"},
    {552, "5.3.4", "Message size exceeds fixed limit"},
    {452, "4.5.3", "Error: too many recipients"},
    {550, "5.1.1", "Recipient address rejected"},
    {450, "4.2.0", "Recipient address temporarily unavailable"},
    {550, "5.5.2", "Error: bare <CR> or <LF> in message; message rejected"},
    {554, "5.6.0", "Error: message line too long; message rejected"},
    {554, "5.5.0", "Error: transaction failed; send RSET"},
    {250, "2.0.0", "Ok: queued"},
    {451, "4.3.0", "Error: try again later"},
    {550, "5.7.1", "Error: message rejected"},
    {421, "4.7.0", "Error: too many errors"},
    {421, "4.4.2", "Error: timeout exceeded"},
    {421, "4.3.2", "Service shutting down, closing connection"},
}};

}  // namespace

const ReplyText& reply_text(Reply r) noexcept {
  return kReplies[static_cast<std::size_t>(r)];
}

std::string_view reply_wire(Reply r) noexcept {
  static const auto lines = [] {
    std::array<std::string, kReplies.size()> out;
    for (std::size_t i = 0; i < kReplies.size(); ++i) {
      const ReplyText& t = kReplies[i];
      out[i] = std::to_string(t.code) + ' ';
      if (!t.enhanced.empty()) out[i].append(t.enhanced).push_back(' ');
      out[i].append(t.text).append("\r\n");
    }
    return out;
  }();
  return lines[static_cast<std::size_t>(r)];
}

}  // namespace mxdp::smtp
