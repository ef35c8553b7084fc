#pragma once
// A shard's mailbox store: counters per mailbox plus a log of delivered
// messages bounded by bytes. The log holds a reference per entry; when a new
// delivery would exceed the budget the oldest entries are released and counted
// as evicted, so a benchmark of any length runs in constant memory. Owned and
// used by one shard thread.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "routing/ids.hpp"
#include "routing/msg_ref.hpp"

namespace mxdp::routing {

struct MailboxCounters {
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
};

class MailboxStore {
 public:
  explicit MailboxStore(std::size_t log_budget_bytes) noexcept : budget_(log_budget_bytes) {}

  // Takes the reference. Returns the number of entries evicted to make room.
  std::size_t deliver(MsgRef msg, MailboxId mailbox, std::uint32_t rcpt) noexcept;

  MailboxCounters counters(MailboxId mailbox) const noexcept;
  // A delivery to `mailbox` is coming (its recipient was just resolved):
  // prefetches its counter slot. The shard's thread, like deliver().
  void prefetch(MailboxId mailbox) const noexcept;
  std::size_t log_entries() const noexcept { return log_.size(); }
  std::size_t log_bytes() const noexcept { return log_bytes_; }
  std::size_t mailboxes() const noexcept { return used_; }
  // Releases every logged reference (shutdown, tests).
  void clear_log() noexcept;

 private:
  struct LogEntry {
    MsgRef msg;
    MailboxId mailbox;
    std::uint32_t rcpt;
    std::size_t bytes;  // kept here: evicting must not touch the cold message first
  };
  // Per-mailbox counters in one open-addressed table (linear probing, at most
  // half full): a delivery costs one cache line, not a hash-node chase.
  struct Slot {
    std::uint32_t mailbox;
    bool used;
    MailboxCounters counters;
  };
  MailboxCounters& counters_for(MailboxId mailbox);
  // The slot holding `mailbox`, or the free slot where it would go (the table
  // must not be empty).
  std::size_t probe(std::uint32_t mailbox) const noexcept;
  void prefetch_evictions() const noexcept;
  std::size_t budget_;
  std::size_t log_bytes_ = 0;
  std::deque<LogEntry> log_;
  std::vector<Slot> slots_;
  std::size_t used_ = 0;
};

}  // namespace mxdp::routing
