#pragma once
// The router: accepted messages in, recipients delivered, handed to other
// shards, relayed or bounced out. Nothing is dropped silently: every recipient
// of every accepted message ends as exactly one of delivered (a mailbox store),
// relayed (a relay confirmed it) or bounced (a BounceRecord), and a
// DeliveryObserver sees each outcome.
//
// Threads: ingress(s, ...) and poll(s) for shard s run on the thread that runs
// shard s, which must have an Owner bound (OwnerScope); one thread may run
// several shards. complete() is the relay's completion path (relay.hpp).
//
//   ingress   resolve every recipient; deliver local ones; one reference per
//             other destination shard through that shard's ring; referred and
//             moved-off-box recipients to the Relay, one job (and reference)
//             per target server.
//   poll      merge the Owner's queued messages, flush ring backlogs, drain
//             inbound rings (re-resolving each recipient: one that moved while
//             the message was in flight is forwarded, up to max_hops shard
//             hand-offs, after which it bounces as a routing loop, RFC 3463
//             X.4.6), drain relay completions, resubmit due retries.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "routing/directory.hpp"
#include "routing/message.hpp"
#include "routing/msg_ref.hpp"
#include "routing/relay.hpp"
#include "routing/shard.hpp"

namespace mxdp::routing {

enum class Outcome : std::uint8_t { kDelivered, kRelayed, kBounced };

// Sees every final outcome, on the thread of the shard that decided it.
class DeliveryObserver {
 public:
  virtual ~DeliveryObserver() = default;
  virtual void on_outcome(const Message& msg, std::uint32_t rcpt, Outcome outcome,
                          ShardId shard) noexcept = 0;
};

struct RouterConfig {
  std::size_t shard_count = 4;
  std::size_t mailbox_log_bytes = 16u << 20;  // per shard
  unsigned max_hops = 8;
  unsigned max_relay_attempts = 8;
  std::chrono::nanoseconds relay_backoff_initial = std::chrono::milliseconds(100);
  std::chrono::nanoseconds relay_backoff_max = std::chrono::seconds(60);
  // Relay jobs that may wait for one target (parked for a busy relay or
  // waiting for a retry), over all shards; past it relay_target_full() says
  // so and ingress answers its recipients 4yz (0: no limit). Waiting jobs
  // hold their mail in memory: a target that is down for the whole retry
  // schedule must not take the appliance's memory with it.
  std::uint32_t max_relay_waiting_per_target = 50'000;
  DeliveryObserver* observer = nullptr;
  // Test-only (honoured in MXDP_DEBUG_COUNTERS builds): the referral path
  // hands the relay a reference it did not count, once. Proves the stress
  // test catches the bug this layer exists to prevent.
  bool fault_skip_referral_clone = false;
};

// Per-recipient answer of ingress(), for the SMTP layer's reply (the message
// is accepted as a whole; unknown recipients become bounce records).
enum class RcptRoute : std::uint8_t {
  kDelivered,  // delivered on the ingress shard
  kHandedOff,  // on its way to another shard
  kRelaying,   // queued for a relay (referral or moved off-box)
  kBounced,    // unknown (removed since RCPT), unroutable: bounce record made
};

enum class IngressStatus : std::uint8_t { kAccepted, kNoRecipients, kBadShard, kNoOwner };

// Resolutions the caller already made for every recipient of the envelope, in
// order (the RCPT lookups), with the directory epoch read before the first of
// them. ingress() routes with them while the directory is still at that epoch
// and looks every recipient up again otherwise.
struct PriorLookups {
  std::uint64_t epoch = 0;
  std::span<const Lookup> lookups;
};

struct IngressOptions {
  PriorLookups prior;  // empty lookups: resolve every recipient
  // Fill IngressResult::rcpts. The SMTP sink answers for the message as a
  // whole and goes without (one allocation per message less).
  bool report_routes = true;
};

struct IngressResult {
  IngressStatus status = IngressStatus::kAccepted;
  std::vector<RcptRoute> rcpts;  // one per envelope recipient (IngressOptions::report_routes)
};

class Router final : public RelayCompletionSink {
 public:
  Router(const Directory& directory, Relay& relay, RouterConfig config);
  ~Router() override;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Shard s's thread. Takes the envelope and body (a refused message leaves
  // them with the caller); returns per-recipient routes.
  // options.prior (see PriorLookups) saves the second lookup per recipient.
  IngressResult ingress(ShardId s, MessageId id, Envelope&& envelope, Body&& body,
                        const IngressOptions& options = {}) noexcept;

