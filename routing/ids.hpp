#pragma once
// Strong id types shared by the routing layer (STYLE.md item 3): a shard id
// cannot be passed where an lcore id or a mailbox id is expected.

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

std::string to_string(ShardId id);

}  // namespace mxdp::routing
