#pragma once
// Per-shard accounting. Each counter has a single writer (the shard's thread):
// an increment is a relaxed load and store, no read-modify-write, yet any
// thread may read a consistent value (STYLE.md item 6: statistics on their own
// cache lines). `live` is the exception: a message may die on any thread.

#include <atomic>
#include <cstdint>

#include "routing/spsc_ring.hpp"

namespace mxdp::routing {

class StatCounter {
 public:
  // Single writer only.
  void add(std::uint64_t n = 1) noexcept {
    // Relaxed: a statistic; readers need a torn-free value, not ordering.
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

struct alignas(kCacheLine) ShardCounters {
  StatCounter accepted;           // messages accepted by ingress on this shard
  StatCounter delivered;          // recipients delivered into this shard's mailbox store
  StatCounter handed_off;         // references sent to another shard's ring (one per destination shard)
  StatCounter forwarded;          // recipients re-routed here because they moved while in flight
  StatCounter referred;           // recipients that resolved to a referral (queued for relay)
  StatCounter moved_off_box;      // recipients that resolved to moved-to-server (queued for relay)
  StatCounter relayed;            // recipients a relay confirmed
  StatCounter relay_retries;      // transient relay failures retried with backoff
  StatCounter bounced;            // recipients turned into bounce records
  StatCounter evicted;            // mailbox log entries released to stay within the byte budget
  StatCounter lookups_reused;     // messages routed with their RCPT lookups (directory unchanged since)
  StatCounter handoffs_resolved;  // hand-offs delivered with the sender's lookups (directory unchanged since)
  StatCounter relay_bodies_copied;  // relay jobs that wait (busy target, retry) with their body copied out of
                                    // the ingress buffers
  // Messages accepted here and not yet destroyed (any thread decrements).
  alignas(kCacheLine) std::atomic<std::int64_t> live{0};
};

// A plain copy for reports.
struct ShardStats {
  std::uint64_t accepted, delivered, handed_off, forwarded, referred, moved_off_box, relayed, relay_retries,
      bounced, evicted, lookups_reused, handoffs_resolved, relay_bodies_copied;
  std::int64_t live;

  static ShardStats of(const ShardCounters& c) noexcept {
    return {c.accepted.get(),
            c.delivered.get(),
            c.handed_off.get(),
            c.forwarded.get(),
            c.referred.get(),
            c.moved_off_box.get(),
            c.relayed.get(),
            c.relay_retries.get(),
            c.bounced.get(),
            c.evicted.get(),
            c.lookups_reused.get(),
            c.handoffs_resolved.get(),
            c.relay_bodies_copied.get(),
            c.live.load(std::memory_order_relaxed)};
  }
  ShardStats& operator+=(const ShardStats& o) noexcept {
    accepted += o.accepted;
    delivered += o.delivered;
    handed_off += o.handed_off;
    forwarded += o.forwarded;
    referred += o.referred;
    moved_off_box += o.moved_off_box;
    relayed += o.relayed;
    relay_retries += o.relay_retries;
    bounced += o.bounced;
    evicted += o.evicted;
    lookups_reused += o.lookups_reused;
    handoffs_resolved += o.handoffs_resolved;
    relay_bodies_copied += o.relay_bodies_copied;
    live += o.live;
    return *this;
  }
};

}  // namespace mxdp::routing
