// The software redirect (redirect.hpp): two lcore threads share one side of a
// ring port pair (one RX queue, one TX queue: TX goes through the shared ring)
// and a third Stack on the other side opens connections to them while they
// open connections back. Every byte is checked, passive opens must reach both
// lcores, every reply to an active open must come back to the lcore that
// opened it, and every mbuf must be back in the pool at the end.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>
#include <unordered_set>
#include <vector>

#include "dataplane/byte_order.hpp"
#include "dataplane/packet_pool.hpp"
#include "dataplane/port.hpp"
#include "dataplane/redirect.hpp"
#include "dataplane/tsc_clock.hpp"
#include "dataplane/wire.hpp"
#include "tests/dataplane/eal_environment.hpp"
#include "tests/dataplane/stack_sim.hpp"
#include "tests/dataplane/transfer_app.hpp"

namespace mxdp::dataplane::testing {
namespace {

const ::testing::Environment* const kEal = ::testing::AddGlobalTestEnvironment(new EalEnvironment());

constexpr std::uint16_t kRedirectedPort = 80;  // the two lcores listen here
constexpr std::uint16_t kPeerPort = 81;        // the peer listens here

// The TCP ports of a frame, if it is IPv4/TCP.
bool tcp_ports(const rte_mbuf* m, std::uint16_t& src, std::uint16_t& dst, std::uint8_t& flags) {
  auto b = mbuf_bytes(m);
  if (b.size() < sizeof(wire::EthernetHeader) + sizeof(wire::Ipv4Header) + sizeof(wire::TcpHeader))
    return false;
  const auto* eth = reinterpret_cast<const wire::EthernetHeader*>(b.data());
  if (eth->ether_type.host() != wire::kEtherTypeIpv4) return false;
  const auto* ip = reinterpret_cast<const wire::Ipv4Header*>(b.data() + sizeof(wire::EthernetHeader));
  if (ip->protocol != wire::kIpProtoTcp) return false;
  const std::size_t off = sizeof(wire::EthernetHeader) + ip->header_length();
  if (b.size() < off + sizeof(wire::TcpHeader)) return false;
  const auto* tcp = reinterpret_cast<const wire::TcpHeader*>(b.data() + off);
  src = tcp->src_port.host();
  dst = tcp->dst_port.host();
  flags = tcp->flags;
  return true;
}

// One lcore's I/O with a check: the source ports of the SYNs it sends are its
// active opens; a packet from the peer's listening port to a port it did not
// open was misdelivered (it belongs to the other lcore).
class CheckedIo final : public PacketIo {
 public:
  explicit CheckedIo(PacketIo& inner) : inner_(inner) {}
  std::uint16_t rx_burst(rte_mbuf** pkts, std::uint16_t n) noexcept override {
    const std::uint16_t got = inner_.rx_burst(pkts, n);
    for (std::uint16_t i = 0; i < got; ++i) {
      std::uint16_t src = 0, dst = 0;
      std::uint8_t flags = 0;
      if (!tcp_ports(pkts[i], src, dst, flags)) continue;
      if (src == kPeerPort) {
        ++replies;
        if (!opened_.count(dst)) ++misdelivered;
      } else if (dst == kRedirectedPort && (flags & wire::kTcpSyn)) {
        ++syns_received;
      }
    }
    return got;
  }
  std::uint16_t tx_burst(rte_mbuf** pkts, std::uint16_t n) noexcept override {
    for (std::uint16_t i = 0; i < n; ++i) {
      std::uint16_t src = 0, dst = 0;
      std::uint8_t flags = 0;
      if (tcp_ports(pkts[i], src, dst, flags) && dst == kPeerPort && (flags & wire::kTcpSyn) &&
          !(flags & wire::kTcpAck))
        opened_.insert(src);
    }
    return inner_.tx_burst(pkts, n);
  }

  std::uint64_t replies = 0, misdelivered = 0, syns_received = 0;

