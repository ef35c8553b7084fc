// The software redirect (redirect.hpp): two lcore threads share one side of a
// ring port pair (one RX queue, one TX queue: TX goes through the shared ring)
// and a third Stack on the other side opens connections to them while they
// open connections back. Every byte is checked, passive opens must reach both
// lcores, every reply to an active open must come back to the lcore that
// opened it, a lane may send RSTs only to late duplicates of connections it
// has closed (CheckedIo), and every mbuf must be back in the pool at the end.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>
#include <unordered_map>
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

// The TCP header fields of a frame the checks need, if it is IPv4/TCP.
struct TcpView {
  std::uint16_t src = 0, dst = 0;
  std::uint8_t flags = 0;
  std::uint32_t seq = 0, ack = 0;
  std::uint32_t payload = 0;
};

bool tcp_view(const rte_mbuf* m, TcpView& v) {
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
  v.src = tcp->src_port.host();
  v.dst = tcp->dst_port.host();
  v.flags = tcp->flags;
  v.seq = tcp->seq.host();
  v.ack = tcp->ack.host();
  const unsigned headers = ip->header_length() + tcp->header_length();
  const unsigned total = ip->total_length.host();
  v.payload = total > headers ? total - headers : 0;
  return true;
}

// One lcore's I/O with checks.
//
// Misrouting: the source ports of the SYNs it sends are its active opens; a
// packet from the peer's listening port to a port it did not open was
// misdelivered (it belongs to the other lcore).
//
// RSTs: RFC 9293 §3.10.7.1 answers any segment for a connection that no
// longer exists with a RST, and late duplicates are normal here: three
// polling threads share two cores, so one is often descheduled for longer
// than the 200 ms minimum RTO and the other end retransmits spuriously (a
// LAST-ACK's data and FIN, say). The connection then closes on the original
// ACK of its FIN (or its TIME-WAIT ends), and the duplicate ACK answering the
// spurious retransmission, or the retransmitted copy itself, finds no
// connection. Such a RST is correct only for a connection whose close this
// lcore's wire has seen complete (the peer's FIN received and the lcore's own
// FIN acknowledged) and, when the lcore sent its FIN first and so went through
// TIME-WAIT (§3.10.7.4), only once TIME-WAIT has run its course. Any other RST
// (a connection the lcore never had, as a misrouted segment would find, or one
// still open or in TIME-WAIT: a flow not found, a TCB freed or TIME-WAIT ended
// early, a timeout) is a fault.
class CheckedIo final : public PacketIo {
 public:
  CheckedIo(PacketIo& inner, TimeUs time_wait) : inner_(inner), time_wait_(time_wait) {}
  std::uint16_t rx_burst(rte_mbuf** pkts, std::uint16_t n) noexcept override {
    const std::uint16_t got = inner_.rx_burst(pkts, n);
    for (std::uint16_t i = 0; i < got; ++i) {
      TcpView v;
      if (!tcp_view(pkts[i], v)) continue;
      if (v.src == kPeerPort) {
        ++replies;
        if (!opened_.count(v.dst)) ++misdelivered;
      } else if (v.dst == kRedirectedPort && (v.flags & wire::kTcpSyn)) {
        ++syns_received;
      }
      const std::uint32_t key = flow_key(v.dst, v.src);
      if ((v.flags & (wire::kTcpSyn | wire::kTcpAck)) == wire::kTcpSyn)
        flows_[key] = WireFlow{};  // a new one
      WireFlow& f = flows_[key];
      if ((v.flags & wire::kTcpFin) && !f.fin_received) {
        f.fin_received = true;
        f.time_wait = f.fin_sent;  // FIN-WAIT-1/2 or CLOSING, then TIME-WAIT
      }
      if ((v.flags & wire::kTcpAck) && f.fin_sent && static_cast<std::int32_t>(v.ack - f.fin_end) >= 0)
        f.fin_acked = true;
      // The stack takes this segment at `now`: its TIME-WAIT starts then.
      if (f.fin_received && f.fin_acked && f.closed_at == kNever) f.closed_at = now;
    }
    return got;
  }
  std::uint16_t tx_burst(rte_mbuf** pkts, std::uint16_t n) noexcept override {
    for (std::uint16_t i = 0; i < n; ++i) {
      TcpView v;
      if (!tcp_view(pkts[i], v)) continue;
      const std::uint32_t key = flow_key(v.src, v.dst);
      if ((v.flags & (wire::kTcpSyn | wire::kTcpAck)) == wire::kTcpSyn) {
        if (v.dst == kPeerPort) opened_.insert(v.src);
        flows_[key] = WireFlow{};
      }
      if (v.flags & wire::kTcpRst) {
        auto it = flows_.find(key);
        if (it != flows_.end() && it->second.closed_at != kNever &&
            (!it->second.time_wait || now - it->second.closed_at >= time_wait_)) {
          ++rsts_after_close;
        } else {
          ++rsts_unexplained;
          if (rsts_unexplained <= 5)
            std::printf("unexplained RST: port %u -> %u seq %u (%s)\n", v.src, v.dst, v.seq,
                        it == flows_.end()               ? "connection never seen"
                        : it->second.closed_at == kNever ? "connection still open"
                                                         : "in TIME-WAIT");
        }
      } else if (v.flags & wire::kTcpFin) {
        WireFlow& f = flows_[key];
        f.fin_sent = true;
        f.fin_end = v.seq + v.payload + 1;
      }
    }
    return inner_.tx_burst(pkts, n);
  }

