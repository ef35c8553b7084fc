#pragma once
// The relay interface: recipients that live on another server (a referral, or
// a recipient moved off-box) leave through a Relay, which a later layer
// implements with the SMTP client. The routing layer hands each job its own
// reference to the message and gets the job back through the completion path.
//
// Contract:
//  * submit() is called on the origin shard's thread. Returning true means the
//    relay took the job (it moved from `job`) and will report it exactly once
//    through RelayCompletionSink::complete(). Returning false means "busy":
//    `job` is untouched and the shard retries at a later poll.
//  * complete() for jobs of one origin shard must come from one thread at a
//    time (the completion ring is single-producer). It returns false when the
//    ring is full: the relay keeps the completion and calls again.
//  * Outcomes (RFC 5321 §4.2.1 reply classes): kDelivered (2yz from the next
//    hop), kTransientFailure (4yz, connection failure: retried with
//    exponential backoff up to RouterConfig::max_relay_attempts, then a
//    bounce), kPermanentFailure (5yz: a bounce record at once).

#include <cstdint>
#include <string>
#include <vector>

#include "routing/ids.hpp"
#include "routing/msg_ref.hpp"

namespace mxdp::routing {

enum class RelayReason : std::uint8_t { kReferral, kMovedOffBox };

struct RelayJob {
  MsgRef msg;                        // the job's own reference
  std::vector<std::uint32_t> rcpts;  // indices into msg->envelope().recipients
  ServerId server{};                 // Directory::server_name(server) is the target
  ShardId origin{};                  // the shard that gets the completion
  RelayReason reason = RelayReason::kReferral;
  std::uint32_t attempt = 0;  // 0 on the first submission
};

enum class RelayOutcome : std::uint8_t { kDelivered, kTransientFailure, kPermanentFailure };

struct RelayCompletion {
  RelayJob job;
  RelayOutcome outcome = RelayOutcome::kDelivered;
  std::string diagnostic;  // the next hop's reply text, for the bounce record
};

class Relay {
 public:
  virtual ~Relay() = default;
  virtual bool submit(RelayJob& job) noexcept = 0;
};

class RelayCompletionSink {
 public:
  virtual ~RelayCompletionSink() = default;
  virtual bool complete(RelayCompletion& completion) noexcept = 0;
};

}  // namespace mxdp::routing
