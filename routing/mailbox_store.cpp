#include "routing/mailbox_store.hpp"

#include <algorithm>
#include <utility>

namespace mxdp::routing {

namespace {
std::size_t slot_of(std::uint32_t mailbox, std::size_t mask) noexcept {
  return (mailbox * 0x9e3779b1u) & mask;  // Fibonacci hashing spreads dense ids
}
}  // namespace

std::size_t MailboxStore::probe(std::uint32_t mailbox) const noexcept {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = slot_of(mailbox, mask);
  while (slots_[i].used && slots_[i].mailbox != mailbox)
    i = (i + 1) & mask;
  return i;
}

MailboxCounters& MailboxStore::counters_for(MailboxId mailbox) {
  if (2 * (used_ + 1) > slots_.size()) {
    std::vector<Slot> old(std::max<std::size_t>(1024, 2 * slots_.size()), Slot{0, false, {}});
    old.swap(slots_);
    for (const Slot& s : old)
      if (s.used) slots_[probe(s.mailbox)] = s;
  }
  Slot& s = slots_[probe(mailbox.value)];
  if (!s.used) {
    s = Slot{mailbox.value, true, {}};
    ++used_;
  }
  return s.counters;
}

std::size_t MailboxStore::deliver(MsgRef msg, MailboxId mailbox, std::uint32_t rcpt) noexcept {
  const std::size_t bytes = msg->size_bytes();
  MailboxCounters& c = counters_for(mailbox);
  ++c.messages;
  c.bytes += bytes;
  std::size_t evicted = 0;
  while (!log_.empty() && log_bytes_ + bytes > budget_) {
    log_bytes_ -= log_.front().bytes;
    log_.pop_front();  // releases the reference
    ++evicted;
    prefetch_evictions();
  }
  if (bytes > budget_) return evicted + 1;  // larger than the whole log: counted, not kept
  log_bytes_ += bytes;
  log_.push_back({std::move(msg), mailbox, rcpt, bytes});
  return evicted;
}

void MailboxStore::prefetch(MailboxId mailbox) const noexcept {
  if (slots_.empty()) return;
  __builtin_prefetch(&slots_[slot_of(mailbox.value, slots_.size() - 1)]);
}

// The oldest entries left cache long ago; each eviction brings the next ones
// in, in stages that each read only what the stage before prefetched: the
// message object four evictions ahead, the body's lender context (when it
// lives apart) two ahead, the lender's buffers one ahead. Only what the
// release reads: prefetching buffers a free never reads (the recipients'
// strings) cost 2.7% (mxdp bench, the commit that dropped it).
void MailboxStore::prefetch_evictions() const noexcept {
  const std::size_t n = log_.size();
  if (n > 4) log_[4].msg->prefetch();
  if (n > 2) log_[2].msg->body().prefetch_context();
  if (n > 1) log_[1].msg->body().prefetch_buffers();
}

MailboxCounters MailboxStore::counters(MailboxId mailbox) const noexcept {
  if (slots_.empty()) return {};
  const Slot& s = slots_[probe(mailbox.value)];
  return s.used ? s.counters : MailboxCounters{};
}

void MailboxStore::clear_log() noexcept {
  log_.clear();
  log_bytes_ = 0;
}

}  // namespace mxdp::routing
