#pragma once
// Strong id types shared by the routing layer (STYLE.md item 3): a shard id
// cannot be passed where a mailbox id, a server id or a message id is expected.

#include <cstdint>
#include <string>

namespace mxdp::routing {

struct ShardId {
  std::uint16_t value = 0;
  friend constexpr bool operator==(ShardId, ShardId) = default;
  friend constexpr auto operator<=>(ShardId, ShardId) = default;
};

struct MailboxId {
  std::uint32_t value = 0;
  friend constexpr bool operator==(MailboxId, MailboxId) = default;
  friend constexpr auto operator<=>(MailboxId, MailboxId) = default;
};

// Index of a relay target ("mx.example.net") interned by the Directory.
struct ServerId {
  std::uint32_t value = 0;
  friend constexpr bool operator==(ServerId, ServerId) = default;
  friend constexpr auto operator<=>(ServerId, ServerId) = default;
};

// Chosen by the ingress (the SMTP layer's queue id); the routing layer only
// carries it into logs, bounce records and observers.
struct MessageId {
  std::uint64_t value = 0;
  friend constexpr bool operator==(MessageId, MessageId) = default;
  friend constexpr auto operator<=>(MessageId, MessageId) = default;
};

inline std::string to_string(ShardId id) {
  return "shard" + std::to_string(id.value);
}

}  // namespace mxdp::routing
