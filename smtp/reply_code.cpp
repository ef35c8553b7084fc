#include "smtp/reply_code.hpp"

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

}  // namespace mxdp::smtp
