#include "routing/mailbox_store.hpp"

#include <gtest/gtest.h>

namespace mxdp::routing {
namespace {

TEST(MailboxStore, LogIsBoundedByBytesAndEvictionReleasesReferences) {
  Owner owner;
  OwnerScope scope(owner);
  std::atomic<std::int64_t> live{0};
  MailboxStore store(1000);
  std::size_t evicted = 0;
  for (int i = 0; i < 100; ++i) {
    MsgRef m = make_message(MessageId{static_cast<std::uint64_t>(i)}, Envelope{"s@x", {"r@y"}},
                            Body::contiguous(std::string(96, 'x')), &live);  // 96 + 3 + 3 = 102 bytes
    evicted += store.deliver(std::move(m), MailboxId{static_cast<std::uint32_t>(i % 3)}, 0);
  }
  EXPECT_LE(store.log_bytes(), 1000u);
  EXPECT_EQ(store.log_entries(), 9u);
  EXPECT_EQ(evicted, 91u);
  EXPECT_EQ(live.load(), 9);  // evicted messages were freed
  EXPECT_EQ(store.counters(MailboxId{0}).messages, 34u);
  EXPECT_EQ(store.counters(MailboxId{0}).bytes, 34u * 102);
  EXPECT_EQ(store.mailboxes(), 3u);
  store.clear_log();
  EXPECT_EQ(live.load(), 0);
}

TEST(MailboxStore, MessageLargerThanTheBudgetIsCountedNotKept) {
  Owner owner;
  OwnerScope scope(owner);
  MailboxStore store(10);
  EXPECT_EQ(store.deliver(
                make_message(MessageId{1}, Envelope{"s@x", {"r@y"}}, Body::contiguous(std::string(64, 'x'))),
                MailboxId{1}, 0),
            1u);
  EXPECT_EQ(store.log_entries(), 0u);
  EXPECT_EQ(store.counters(MailboxId{1}).messages, 1u);
}

}  // namespace
}  // namespace mxdp::routing
