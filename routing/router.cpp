#include "routing/router.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

namespace mxdp::routing {

namespace {
constexpr std::size_t kBurst = 32;
}  // namespace

Router::Router(const Directory& directory, Relay& relay, RouterConfig config)
    : directory_(directory),
      relay_(relay),
      config_(config),
      waiting_(std::make_unique<std::atomic<std::uint32_t>[]>(Directory::kMaxServers)),
      fault_armed_(config.fault_skip_referral_clone) {
  const std::size_t n = config_.shard_count;
  if (n == 0 || n > 4096) throw std::invalid_argument("RouterConfig::shard_count must be 1..4096");
  for (std::size_t i = 0; i < n; ++i) {
    shards_.push_back(std::make_unique<Shard>(ShardId{static_cast<std::uint16_t>(i)}, n, directory,
                                              config_.mailbox_log_bytes));
    completions_.push_back(std::make_unique<CompletionRing>());
  }
  for (std::size_t i = 0; i < n * n; ++i)
    rings_.push_back(std::make_unique<HandoffRing>());
}

Router::~Router() = default;

IngressResult Router::ingress(ShardId s, MessageId id, Envelope&& envelope, Body&& body,
                              const IngressOptions& options) noexcept {
  IngressResult result;
  if (s.value >= shards_.size()) {
    result.status = IngressStatus::kBadShard;
    return result;
  }
  if (Owner::current() == nullptr) {
    result.status = IngressStatus::kNoOwner;
    return result;
  }
  if (envelope.recipient_count() == 0) {
    result.status = IngressStatus::kNoRecipients;
    return result;
  }
  Shard& sh = *shards_[s.value];
  if (sh.owner_ == nullptr) sh.owner_ = Owner::current();
  const auto n = static_cast<std::uint32_t>(envelope.recipient_count());
  // The RCPT resolutions stand in for a second lookup (two cache misses per
  // recipient in a large directory) only if no directory change completed since.
  const Lookup* resolved = nullptr;
  const PriorLookups& prior = options.prior;
  if (prior.lookups.size() == n && directory_.epoch() == prior.epoch) {
    resolved = prior.lookups.data();
    sh.counters_.lookups_reused.add();
  }
  MsgRef msg = make_message(id, std::move(envelope), std::move(body), &sh.counters_.live);
  sh.counters_.accepted.add();
  sh.ingress_rcpts_.resize(n);
  for (std::uint32_t i = 0; i < n; ++i)
    sh.ingress_rcpts_[i] = i;
  if (options.report_routes) result.rcpts.resize(n);
  route(sh, std::move(msg), sh.ingress_rcpts_, 0, options.report_routes ? result.rcpts.data() : nullptr,
        resolved, prior.epoch);
  return result;
}

void Router::route(Shard& sh, MsgRef msg, std::span<const std::uint32_t> rcpts, std::uint8_t hops,
                   RcptRoute* results, const Lookup* prior, std::uint64_t prior_epoch) noexcept {
  const Envelope& env = msg->envelope();
  // Read before the lookups below: the resolutions handed to other shards
  // stay good while the directory is still at this epoch.
  const std::uint64_t epoch = prior != nullptr ? prior_epoch : directory_.epoch();
  for (auto& v : sh.scratch_)
    v.clear();
  sh.relay_scratch_.clear();
  for (std::size_t k = 0; k < rcpts.size(); ++k) {
    const std::uint32_t r = rcpts[k];
    const Lookup l = prior != nullptr ? prior[r] : sh.reader_.lookup(env.recipient(r));
    RcptRoute route = RcptRoute::kBounced;
    if (!l.known()) {
      // RFC 3463 X.1.1: the mailbox does not exist (removed after RCPT, or
      // while the message was in flight).
      bounce(sh, *msg, r, "5.1.1", "recipient address unknown");
    } else if (l.on_box()) {
      const ShardId dst = l.entry.shard;
      if (dst.value >= shards_.size()) {
        // RFC 3463 X.4.4: unable to route (the directory names a shard this
        // router does not run).
        bounce(sh, *msg, r, "5.4.4",
               "directory names shard " + std::to_string(dst.value) + " which does not exist");
      } else if (dst == sh.id_) {
        deliver_local(sh, msg, l.entry.mailbox, r);
        route = RcptRoute::kDelivered;
      } else {
        sh.scratch_[dst.value].push_back({r, l.entry.mailbox});
        if (hops > 0) sh.counters_.forwarded.add();
        route = RcptRoute::kHandedOff;
      }
    } else {
      const RelayReason reason =
          l.kind == Resolution::kReferral ? RelayReason::kReferral : RelayReason::kMovedOffBox;
      if (reason == RelayReason::kReferral) {
        sh.counters_.referred.add();
      } else {
        sh.counters_.moved_off_box.add();
      }
      auto it = std::find_if(
          sh.relay_scratch_.begin(), sh.relay_scratch_.end(),
          [&](const Shard::RelayGroup& g) { return g.server == l.entry.server && g.reason == reason; });
      if (it == sh.relay_scratch_.end()) {
        sh.relay_scratch_.push_back({l.entry.server, reason, {}});
        it = sh.relay_scratch_.end() - 1;
      }
      it->rcpts.push_back(r);
      route = RcptRoute::kRelaying;
    }
    if (results != nullptr) results[k] = route;
  }

  // One reference per destination shard, not per recipient.
  for (std::size_t d = 0; d < sh.scratch_.size(); ++d) {
    HandedRcpts& list = sh.scratch_[d];
    if (list.empty()) continue;
    if (hops + 1u > config_.max_hops) {
      // A recipient that keeps moving (or two shards that disagree) would
      // otherwise circulate forever: a permanent failure, RFC 3463 X.4.6.
      for (const HandedRcpt& handed : list.items()) {
        const std::uint32_t r = handed.rcpt;
        bounce(sh, *msg, r, "5.4.6",
               "routing loop detected after " + std::to_string(hops) + " shard hand-offs");
        if (results != nullptr) {
          const auto pos = std::find(rcpts.begin(), rcpts.end(), r) - rcpts.begin();
          results[pos] = RcptRoute::kBounced;
        }
      }
      continue;
    }
    send_handoff(sh, ShardId{static_cast<std::uint16_t>(d)},
                 Handoff{msg.clone(), std::move(list), epoch, static_cast<std::uint8_t>(hops + 1)});
  }

  for (Shard::RelayGroup& g : sh.relay_scratch_) {
    RelayJob job;
#ifdef MXDP_DEBUG_COUNTERS
    if (fault_armed_ && g.reason == RelayReason::kReferral) {
      fault_armed_ = false;
      job.msg = FaultInjection::alias_without_reference(msg);  // THE BUG, on purpose
    } else {
      job.msg = msg.clone();
    }
#else
    job.msg = msg.clone();
#endif
    job.rcpts = std::move(g.rcpts);
    job.server = g.server;
    job.origin = sh.id_;
    job.reason = g.reason;
    submit_relay(sh, std::move(job));
  }
  // `msg` (the caller's reference) is released here.
}

void Router::deliver_local(Shard& sh, const MsgRef& msg, MailboxId mailbox, std::uint32_t rcpt) noexcept {
  sh.counters_.evicted.add(sh.store_.deliver(msg.clone(), mailbox, rcpt));
  sh.counters_.delivered.add();
  if (config_.observer != nullptr) config_.observer->on_outcome(*msg, rcpt, Outcome::kDelivered, sh.id_);
}

void Router::bounce(Shard& sh, const Message& msg, std::uint32_t rcpt, const char* status,
                    std::string reason) noexcept {
  sh.bounces_.push_back({msg.id(), std::string(msg.envelope().reverse_path()),
                         std::string(msg.envelope().recipient(rcpt)), status, std::move(reason)});
  sh.counters_.bounced.add();
  if (config_.observer != nullptr) config_.observer->on_outcome(msg, rcpt, Outcome::kBounced, sh.id_);
}

void Router::receive_handoff(Shard& sh, Handoff&& h) noexcept {
  if (directory_.epoch() == h.epoch) {
    // No directory change completed since the sender's lookups: they still
    // name this shard and these mailboxes.
    sh.counters_.handoffs_resolved.add();
    for (const HandedRcpt& r : h.rcpts.items())
      deliver_local(sh, h.msg, r.mailbox, r.rcpt);
  } else {
    sh.reroute_rcpts_.clear();
    for (const HandedRcpt& r : h.rcpts.items())
      sh.reroute_rcpts_.push_back(r.rcpt);
    route(sh, std::move(h.msg), sh.reroute_rcpts_, h.hops, nullptr);
  }
  h.msg.reset();  // the hand-off's reference
  h.rcpts.clear();
}

void Router::send_handoff(Shard& sh, ShardId dst, Handoff&& h) noexcept {
  sh.counters_.handed_off.add();
  std::deque<Handoff>& backlog = sh.backlog_[dst.value];
  // Keep order: while a backlog exists, new hand-offs queue behind it.
  if (backlog.empty() && ring(sh.id_, dst).push(std::move(h))) return;
  backlog.push_back(std::move(h));
}

void Router::submit_relay(Shard& sh, RelayJob&& job) noexcept {
  if (relay_.submit(job)) return;
  // The relay is busy (its queue for the target is full: the target is slow
  // or gone): the job waits here, for as long as that lasts.
  start_waiting(sh, job);
  sh.parked_.push_back(std::move(job));
}

void Router::start_waiting(Shard& sh, RelayJob& job) noexcept {
  waiting(job.server).fetch_add(1, std::memory_order_relaxed);
  if (!job.msg->body().is_borrowed()) return;
  job.msg = with_owned_body(job.msg);
  sh.counters_.relay_bodies_copied.add();
}

bool Router::complete(RelayCompletion& completion) noexcept {
  const ShardId origin = completion.job.origin;
  if (origin.value >= completions_.size()) return false;
  return completions_[origin.value]->push(std::move(completion));
}

void Router::handle_completion(Shard& sh, RelayCompletion& c,
                               std::chrono::steady_clock::time_point now) noexcept {
  RelayJob& job = c.job;
  switch (c.outcome) {
    case RelayOutcome::kDelivered:
      for (std::uint32_t r : job.rcpts) {
        sh.counters_.relayed.add();
        if (config_.observer != nullptr) config_.observer->on_outcome(*job.msg, r, Outcome::kRelayed, sh.id_);
      }
      break;
    case RelayOutcome::kTransientFailure: {
      ++job.attempt;
      if (job.attempt >= config_.max_relay_attempts) {
        // RFC 3463 X.4.7: delivery time expired (retries exhausted).
        for (std::uint32_t r : job.rcpts) {
          bounce(sh, *job.msg, r, "5.4.7",
                 "relay to " + std::string(directory_.server_name(job.server)) + " failed " +
                     std::to_string(job.attempt) + " times, last: " + c.diagnostic);
        }
        break;
      }
      sh.counters_.relay_retries.add();
      auto backoff = config_.relay_backoff_initial;
      for (std::uint32_t i = 1; i < job.attempt && backoff < config_.relay_backoff_max; ++i)
        backoff *= 2;
      backoff = std::min(backoff, config_.relay_backoff_max);
      start_waiting(sh, job);
      sh.retries_.push_back({now + backoff, std::move(job)});
      break;
    }
    case RelayOutcome::kPermanentFailure:
      for (std::uint32_t r : job.rcpts) {
        bounce(sh, *job.msg, r, "5.0.0",
               "relay to " + std::string(directory_.server_name(job.server)) + " refused: " + c.diagnostic);
      }
      break;
  }
  // The job's reference (if still here) is released with `c`.
}

std::size_t Router::poll(ShardId s) noexcept {
  if (s.value >= shards_.size()) return 0;
  Shard& sh = *shards_[s.value];
  Owner* owner = Owner::current();
  if (owner == nullptr) return 0;
  if (sh.owner_ == nullptr) sh.owner_ = owner;
  std::size_t work = owner->merge_pending();

  // Backlogs first, so ring order is preserved.
  for (std::size_t d = 0; d < sh.backlog_.size(); ++d) {
    std::deque<Handoff>& backlog = sh.backlog_[d];
    HandoffRing& r = ring(sh.id_, ShardId{static_cast<std::uint16_t>(d)});
    while (!backlog.empty() && r.push(std::move(backlog.front()))) {
      backlog.pop_front();
      ++work;
    }
  }

  // An idle poll touches only the ring indices.
  for (std::size_t src = 0; src < shards_.size(); ++src) {
    HandoffRing& r = ring(ShardId{static_cast<std::uint16_t>(src)}, sh.id_);
    if (r.empty_approx()) continue;
    const std::size_t n = r.pop_burst(sh.inbound_.data(), sh.inbound_.size());
    for (std::size_t i = 0; i < n; ++i)
      receive_handoff(sh, std::move(sh.inbound_[i]));
    work += n;
  }

  if (completions_[s.value]->empty_approx() && sh.retries_.empty() && sh.parked_.empty()) return work;
  const auto now = std::chrono::steady_clock::now();
  if (!completions_[s.value]->empty_approx()) {
    std::array<RelayCompletion, kBurst> done;
    const std::size_t nc = completions_[s.value]->pop_burst(done.data(), kBurst);
    for (std::size_t i = 0; i < nc; ++i) {
      RelayCompletion c = std::move(done[i]);
      handle_completion(sh, c, now);
    }
    work += nc;
  }

  for (std::size_t i = sh.retries_.size(); i > 0; --i) {
    Shard::Retry r = std::move(sh.retries_.front());
    sh.retries_.pop_front();
    if (r.due <= now) {
      waiting(r.job.server).fetch_sub(1, std::memory_order_relaxed);
      submit_relay(sh, std::move(r.job));
      ++work;
    } else {
      sh.retries_.push_back(std::move(r));
    }
  }
  for (std::size_t i = sh.parked_.size(); i > 0; --i) {
    RelayJob job = std::move(sh.parked_.front());
    sh.parked_.pop_front();
    const ServerId server = job.server;
    if (relay_.submit(job)) {
      waiting(server).fetch_sub(1, std::memory_order_relaxed);
      ++work;
    } else {
      sh.parked_.push_back(std::move(job));
      break;  // still busy: keep the rest for the next poll
    }
  }
  return work;
}

void Router::shutdown_drain() noexcept {
  std::vector<Owner*> owners;
  for (auto& shp : shards_) {
    Shard& sh = *shp;
    if (sh.owner_ != nullptr && std::find(owners.begin(), owners.end(), sh.owner_) == owners.end()) {
      owners.push_back(sh.owner_);
    }
  }
  for (auto& shp : shards_) {
    Shard& sh = *shp;
    auto release_all = [&] {
      sh.store_.clear_log();
      for (auto& b : sh.backlog_)
        b.clear();
      for (const Shard::Retry& r : sh.retries_)
        waiting(r.job.server).fetch_sub(1, std::memory_order_relaxed);
      for (const RelayJob& j : sh.parked_)
        waiting(j.server).fetch_sub(1, std::memory_order_relaxed);
      sh.retries_.clear();
      sh.parked_.clear();
      for (std::size_t src = 0; src < shards_.size(); ++src) {
        HandoffRing& r = ring(ShardId{static_cast<std::uint16_t>(src)}, sh.id_);
        while (r.pop_burst(sh.inbound_.data(), sh.inbound_.size()) != 0) {
          for (Handoff& h : sh.inbound_)
            h.msg.reset();
        }
      }
      std::array<RelayCompletion, kBurst> done;
      while (completions_[sh.id_.value]->pop_burst(done.data(), kBurst) != 0) {
        for (RelayCompletion& c : done)
          c.job.msg.reset();
      }
    };
    if (sh.owner_ != nullptr && Owner::current() != sh.owner_) {
      OwnerScope scope(*sh.owner_);
      release_all();
    } else {
      release_all();
    }
  }
  for (bool again = true; again;) {
    again = false;
    for (Owner* o : owners) {
      if (!o->has_pending()) continue;
      again = true;
      if (Owner::current() == o) {
        o->merge_pending();
      } else {
        OwnerScope scope(*o);
        o->merge_pending();
      }
    }
  }
}

ShardStats Router::total_stats() const noexcept {
  ShardStats t{};
  for (const auto& sh : shards_)
    t += sh->stats();
  return t;
}

}  // namespace mxdp::routing
