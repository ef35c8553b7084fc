#include "routing/mailbox_store.hpp"

#include <utility>

namespace mxdp::routing {

std::size_t MailboxStore::deliver(MsgRef msg, MailboxId mailbox, std::uint32_t rcpt) noexcept {
  const std::size_t bytes = msg->size_bytes();
  MailboxCounters& c = mailboxes_[mailbox.value];
  ++c.messages;
  c.bytes += bytes;
  std::size_t evicted = 0;
  while (!log_.empty() && log_bytes_ + bytes > budget_) {
    log_bytes_ -= log_.front().msg->size_bytes();
    log_.pop_front();  // releases the reference
    ++evicted;
  }
  if (bytes > budget_) return evicted + 1;  // larger than the whole log: counted, not kept
  log_bytes_ += bytes;
  log_.push_back({std::move(msg), mailbox, rcpt});
  return evicted;
}

MailboxCounters MailboxStore::counters(MailboxId mailbox) const noexcept {
  auto it = mailboxes_.find(mailbox.value);
  return it == mailboxes_.end() ? MailboxCounters{} : it->second;
}

void MailboxStore::clear_log() noexcept {
  log_.clear();
  log_bytes_ = 0;
}

}  // namespace mxdp::routing
