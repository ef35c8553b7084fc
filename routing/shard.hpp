#pragma once
// A shard: a partition of mailboxes with its own mailbox store, inbound rings
// (one SPSC ring per sending shard), relay completion ring, retry queue,
// bounce records and counters. All of it is touched by the one thread that
// runs the shard (Router::poll / Router::ingress), except the rings' producer
// ends and `counters.live`.

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "routing/counters.hpp"
#include "routing/directory.hpp"
#include "routing/handoff.hpp"
#include "routing/ids.hpp"
#include "routing/mailbox_store.hpp"
#include "routing/msg_ref.hpp"
#include "routing/relay.hpp"
#include "routing/spsc_ring.hpp"

namespace mxdp::routing {

inline constexpr std::size_t kHandoffRingSize = 256;
inline constexpr std::size_t kHandoffBurst = 32;  // hand-offs taken from a ring at once
inline constexpr std::size_t kCompletionRingSize = 1024;
using HandoffRing = SpscRing<Handoff, kHandoffRingSize>;
using CompletionRing = SpscRing<RelayCompletion, kCompletionRingSize>;

// A permanent failure, kept for the DSN generator (RFC 3464) of a later layer.
struct BounceRecord {
  MessageId message;
  std::string reverse_path;  // where the DSN goes (empty: null reverse path, no DSN)
  std::string recipient;
  std::string status;  // RFC 3463 enhanced status, e.g. "5.1.1"
  std::string reason;
};

class Shard {
 public:
  Shard(ShardId id, std::size_t shard_count, const Directory& directory, std::size_t log_budget_bytes)
      : id_(id), reader_(directory), store_(log_budget_bytes), backlog_(shard_count), scratch_(shard_count) {}
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  ShardId id() const noexcept { return id_; }
  const ShardCounters& counters() const noexcept { return counters_; }
  ShardStats stats() const noexcept { return ShardStats::of(counters_); }
  const MailboxStore& store() const noexcept { return store_; }
  // Shard thread: takes the bounce records accumulated so far.
  std::vector<BounceRecord> take_bounces() noexcept { return std::exchange(bounces_, {}); }
  std::size_t pending_relay_jobs() const noexcept { return retries_.size() + parked_.size(); }

 private:
  friend class Router;
  struct Retry {
    std::chrono::steady_clock::time_point due;
    RelayJob job;
  };
  struct RelayGroup {
    ServerId server;
    RelayReason reason;
    std::vector<std::uint32_t> rcpts;
  };

  const ShardId id_;
  Owner* owner_ = nullptr;  // the Owner of the thread that runs this shard (first seen)
  Directory::Reader reader_;
  MailboxStore store_;
  ShardCounters counters_;
  std::vector<std::deque<Handoff>> backlog_;  // per destination: ring was full
  std::deque<Retry> retries_;                 // transient relay failures waiting for backoff
  std::deque<RelayJob> parked_;               // the relay said busy; resubmit next poll
  std::vector<BounceRecord> bounces_;
  // Per-route scratch, reused to keep the data path allocation-light.
  std::vector<HandedRcpts> scratch_;            // per destination shard
  std::array<Handoff, kHandoffBurst> inbound_;  // a burst popped from one ring
  std::vector<std::uint32_t> reroute_rcpts_;
  std::vector<RelayGroup> relay_scratch_;
  std::vector<std::uint32_t> ingress_rcpts_;
};

}  // namespace mxdp::routing