  TimeUs now = 0;  // the time the lane's loop gives the next poll(): the stack's clock
  std::uint64_t replies = 0, misdelivered = 0, syns_received = 0;
  std::uint64_t rsts_after_close = 0;  // answering late duplicates of connections closed on the wire
  std::uint64_t rsts_unexplained = 0;  // any other: a fault

 private:
  struct WireFlow {
    bool fin_sent = false;
    std::uint32_t fin_end = 0;  // the sequence number after the lcore's FIN
    bool fin_acked = false;
    bool fin_received = false;
    bool time_wait = false;     // the lcore's FIN went out before the peer's arrived
    TimeUs closed_at = kNever;  // when both FINs were seen through (the stack's clock)
  };
  static std::uint32_t flow_key(std::uint16_t local, std::uint16_t remote) {
    return std::uint32_t{local} << 16 | remote;  // the peer has one address
  }

  PacketIo& inner_;
  TimeUs time_wait_;
  std::unordered_set<std::uint16_t> opened_;
  std::unordered_map<std::uint32_t, WireFlow> flows_;
};

struct Lane {
  std::unique_ptr<CheckedIo> io;
  std::unique_ptr<Stack> stack;
  std::unique_ptr<TransferApp> app;
};

// Two lcores share one ring port (one RX queue) with a third Stack as the
// peer. With one TX queue their transmits are serialized through the group;
// with a TX queue each (tx_queues = 2) every lcore sends on its own.
void share_a_ring_port_both_ways(const char* name, std::uint16_t tx_queues) {
  constexpr unsigned kLcores = 2;
  constexpr unsigned kPassive = 200;        // peer -> redirected side
  constexpr unsigned kActivePerLcore = 50;  // each lcore -> peer
  constexpr unsigned kTotal = kPassive + kLcores * kActivePerLcore;
  PacketPool pool(pool_config(name));
  {
    RingPortPair pair(name, 8192, tx_queues);
    PortConfig pc;
    Port peer_port(pair.a(), pool, pc);
    PortConfig shared_pc;
    shared_pc.tx_queues = tx_queues;  // 1 RX queue, whatever the TX queues
    Port shared_port(pair.b(), pool, shared_pc);
    ASSERT_EQ(shared_port.caps().max_tx_queues, tx_queues);
    ASSERT_TRUE(peer_port.wait_link_up(1000));
    PortQueue peer_queue(peer_port.id(), 0);
    std::vector<std::uint64_t> completed_by_lane(kLcores, 0);
    std::uint64_t passive_by_lane[kLcores] = {}, active_by_lane[kLcores] = {};
    std::uint64_t misdelivered = 0, replies = 0, rsts_sent = 0, rsts_after_close = 0, rsts_unexplained = 0;
    TransferApp::Stats peer_stats, lane_stats[kLcores];
    RedirectCounters group_counters[kLcores];
    {
      RedirectGroup group(name, shared_port.id(), tx_queues, kLcores, pool);
      EXPECT_EQ(group.tx_serialized(), tx_queues < kLcores);
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
        lanes[i].io = std::make_unique<CheckedIo>(group.io(i), c.time_wait);
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
            l.io->now = tsc_now_us();
            l.stack->poll(l.io->now);
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
      print_stack_counters("peer", peer.counters());
      for (unsigned i = 0; i < kLcores; ++i) {
        lane_stats[i] = lanes[i].app->stats();
        passive_by_lane[i] = lanes[i].stack->counters().tcp_passive_opens;
        active_by_lane[i] = lanes[i].stack->counters().tcp_active_opens;
        rsts_sent += lanes[i].stack->counters().tcp_rsts_sent;
        print_stack_counters("lcore " + std::to_string(i), lanes[i].stack->counters());
        misdelivered += lanes[i].io->misdelivered;
        rsts_after_close += lanes[i].io->rsts_after_close;
        rsts_unexplained += lanes[i].io->rsts_unexplained;
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
    std::printf("replies %llu misdelivered %llu; RSTs after close %llu, unexplained %llu\n",
                static_cast<unsigned long long>(replies), static_cast<unsigned long long>(misdelivered),
                static_cast<unsigned long long>(rsts_after_close),
                static_cast<unsigned long long>(rsts_unexplained));

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
    // Late duplicates after a close draw RSTs (see CheckedIo); nothing else may.
    EXPECT_EQ(rsts_unexplained, 0u) << "RSTs for connections a lane never had or that were still open";
    EXPECT_EQ(rsts_after_close + rsts_unexplained, rsts_sent) << "a RST the wire checks did not see";
    EXPECT_GT(group_counters[0].arp_copies, 0u) << "ARP reaches every lcore";
    // Serialized, lcore 1's packets go out through lcore 0; with a TX queue
    // each, nobody forwards anybody's.
    std::uint64_t forwarded = 0;
    for (const RedirectCounters& c : group_counters)
      forwarded += c.tx_forwarded;
    if (tx_queues < kLcores) {
      EXPECT_GT(forwarded, 0u);
    } else {
      EXPECT_EQ(forwarded, 0u);
    }
  }
  EXPECT_EQ(pool.available(), pool.capacity()) << "mbufs lost";
}

TEST(Redirect, TwoLcoresShareARingPortBothWays) {
  share_a_ring_port_both_ways("rdr", 1);
}

TEST(Redirect, TwoLcoresShareARingPortEachWithItsOwnTxQueue) {
  share_a_ring_port_both_ways("rdrtx", 2);
}

}  // namespace
}  // namespace mxdp::dataplane::testing