 private:
  PacketIo& inner_;
  std::unordered_set<std::uint16_t> opened_;
};

PacketPoolConfig pool_config(const char* name) {
  PacketPoolConfig c;
  c.name = name;
  c.mbufs = 65535;
  c.cache = 0;  // exact accounting: available() counts every mbuf
  return c;
}

struct Lane {
  std::unique_ptr<CheckedIo> io;
  std::unique_ptr<Stack> stack;
  std::unique_ptr<TransferApp> app;
};

TEST(Redirect, TwoLcoresShareARingPortBothWays) {
  constexpr unsigned kLcores = 2;
  constexpr unsigned kPassive = 200;        // peer -> redirected side
  constexpr unsigned kActivePerLcore = 50;  // each lcore -> peer
  constexpr unsigned kTotal = kPassive + kLcores * kActivePerLcore;
  PacketPool pool(pool_config("redirect"));
  {
    RingPortPair pair("rdr", 8192);
    PortConfig pc;
    Port peer_port(pair.a(), pool, pc);
    Port shared_port(pair.b(), pool, pc);  // 1 RX, 1 TX queue: net_ring has no more
    ASSERT_TRUE(peer_port.wait_link_up(1000));
    PortQueue peer_queue(peer_port.id(), 0);
    std::vector<std::uint64_t> completed_by_lane(kLcores, 0);
    std::uint64_t passive_by_lane[kLcores] = {}, active_by_lane[kLcores] = {};
    std::uint64_t misdelivered = 0, replies = 0, rsts_sent = 0;
    TransferApp::Stats peer_stats, lane_stats[kLcores];
    RedirectCounters group_counters[kLcores];
    {
      RedirectGroup group("rdr", shared_port.id(), shared_port.caps().max_tx_queues, kLcores, pool);
      EXPECT_EQ(group.tx_serialized(), shared_port.caps().max_tx_queues < kLcores);
      const TimeUs now = tsc_now_us();
      StackConfig peer_config = sim_config(1);
      peer_config.mac = peer_port.mac();
      Stack peer(peer_config, peer_queue, pool, now);
      ASSERT_EQ(peer.listen(kPeerPort), Status::kOk);
      TransferApp peer_app(peer);
      std::vector<Lane> lanes(kLcores);
      for (unsigned i = 0; i < kLcores; ++i) {
        StackConfig c = sim_config(2);
        c.mac = shared_port.mac();
        c.rss = group.rss(i);
        lanes[i].io = std::make_unique<CheckedIo>(group.io(i));
        lanes[i].stack = std::make_unique<Stack>(c, *lanes[i].io, pool, now);
        ASSERT_EQ(lanes[i].stack->listen(kRedirectedPort), Status::kOk);
        lanes[i].app = std::make_unique<TransferApp>(*lanes[i].stack);
      }

      std::atomic<std::uint64_t> done_total{0};  // connections completed on any side
      std::atomic<bool> stop{false};
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(45);
      auto sizes = [](std::mt19937& rng) {
        return std::uniform_int_distribution<std::uint32_t>(0, 32 * 1024)(rng);
      };

      std::vector<std::thread> threads;
      for (unsigned i = 0; i < kLcores; ++i) {
        threads.emplace_back([&, i] {
          Lane& l = lanes[i];
          std::mt19937 rng(100 + i);
          unsigned opened = 0;
          std::uint64_t reported = 0;
          while (!stop.load(std::memory_order_relaxed)) {
            l.stack->poll(tsc_now_us());
            if (opened < kActivePerLcore && l.app->live() < 40) {
              if (l.app->open(peer_config.ip, kPeerPort, sizes(rng), sizes(rng), rng())) ++opened;
            }
            l.app->run();
            l.stack->flush();
            const std::uint64_t c = l.app->stats().completed + l.app->stats().errors;
            // relaxed: a progress count for the stop decision; join() orders the rest.
            done_total.fetch_add(c - reported, std::memory_order_relaxed);
            reported = c;
          }
        });
      }
      threads.emplace_back([&] {
        std::mt19937 rng(7);
        unsigned opened = 0;
        std::uint64_t reported = 0;
        while (!stop.load(std::memory_order_relaxed)) {
          peer.poll(tsc_now_us());
          if (opened < kPassive && peer_app.live() < 64) {
            if (peer_app.open(sim_config(2).ip, kRedirectedPort, sizes(rng), sizes(rng), rng())) ++opened;
          }
          peer_app.run();
          peer.flush();
          const std::uint64_t c = peer_app.stats().completed + peer_app.stats().errors;
          done_total.fetch_add(c - reported, std::memory_order_relaxed);
          reported = c;
        }
      });
      // Both ends of every connection finish: 2 * kTotal completions.
      while (done_total.load(std::memory_order_relaxed) < 2 * kTotal &&
             std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      // Let the last ACKs and FINs land before the stacks stop.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      stop = true;
      for (auto& t : threads)
        t.join();

      peer_stats = peer_app.stats();
      for (unsigned i = 0; i < kLcores; ++i) {
        lane_stats[i] = lanes[i].app->stats();
        passive_by_lane[i] = lanes[i].stack->counters().tcp_passive_opens;
        active_by_lane[i] = lanes[i].stack->counters().tcp_active_opens;
        rsts_sent += lanes[i].stack->counters().tcp_rsts_sent;
        // What the stack threw away and why, to read a failure by.
        const StackCounters& k = lanes[i].stack->counters();
        std::printf("lcore %u: rsts sent %llu, retransmits %llu, drops:", i,
                    static_cast<unsigned long long>(k.tcp_rsts_sent),
                    static_cast<unsigned long long>(k.tcp_retransmits));
        for (std::size_t r = 0; r < k.drops.size(); ++r)
          if (k.drops[r] != 0)
            std::printf(" %s=%llu", std::string(drop_reason_name(static_cast<DropReason>(r))).c_str(),
                        static_cast<unsigned long long>(k.drops[r]));
        std::printf("\n");
        misdelivered += lanes[i].io->misdelivered;
        replies += lanes[i].io->replies;
        group_counters[i] = group.counters(i);
        lanes[i].app.reset();
        lanes[i].stack.reset();
      }
    }
    // The group is gone (its rings drained); what is still on the wire goes back too.
    PortQueue shared_queue(shared_port.id(), 0);
    for (PortQueue* q : {&peer_queue, &shared_queue}) {
      rte_mbuf* burst[32];
      while (std::uint16_t n = q->rx_burst(burst, 32))
        for (std::uint16_t i = 0; i < n; ++i)
          mbuf_free(burst[i]);
    }

    std::printf("peer: %llu completed, %llu errors; ", static_cast<unsigned long long>(peer_stats.completed),
                static_cast<unsigned long long>(peer_stats.errors));
    for (unsigned i = 0; i < kLcores; ++i)
      std::printf(
          "lcore %u: %llu completed, %llu passive, %llu active, kept %llu redirected %llu arp %llu "
          "ring-full %llu; ",
          i, static_cast<unsigned long long>(lane_stats[i].completed),
          static_cast<unsigned long long>(passive_by_lane[i]),
          static_cast<unsigned long long>(active_by_lane[i]),
          static_cast<unsigned long long>(group_counters[i].kept),
          static_cast<unsigned long long>(group_counters[i].redirected),
          static_cast<unsigned long long>(group_counters[i].arp_copies),
          static_cast<unsigned long long>(group_counters[i].rx_ring_full));
    std::printf("replies %llu misdelivered %llu\n", static_cast<unsigned long long>(replies),
                static_cast<unsigned long long>(misdelivered));

    EXPECT_EQ(peer_stats.errors, 0u) << peer_stats.first_error;
    EXPECT_EQ(peer_stats.completed, kTotal);
    std::uint64_t lanes_completed = 0, passive = 0;
    for (unsigned i = 0; i < kLcores; ++i) {
      EXPECT_EQ(lane_stats[i].errors, 0u) << "lcore " << i << ": " << lane_stats[i].first_error;
      EXPECT_GT(passive_by_lane[i], 0u) << "lcore " << i << " got no passive opens";
      EXPECT_EQ(active_by_lane[i], kActivePerLcore);
      lanes_completed += lane_stats[i].completed;
      passive += passive_by_lane[i];
    }
    EXPECT_EQ(lanes_completed, kTotal);
    EXPECT_EQ(passive, kPassive);
    EXPECT_GT(replies, 0u);
    EXPECT_EQ(misdelivered, 0u);
    EXPECT_EQ(rsts_sent, 0u);
    EXPECT_GT(group_counters[0].arp_copies, 0u) << "ARP reaches every lcore";
  }
  EXPECT_EQ(pool.available(), pool.capacity()) << "mbufs lost";
}

}  // namespace
}  // namespace mxdp::dataplane::testing