  // Shard s's thread. Returns the amount of work done (0: idle).
  std::size_t poll(ShardId s) noexcept;

  // The relay's completion path (relay.hpp contract).
  bool complete(RelayCompletion& completion) noexcept override;

  // After every thread that ran shards has exited its OwnerScope: releases all
  // references the router still holds (logs, backlogs, rings, retries) and
  // merges every Owner's queue until nothing is pending. Single-threaded.
  void shutdown_drain() noexcept;

  std::size_t shard_count() const noexcept { return shards_.size(); }
  // Relay jobs for `server` waiting (parked or for a retry) on every shard;
  // any thread, approximate while shards run.
  std::uint32_t relay_waiting(ServerId server) const noexcept {
    return waiting_[server.value].load(std::memory_order_relaxed);
  }
  // Whether `server` has max_relay_waiting_per_target jobs waiting: new mail
  // for it should be refused for now (RFC 5321 §4.2.1: 4yz, the client tries
  // again later).
  bool relay_target_full(ServerId server) const noexcept {
    return config_.max_relay_waiting_per_target != 0 &&
           relay_waiting(server) >= config_.max_relay_waiting_per_target;
  }
  Shard& shard(ShardId s) noexcept { return *shards_[s.value]; }
  const Shard& shard(ShardId s) const noexcept { return *shards_[s.value]; }
  ShardStats total_stats() const noexcept;
  const Directory& directory() const noexcept { return directory_; }
  const RouterConfig& config() const noexcept { return config_; }

 private:
  // `prior`: one resolution per envelope recipient, made after the directory
  // read `prior_epoch` and still current (or null: look each recipient up).
  void route(Shard& sh, MsgRef msg, std::span<const std::uint32_t> rcpts, std::uint8_t hops,
             RcptRoute* results, const Lookup* prior = nullptr, std::uint64_t prior_epoch = 0) noexcept;
  // Delivers with the sender's resolutions while the directory is unchanged
  // since them, routes the recipients again otherwise.
  void receive_handoff(Shard& sh, Handoff&& h) noexcept;
  void deliver_local(Shard& sh, const MsgRef& msg, MailboxId mailbox, std::uint32_t rcpt) noexcept;
  void bounce(Shard& sh, const Message& msg, std::uint32_t rcpt, const char* status,
              std::string reason) noexcept;
  void send_handoff(Shard& sh, ShardId dst, Handoff&& h) noexcept;
  void submit_relay(Shard& sh, RelayJob&& job) noexcept;
  // Jobs waiting per target (relay_waiting()): counted as they enter
  // (start_waiting) and leave a shard's parked and retry queues.
  std::atomic<std::uint32_t>& waiting(ServerId server) noexcept { return waiting_[server.value]; }
  // A job about to wait (parked, or for a retry): counted for its target,
  // and its body kept in owned memory, not in the ingress buffers
  // (with_owned_body).
  void start_waiting(Shard& sh, RelayJob& job) noexcept;
  void handle_completion(Shard& sh, RelayCompletion& c, std::chrono::steady_clock::time_point now) noexcept;
  HandoffRing& ring(ShardId src, ShardId dst) noexcept {
    return *rings_[src.value * shards_.size() + dst.value];
  }

  const Directory& directory_;
  Relay& relay_;
  RouterConfig config_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::unique_ptr<std::atomic<std::uint32_t>[]> waiting_;     // [ServerId], Directory::kMaxServers
  std::vector<std::unique_ptr<HandoffRing>> rings_;           // [src * n + dst]
  std::vector<std::unique_ptr<CompletionRing>> completions_;  // [origin]
  bool fault_armed_;
};

}  // namespace mxdp::routing
