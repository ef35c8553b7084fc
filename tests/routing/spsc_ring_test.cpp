#include "routing/spsc_ring.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "routing/msg_ref.hpp"

namespace mxdp::routing {
namespace {

TEST(SpscRing, BurstsRespectCapacityAndOrder) {
  SpscRing<int, 8> r;
  int in[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  EXPECT_EQ(r.push_burst(in, 10), 8u);
  int out[10] = {};
  EXPECT_EQ(r.pop_burst(out, 3), 3u);
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[2], 2);
  EXPECT_EQ(r.push_burst(in + 8, 2), 2u);
  EXPECT_EQ(r.pop_burst(out, 10), 7u);
  EXPECT_EQ(out[0], 3);
  EXPECT_EQ(out[6], 9);
  EXPECT_TRUE(r.empty_approx());
}

TEST(SpscRing, MovesOwnershipAndLeavesUnpushedItemsUntouched) {
  SpscRing<std::unique_ptr<int>, 2> r;
  std::unique_ptr<int> items[3] = {std::make_unique<int>(1), std::make_unique<int>(2),
                                   std::make_unique<int>(3)};
  EXPECT_EQ(r.push_burst(items, 3), 2u);
  EXPECT_EQ(items[0], nullptr);
  ASSERT_NE(items[2], nullptr);
  EXPECT_EQ(*items[2], 3);
}

TEST(SpscRing, TwoThreadsTransferEveryItemInOrder) {
  auto r = std::make_unique<SpscRing<std::uint64_t, 64>>();
  constexpr std::uint64_t kN = 200000;
  std::thread producer([&] {
    std::uint64_t next = 0, buf[16];
    while (next < kN) {
      std::size_t n = 0;
      for (; n < 16 && next + n < kN; ++n)
        buf[n] = next + n;
      const std::size_t pushed = r->push_burst(buf, n);
      if (pushed == 0) std::this_thread::yield();  // 2 cores shared: let the consumer run
      next += pushed;
    }
  });
  std::uint64_t expect = 0, buf[32];
  while (expect < kN) {
    const std::size_t n = r->pop_burst(buf, 32);
    for (std::size_t i = 0; i < n; ++i)
      ASSERT_EQ(buf[i], expect++);
  }
  producer.join();
}

TEST(SpscRing, CarriesMessageReferencesAcrossThreads) {
  Owner owner;
  std::atomic<std::int64_t> live{0};
  auto ring = std::make_unique<SpscRing<MsgRef, 32>>();
  {
    OwnerScope scope(owner);
    MsgRef m = make_message(MessageId{1}, Envelope{"a@b", {"c@d"}}, Body::contiguous("x"), &live);
    std::thread consumer([&] {
      MsgRef got[8];
      std::size_t total = 0;
      while (total < 1000)
        total += ring->pop_burst(got, 8);  // each pop releases the previous
    });
    std::size_t sent = 0;
    MsgRef batch[8];
    while (sent < 1000) {
      for (auto& b : batch) {
        if (!b) b = m.clone();
      }
      const std::size_t n = ring->push_burst(batch, std::min<std::size_t>(8, 1000 - sent));
      if (n == 0) std::this_thread::yield();
      sent += n;
    }
    consumer.join();
    for (auto& b : batch)
      b.reset();
    m.reset();
    owner.merge_pending();
  }
  EXPECT_EQ(live.load(), 0);
}

}  // namespace
}  // namespace mxdp::routing
