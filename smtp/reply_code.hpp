#pragma once
// SMTP reply codes (RFC 5321 §4.2) and their classes.

#include <cstdint>

namespace mxdp::smtp {

enum class ReplyClass : std::uint8_t { kPositive, kIntermediate, kTransient, kPermanent, kInvalid };

// Classifies a three-digit reply code by its first digit (RFC 5321 §4.2.1).
ReplyClass classify_reply(int code) noexcept;

}  // namespace mxdp::smtp
