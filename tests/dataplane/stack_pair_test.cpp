// Two stacks in one process: over the ring port pair (rte_eth_from_rings) and
// over the impairing TestLink. Every byte is checked, every connection must
// close, and every mbuf must be back in the pool at the end.

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <random>

#include "dataplane/checksum.hpp"
#include "dataplane/wire.hpp"

#include "dataplane/packet_pool.hpp"
#include "dataplane/port.hpp"
#include "dataplane/test_link.hpp"
#include "tests/dataplane/eal_environment.hpp"
#include "tests/dataplane/stack_sim.hpp"

namespace mxdp::dataplane::testing {
namespace {

const ::testing::Environment* const kEal = ::testing::AddGlobalTestEnvironment(new EalEnvironment());

void print(const char* what, const SimResult& r, const Stack& a, const Stack& b) {
  std::printf(
      "%s: %llu+%llu completed, %llu bytes each way (client sent %llu), virtual %.3f s, %llu steps, "
      "retransmits %llu/%llu, fast %llu/%llu, rto %llu/%llu, drops %llu/%llu\n",
      what, static_cast<unsigned long long>(r.client.completed),
      static_cast<unsigned long long>(r.server.completed),
      static_cast<unsigned long long>(r.server.bytes_received),
      static_cast<unsigned long long>(r.client.bytes_sent), static_cast<double>(r.virtual_time) / 1e6,
      static_cast<unsigned long long>(r.steps), static_cast<unsigned long long>(a.counters().tcp_retransmits),
      static_cast<unsigned long long>(b.counters().tcp_retransmits),
      static_cast<unsigned long long>(a.counters().tcp_fast_retransmits),
      static_cast<unsigned long long>(b.counters().tcp_fast_retransmits),
      static_cast<unsigned long long>(a.counters().tcp_rto_expiries),
      static_cast<unsigned long long>(b.counters().tcp_rto_expiries),
      static_cast<unsigned long long>(a.counters().total_drops()),
      static_cast<unsigned long long>(b.counters().total_drops()));
  for (const Stack* s : {&a, &b}) {
    const auto& c = s->counters();
    std::printf(
        "  %s: rst sent %llu received %llu, timeouts %llu, challenge acks %llu (%llu suppressed), ooo %llu, "
        "probes %llu\n",
        s == &a ? "a" : "b", static_cast<unsigned long long>(c.tcp_rsts_sent),
        static_cast<unsigned long long>(c.tcp_rsts_received), static_cast<unsigned long long>(c.tcp_timeouts),
        static_cast<unsigned long long>(c.tcp_challenge_acks),
        static_cast<unsigned long long>(c.tcp_challenge_acks_suppressed),
        static_cast<unsigned long long>(c.tcp_ooo_segments),
        static_cast<unsigned long long>(c.tcp_zero_window_probes));
    for (std::size_t i = 0; i < s->counters().drops.size(); ++i) {
      if (s->counters().drops[i] != 0) {
        std::printf("  %s drop %s: %llu\n", s == &a ? "a" : "b",
                    std::string(drop_reason_name(static_cast<DropReason>(i))).c_str(),
                    static_cast<unsigned long long>(s->counters().drops[i]));
      }
    }
  }
}

void expect_clean(const SimResult& r, const TransferPlan& plan) {
  EXPECT_FALSE(r.hung) << "the transfer stopped making progress";
  EXPECT_EQ(r.client.errors, 0u) << "client: " << r.client.first_error;
  EXPECT_EQ(r.server.errors, 0u) << "server: " << r.server.first_error;
  EXPECT_EQ(r.client.completed, plan.connections);
  EXPECT_EQ(r.server.completed, plan.connections);
}

void run_link(const LinkImpairments& imp, const TransferPlan& plan, const char* name) {
  PacketPool pool(pool_config(name));
  {
    TestLink link(pool, imp);
    StackSim sim(link.a(), link.b(), pool, &link, sim_config(1), sim_config(2));
    const SimResult r = sim.transfer(plan);
    print(name, r, sim.a(), sim.b());
    std::printf("link: sent %llu lost %llu reordered %llu duplicated %llu corrupted %llu\n",
                static_cast<unsigned long long>(link.counters().sent),
                static_cast<unsigned long long>(link.counters().lost),
                static_cast<unsigned long long>(link.counters().reordered),
                static_cast<unsigned long long>(link.counters().duplicated),
                static_cast<unsigned long long>(link.counters().corrupted));
    expect_clean(r, plan);
    EXPECT_TRUE(sim.drain()) << "connections left: " << sim.a().connection_count() << " + "
                             << sim.b().connection_count();
    EXPECT_EQ(sim.a().counters().tcp_established, 0u);
    EXPECT_EQ(sim.b().counters().tcp_established, 0u);
    sim.destroy();
  }
  EXPECT_EQ(pool.available(), pool.capacity()) << "mbufs lost";
}

TEST(StackPair, CleanLinkTransfersAreByteExact) {
  TransferPlan plan;
  plan.connections = 50;
  run_link(LinkImpairments{}, plan, "clean");
}

LinkImpairments lossy() {
  LinkImpairments imp;
  imp.loss = 0.05;
  imp.reorder = 0.05;
  imp.duplicate = 0.01;
  imp.corrupt = 0.005;
  imp.delay = 50;
  imp.reorder_delay = 300;
  imp.seed = 7;
  return imp;
}

TEST(StackPair, LossyLinkTransfersAreByteExact) {
  TransferPlan plan;
  plan.connections = 200;
  plan.concurrency = 50;
  plan.max_size = 32 * 1024;
  plan.large_size = 256 * 1024;
  run_link(lossy(), plan, "lossy");
}

// SACK-based recovery (RFC 6675) against NewReno (RFC 6582) on the same
// lossy link, same seed, same transfers: retransmitted payload bytes fall.
struct LossRun {
  std::uint64_t retransmitted_bytes = 0, retransmits = 0, rto = 0, sack_recoveries = 0, skipped = 0;
  double virtual_s = 0;
};

LossRun run_loss(bool sack, double loss) {
  LossRun out;
  PacketPool pool(pool_config(sack ? "sack_on" : "sack_off"));
  {
    LinkImpairments imp;
    imp.loss = loss;
    imp.delay = 200;
    imp.seed = 11;
    TestLink link(pool, imp);
    StackConfig ca = sim_config(1), cb = sim_config(2);
    ca.sack = cb.sack = sack;
    StackSim sim(link.a(), link.b(), pool, &link, ca, cb);
    TransferPlan plan;
    plan.connections = 24;
    plan.concurrency = 8;
    plan.max_size = 256 * 1024;
    plan.large_every = 1000;
    plan.seed = 5;
    const SimResult r = sim.transfer(plan);
    expect_clean(r, plan);
    for (const Stack* st : {&sim.a(), &sim.b()}) {
      const auto& c = st->counters();
      out.retransmitted_bytes += c.tcp_retransmitted_bytes;
      out.retransmits += c.tcp_retransmits;
      out.rto += c.tcp_rto_expiries;
      out.sack_recoveries += c.tcp_sack_recoveries;
      out.skipped += c.tcp_sack_skipped_bytes;
    }
    out.virtual_s = static_cast<double>(r.virtual_time) / 1e6;
    EXPECT_TRUE(sim.drain());
    sim.destroy();
  }
  EXPECT_EQ(pool.available(), pool.capacity()) << "mbufs lost";
  return out;
}

TEST(StackPair, SackCutsRetransmittedBytesAtFivePercentLoss) {
  const LossRun on = run_loss(true, 0.05);
  const LossRun off = run_loss(false, 0.05);
  for (const auto& [name, r] : {std::pair{"sack on ", on}, std::pair{"sack off", off}}) {
    std::printf(
        "%s: retransmitted %llu bytes in %llu segments, RTO %llu, SACK recoveries %llu, SACKed bytes skipped "
        "%llu, virtual %.3f s\n",
        name, static_cast<unsigned long long>(r.retransmitted_bytes),
        static_cast<unsigned long long>(r.retransmits), static_cast<unsigned long long>(r.rto),
        static_cast<unsigned long long>(r.sack_recoveries), static_cast<unsigned long long>(r.skipped),
        r.virtual_s);
  }
  EXPECT_GT(on.sack_recoveries, 0u);
  EXPECT_EQ(off.sack_recoveries, 0u);
  EXPECT_LT(on.retransmitted_bytes, off.retransmitted_bytes);
}

TEST(StackPairLong, LossyLink1000Connections) {
  TransferPlan plan;
  plan.connections = 1000;
  plan.concurrency = 100;
  run_link(lossy(), plan, "lossy_long");
}

// A SYN flood from spoofed addresses at the server while transfers run: the
// half-open bound (syn_backlog) holds, the flood's TCBs time out, and the
// real transfers complete byte-exact.
TEST(StackPair, SynFloodDoesNotStopEstablishedTransfers) {
  PacketPool pool(pool_config("flood"));
  std::uint64_t flood_syns = 0;
  {
    TestLink link(pool, LinkImpairments{});
    StackConfig server = sim_config(2);
    server.syn_backlog = 64;
    StackSim sim(link.a(), link.b(), pool, &link, sim_config(1), server);
    std::mt19937 rng(3);
    TransferPlan plan;
    plan.connections = 100;
    plan.concurrency = 20;
    plan.each_step = [&](Stack&, Stack& b, TimeUs) {
      for (int i = 0; i < 4; ++i) {
        std::vector<std::uint8_t> f(14 + 20 + 20, 0);
        auto* e = reinterpret_cast<wire::EthernetHeader*>(f.data());
        std::memcpy(e->dst, b.config().mac.bytes.data(), 6);
        e->src[0] = 0x02;
        e->src[5] = 0x99;
        e->ether_type.set(wire::kEtherTypeIpv4);
        auto* ip = reinterpret_cast<wire::Ipv4Header*>(f.data() + 14);
        const Ipv4Address src =
            Ipv4Address::from_octets(10, 0, 0, static_cast<std::uint8_t>(100 + rng() % 100));
        ip->version_ihl = 0x45;
        ip->total_length.set(40);
        ip->ttl = 64;
        ip->protocol = wire::kIpProtoTcp;
        ip->src.set(src.value);
        ip->dst.set(b.config().ip.value);
        ip->checksum.set(ipv4_header_checksum({f.data() + 14, 20}));
        auto* t = reinterpret_cast<wire::TcpHeader*>(f.data() + 34);
        t->src_port.set(static_cast<std::uint16_t>(1024 + rng() % 60000));
        t->dst_port.set(80);
        t->seq.set(rng());
        t->data_offset = 5 << 4;
        t->flags = wire::kTcpSyn;
        t->window.set(1000);
        t->checksum.set(tcp_checksum(src, b.config().ip, {f.data() + 34, 20}));
        if (rte_mbuf* m = mbuf_from_bytes(pool, f)) b.input(m);
        ++flood_syns;
      }
    };
    const SimResult r = sim.transfer(plan);
    print("flood", r, sim.a(), sim.b());
    expect_clean(r, plan);
    EXPECT_GT(sim.b().counters().drop(DropReason::kTcpBacklogFull), 0u) << "the backlog bound was reached";
    EXPECT_GT(sim.b().counters().tcp_syn_cookies_sent, 0u);
    EXPECT_GT(sim.b().counters().tcp_syn_cookies_accepted, 0u) << "real clients got in past the full backlog";
    EXPECT_TRUE(sim.drain());
    sim.destroy();
  }
  std::printf("flood: %llu spoofed SYNs\n", static_cast<unsigned long long>(flood_syns));
  EXPECT_EQ(pool.available(), pool.capacity()) << "mbufs lost";
}

void run_ring(const TransferPlan& plan, const char* name, bool memory_link = false) {
  PacketPool pool(pool_config(name));
  {
    RingPortPair pair(std::string(name) + "r", 8192);
    PortConfig pc;
    pc.memory_link = memory_link;
    Port pa(pair.a(), pool, pc);
    Port pb(pair.b(), pool, pc);
    ASSERT_TRUE(pa.wait_link_up(1000));
    EXPECT_TRUE(pa.link().up);
    EXPECT_EQ(pa.caps().memory_link, memory_link);
    PortQueue qa(pa, 0), qb(pb, 0);
    StackConfig ca = sim_config(1), cb = sim_config(2);
    ca.mac = pa.mac();
    cb.mac = pb.mac();
    for (auto* c : {&ca, &cb}) {
      c->tx_ipv4_checksum_offload = pa.caps().tx_ipv4_checksum;
      c->tx_tcp_checksum_offload = pa.caps().tx_tcp_checksum;
      c->rx_checksum_offload = pa.caps().rx_checksum;
    }
    ASSERT_NE(ca.mac, cb.mac);
    StackSim sim(qa, qb, pool, nullptr, ca, cb);
    const SimResult r = sim.transfer(plan);
    print(name, r, sim.a(), sim.b());
    expect_clean(r, plan);
    EXPECT_TRUE(sim.drain());
    sim.destroy();
  }
  EXPECT_EQ(pool.available(), pool.capacity()) << "mbufs lost";
}

// 1000 connections, 100 at a time, up to 16 KiB each way, every 100th 256 KiB.
TransferPlan thousand_connections() {
  TransferPlan plan;
  plan.connections = 1000;
  plan.concurrency = 100;
  plan.max_size = 16 * 1024;
  plan.large_every = 100;
  plan.large_size = 256 * 1024;
  return plan;
}

TEST(StackPair, RingPortPair1000Connections) {
  run_ring(thousand_connections(), "ring");
}

// The same over an in-memory link that offloads checksums (what mxdp bench
// runs on): the stacks leave the pseudo-header sums, the link marks them
// verified, and nothing is dropped for a bad checksum (expect_clean).
TEST(StackPair, RingPortPairOffloadingChecksums1000Connections) {
  run_ring(thousand_connections(), "ringoff", true);
}

// What the receiving queue of a memory link reports, frame by frame: a TCP
// checksum left to the port arrives verified (and its TX request cleared); a
// frame sent without offload flags arrives unmarked, for software to check.
TEST(StackPair, MemoryLinkMarksOnlyOffloadedChecksumsVerified) {
  PacketPool pool(pool_config("mlink"));
  {
    RingPortPair pair("mlinkr", 64);
    PortConfig pc;
    pc.memory_link = true;
    Port pa(pair.a(), pool, pc);
    Port pb(pair.b(), pool, pc);
    EXPECT_TRUE(pa.caps().tx_tcp_checksum && pa.caps().tx_ipv4_checksum && pa.caps().rx_checksum);
    PortQueue qa(pa, 0), qb(pb, 0);
    const std::vector<std::uint8_t> frame(64, 0x5a);
    rte_mbuf* sent[3] = {mbuf_from_bytes(pool, frame), mbuf_from_bytes(pool, frame),
                         mbuf_from_bytes(pool, frame)};
    ASSERT_TRUE(sent[0] && sent[1] && sent[2]);
    mbuf_request_checksums(sent[0], true, true);
    mbuf_request_checksums(sent[1], true, false);
    ASSERT_EQ(qa.tx_burst(sent, 3), 3);
    rte_mbuf* got[4] = {};
    ASSERT_EQ(qb.rx_burst(got, 4), 3);
    EXPECT_EQ(mbuf_rx_checksums(got[0]).ip, RxChecksum::kGood);
    EXPECT_EQ(mbuf_rx_checksums(got[0]).l4, RxChecksum::kGood);
    EXPECT_FALSE(mbuf_tx_offloads(got[0]).tcp_checksum || mbuf_tx_offloads(got[0]).ip_checksum);
    EXPECT_EQ(mbuf_rx_checksums(got[1]).ip, RxChecksum::kGood);
    EXPECT_EQ(mbuf_rx_checksums(got[1]).l4, RxChecksum::kUnknown);
    EXPECT_EQ(mbuf_rx_checksums(got[2]).ip, RxChecksum::kUnknown);
    EXPECT_EQ(mbuf_rx_checksums(got[2]).l4, RxChecksum::kUnknown);
    for (rte_mbuf* m : got)
      if (m != nullptr) mbuf_free(m);
  }
  EXPECT_EQ(pool.available(), pool.capacity()) << "mbufs lost";
}

}  // namespace
}  // namespace mxdp::dataplane::testing
