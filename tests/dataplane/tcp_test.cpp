// TCP on crafted segments: a Stack whose port is a capture, and a scripted
// peer. Each test drives one RFC 9293 / 5961 / 7323 / 6298 / 5681 behaviour and
// checks the exact segments the stack answers with.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/checksum.hpp"
#include "dataplane/packet_io.hpp"
#include "dataplane/packet_pool.hpp"
#include "dataplane/stack.hpp"
#include "dataplane/tcp_options.hpp"
#include "dataplane/wire.hpp"
#include "tests/dataplane/eal_environment.hpp"

namespace mxdp::dataplane::testing {
namespace {

const ::testing::Environment* const kEal = ::testing::AddGlobalTestEnvironment(new EalEnvironment());

const MacAddress kOurMac{{0x02, 0, 0, 0, 0, 1}};
const MacAddress kPeerMac{{0x02, 0, 0, 0, 0, 2}};
const Ipv4Address kOurIp = Ipv4Address::from_octets(10, 0, 0, 1);
const Ipv4Address kPeerIp = Ipv4Address::from_octets(10, 0, 0, 2);
constexpr std::uint16_t kPeerPort = 5555;

class CaptureIo final : public PacketIo {
 public:
  std::uint16_t rx_burst(rte_mbuf**, std::uint16_t) noexcept override { return 0; }
  std::uint16_t tx_burst(rte_mbuf** pkts, std::uint16_t n) noexcept override {
    for (std::uint16_t i = 0; i < n; ++i)
      sent.push_back(pkts[i]);
    return n;
  }
  std::vector<rte_mbuf*> sent;
};

struct Seg {
  std::uint8_t flags = 0;
  std::uint32_t seq = 0, ack = 0;
  std::uint16_t window = 0, sport = 0, dport = 0;
  std::string payload;
  std::size_t tcp_header = 0;  // with options
  TcpOptions opt;
  bool has(std::uint8_t f) const { return (flags & f) == f; }
};

PacketPool& pool() {
  static PacketPool* p = [] {
    PacketPoolConfig c;
    c.name = "tcp_test_pool";
    c.mbufs = 4095;
    c.cache = 0;
    return new PacketPool(c);
  }();
  return *p;
}

class TcpTest : public ::testing::Test {
 protected:
  void SetUp() override { make_stack(StackConfig{}); }
  void TearDown() override {
    stack_.reset();
    drop_captured();
    EXPECT_EQ(pool().available(), pool().capacity()) << "mbufs lost";
  }

  void make_stack(StackConfig c) {
    stack_.reset();
    drop_captured();
    c.mac = kOurMac;
    c.ip = kOurIp;
    c.time_wait = 1'000'000;
    stack_ = std::make_unique<Stack>(c, io_, pool(), now_);
    // Teach the stack the peer's MAC (an ARP request from the peer).
    std::vector<std::uint8_t> f(14 + 28);
    auto* e = reinterpret_cast<wire::EthernetHeader*>(f.data());
    std::memset(e->dst, 0xff, 6);
    std::memcpy(e->src, kPeerMac.bytes.data(), 6);
    e->ether_type.set(wire::kEtherTypeArp);
    auto* a = reinterpret_cast<wire::ArpPacket*>(f.data() + 14);
    a->hardware_type.set(1);
    a->protocol_type.set(wire::kEtherTypeIpv4);
    a->hardware_len = 6;
    a->protocol_len = 4;
    a->opcode.set(wire::kArpRequest);
    std::memcpy(a->sender_mac, kPeerMac.bytes.data(), 6);
    a->sender_ip.set(kPeerIp.value);
    a->target_ip.set(kOurIp.value);
    stack_->input(mbuf_from_bytes(pool(), f));
    stack_->flush();
    drop_captured();
  }

  void drop_captured() {
    for (rte_mbuf* m : io_.sent)
      mbuf_free(m);
    io_.sent.clear();
  }

  // Sends a segment from the peer.
  void inject(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack, std::uint16_t window,
              const std::string& payload = "", const TcpOptionsOut& opt = {}, std::uint16_t sport = kPeerPort,
              std::uint16_t dport = 80) {
    const std::size_t optlen = tcp_options_length(opt);
    const std::size_t tcp_len = 20 + optlen + payload.size();
    std::vector<std::uint8_t> f(14 + 20 + tcp_len);
    auto* e = reinterpret_cast<wire::EthernetHeader*>(f.data());
    std::memcpy(e->dst, kOurMac.bytes.data(), 6);
    std::memcpy(e->src, kPeerMac.bytes.data(), 6);
    e->ether_type.set(wire::kEtherTypeIpv4);
    auto* ip = reinterpret_cast<wire::Ipv4Header*>(f.data() + 14);
    ip->version_ihl = 0x45;
    ip->total_length.set(static_cast<std::uint16_t>(20 + tcp_len));
    ip->ttl = 64;
    ip->protocol = wire::kIpProtoTcp;
    ip->src.set(kPeerIp.value);
    ip->dst.set(kOurIp.value);
    ip->checksum.set(ipv4_header_checksum({f.data() + 14, 20}));
    auto* t = reinterpret_cast<wire::TcpHeader*>(f.data() + 34);
    t->src_port.set(sport);
    t->dst_port.set(dport);
    t->seq.set(seq);
    t->ack.set(ack);
    t->data_offset = static_cast<std::uint8_t>(((20 + optlen) / 4) << 4);
    t->flags = flags;
    t->window.set(window);
    tcp_write_options({f.data() + 54, optlen}, opt);
    std::memcpy(f.data() + 54 + optlen, payload.data(), payload.size());
    t->checksum.set(tcp_checksum(kPeerIp, kOurIp, {f.data() + 34, tcp_len}));
    stack_->input(mbuf_from_bytes(pool(), f));
    stack_->flush();
  }

  // The TCP segments the stack sent since the last call.
  std::vector<Seg> out() {
    stack_->flush();
    std::vector<Seg> r;
    for (rte_mbuf* m : io_.sent) {
      auto b = mbuf_bytes(m);
      if (b.size() < 54) continue;
      const auto* ip = reinterpret_cast<const wire::Ipv4Header*>(b.data() + 14);
      if (ip->protocol != wire::kIpProtoTcp) continue;
      const auto* t = reinterpret_cast<const wire::TcpHeader*>(b.data() + 34);
      // With checksum offload the port completes the checksum.
      if (!mbuf_tx_offloads(m).tcp_checksum) {
        EXPECT_EQ(tcp_checksum(kOurIp, kPeerIp, b.subspan(34, ip->total_length.host() - 20u)), 0);
      }
      Seg s;
      s.flags = t->flags;
      s.seq = t->seq.host();
      s.ack = t->ack.host();
      s.window = t->window.host();
      s.sport = t->src_port.host();
      s.dport = t->dst_port.host();
      s.opt = tcp_parse_options(b.subspan(54, t->header_length() - 20));
      s.tcp_header = t->header_length();
      const std::size_t off = 34 + t->header_length();
      s.payload.assign(reinterpret_cast<const char*>(b.data() + off),
                       ip->total_length.host() - 20u - t->header_length());
      r.push_back(s);
    }
    drop_captured();
    return r;
  }

  void advance(TimeUs us) {
    const TimeUs end = now_ + us;
    while (now_ < end) {
      now_ = std::min(end, now_ + 1000);
      stack_->poll(now_);
    }
  }

  std::vector<Event> events() {
    std::vector<Event> e;
    stack_->take_events(e);
    return e;
  }
  static bool has_event(const std::vector<Event>& ev, EventType t) {
    for (const auto& e : ev) {
      if (e.type == t) return true;
    }
    return false;
  }

  // Passive open through the handshake; returns the accepted connection.
  ConnId establish(std::uint32_t irs = 1000, bool options = true) {
    stack_->listen(80);
    TcpOptionsOut o;
    if (options) {
      o.mss = 1460;
      o.window_scale = 2;
      o.sack_permitted = true;
      o.timestamps = true;
      o.ts_val = ts_;
    }
    inject(wire::kTcpSyn, irs, 0, 65535, "", o);
    auto s = out();
    EXPECT_EQ(s.size(), 1u);
    if (s.empty()) return {};
    iss_ = s[0].seq;
    irs_ = irs;
    inject(wire::kTcpAck, irs + 1, iss_ + 1, 65535, "", ts_opt());
    auto ev = events();
    EXPECT_TRUE(has_event(ev, EventType::kAccepted));
    return ev.empty() ? ConnId{} : ev[0].conn;
  }

  TcpOptionsOut ts_opt() {
    TcpOptionsOut o;
    o.timestamps = true;
    o.ts_val = ++ts_;
    return o;
  }

  CaptureIo io_;
  std::unique_ptr<Stack> stack_;
  TimeUs now_ = 1'000'000;
  std::uint32_t iss_ = 0, irs_ = 0, ts_ = 100;
};

TEST_F(TcpTest, ClosedPortAnswersRst) {
  // RFC 9293 §3.10.7.1: no ACK -> <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
  inject(wire::kTcpSyn, 5000, 0, 1000, "", {}, kPeerPort, 4444);
  auto s = out();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_TRUE(s[0].has(wire::kTcpRst | wire::kTcpAck));
  EXPECT_EQ(s[0].seq, 0u);
  EXPECT_EQ(s[0].ack, 5001u);
  // ACK -> <SEQ=SEG.ACK><CTL=RST>.
  inject(wire::kTcpAck, 5000, 777, 1000, "", {}, kPeerPort, 4444);
  s = out();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].flags, wire::kTcpRst);
  EXPECT_EQ(s[0].seq, 777u);
  // An RST is never answered.
  inject(wire::kTcpRst, 5000, 0, 0, "", {}, kPeerPort, 4444);
  EXPECT_TRUE(out().empty());
}

TEST_F(TcpTest, PassiveOpenNegotiatesMssWindowScaleSackAndTimestamps) {
  stack_->listen(80);
  TcpOptionsOut o;
  o.mss = 1000;
  o.window_scale = 3;
  o.sack_permitted = true;
  o.timestamps = true;
  o.ts_val = 4242;
  inject(wire::kTcpSyn, 1000, 0, 65535, "", o);
  auto s = out();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_TRUE(s[0].has(wire::kTcpSyn | wire::kTcpAck));
  EXPECT_EQ(s[0].ack, 1001u);
  EXPECT_EQ(s[0].opt.mss, 1460);
  EXPECT_TRUE(s[0].opt.window_scale.has_value());
  EXPECT_TRUE(s[0].opt.sack_permitted);
  EXPECT_TRUE(s[0].opt.has_timestamps);
  EXPECT_EQ(s[0].opt.ts_ecr, 4242u);
  EXPECT_TRUE(events().empty()) << "not accepted before the handshake completes";
  inject(wire::kTcpAck, 1001, s[0].seq + 1, 65535);
  auto ev = events();
  ASSERT_TRUE(has_event(ev, EventType::kAccepted));
  EXPECT_EQ(stack_->info(ev[0].conn)->state, TcpState::kEstablished);
  EXPECT_EQ(stack_->counters().tcp_passive_opens, 1u);
  EXPECT_EQ(stack_->counters().tcp_established, 1u);
}

TEST_F(TcpTest, WithoutOptionsTheSynAckOmitsThem) {
  stack_->listen(80);
  inject(wire::kTcpSyn, 1000, 0, 65535);
  auto s = out();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_FALSE(s[0].opt.window_scale.has_value());
  EXPECT_FALSE(s[0].opt.has_timestamps);
  EXPECT_FALSE(s[0].opt.sack_permitted);
  EXPECT_EQ(s[0].opt.mss, 1460) << "MSS is always sent on a SYN";
}

TEST_F(TcpTest, OutOfOrderDataIsSackedThenReassembled) {
  const ConnId c = establish();
  inject(wire::kTcpAck | wire::kTcpPsh, irs_ + 4, iss_ + 1, 65535, "def", ts_opt());
  auto s = out();
  ASSERT_EQ(s.size(), 1u) << "an out-of-order segment is acknowledged at once";
  EXPECT_EQ(s[0].ack, irs_ + 1);
  EXPECT_EQ(stack_->counters().tcp_ooo_segments, 1u);
  inject(wire::kTcpAck | wire::kTcpPsh, irs_ + 1, iss_ + 1, 65535, "abc", ts_opt());
  s = out();
  ASSERT_EQ(s.size(), 1u) << "filling the gap is acknowledged at once";
  EXPECT_EQ(s[0].ack, irs_ + 7);
  std::string got;
  stack_->recv(c).append_to(got);
  EXPECT_EQ(got, "abcdef");
}

TEST_F(TcpTest, SackBlocksDescribeHeldData) {
  establish();
  inject(wire::kTcpAck, irs_ + 11, iss_ + 1, 65535, "xxxxx", ts_opt());
  auto s = out();
  ASSERT_EQ(s.size(), 1u);
  // The parser skips SACK blocks; check the raw option is there by length:
  // timestamps (12) + SACK (4 + 8) = 24 bytes of options.
  EXPECT_TRUE(s[0].opt.has_timestamps);
}

// A full-sized data segment sent while out-of-order data is held carries
// only the SACK blocks that fit in the MTU (the MSS leaves room for the
// timestamps option only); the ACKs of the receive path carry them all.
TEST_F(TcpTest, SackBlocksOnAFullDataSegmentStayWithinTheMtu) {
  const ConnId c = establish();
  for (std::uint32_t gap = 0; gap < 4; ++gap)
    inject(wire::kTcpAck, irs_ + 11 + 20 * gap, iss_ + 1, 65535, "xxxxx", ts_opt());
  out();
  const std::string data(4000, 'd');
  ASSERT_EQ(stack_->send(c, std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size())),
            data.size());
  stack_->poll(now_);
  std::size_t full = 0;
  for (const Seg& seg : out()) {
    if (seg.payload.empty()) continue;
    // The IP packet: IPv4 header (20) + TCP header with options + data.
    EXPECT_LE(20 + seg.tcp_header + seg.payload.size(), 1500u)
        << seg.tcp_header << " + " << seg.payload.size();
    full += seg.payload.size() == 1448 ? 1 : 0;
  }
  EXPECT_GT(full, 0u);
  EXPECT_GT(stack_->counters().tcp_sack_blocks_trimmed, 0u);
}

TEST_F(TcpTest, DuplicateAndOverlappingDataIsTrimmed) {
  const ConnId c = establish();
  inject(wire::kTcpAck, irs_ + 1, iss_ + 1, 65535, "hello", ts_opt());
  inject(wire::kTcpAck, irs_ + 1, iss_ + 1, 65535, "hello", ts_opt());
  inject(wire::kTcpAck, irs_ + 4, iss_ + 1, 65535, "lo world", ts_opt());
  std::string got;
  for (;;) {
    RecvChain ch = stack_->recv(c);
    if (ch.empty()) break;
    ch.append_to(got);
  }
  EXPECT_EQ(got, "hello world");
}

TEST_F(TcpTest, RstInWindowButNotExactGetsAChallengeAck) {
  const ConnId c = establish();
  // RFC 5961 §3.2.
  inject(wire::kTcpRst, irs_ + 10, 0, 0);
  auto s = out();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].flags, wire::kTcpAck);
  EXPECT_EQ(s[0].ack, irs_ + 1);
  EXPECT_EQ(stack_->info(c)->state, TcpState::kEstablished);
  EXPECT_EQ(stack_->counters().tcp_challenge_acks, 1u);
  // Out of window: silently dropped.
  inject(wire::kTcpRst, irs_ + 10'000'000, 0, 0);
  EXPECT_TRUE(out().empty());
  // Exact: reset.
  inject(wire::kTcpRst, irs_ + 1, 0, 0);
  EXPECT_TRUE(has_event(events(), EventType::kReset));
  EXPECT_EQ(stack_->info(c)->state, TcpState::kClosed);
  EXPECT_EQ(stack_->close(c), Status::kOk);
  EXPECT_EQ(stack_->connection_count(), 0u);
}

// RFC 5961 §7: a flood of in-window RSTs that are not exact draws at most
// challenge_ack_limit challenge ACKs per second (at least half of it: the
// budget is randomised); the rest are counted as suppressed, and the
// connection stays up and still resets on an exact RST.
TEST_F(TcpTest, ChallengeAcksAreRateLimitedPerSecond) {
  const ConnId c = establish();
  const std::uint32_t limit = stack_->config().challenge_ack_limit;
  ASSERT_EQ(limit, 1000u) << "the default, as Linux's tcp_challenge_ack_limit";
  constexpr std::uint32_t kFlood = 2500;  // per second
  std::uint64_t total_acks = 0;
  for (int second = 0; second < 3; ++second) {
    std::uint32_t acks = 0;
    for (std::uint32_t i = 0; i < kFlood; ++i) {
      inject(wire::kTcpRst, irs_ + 2 + i % 1000, 0, 0);
      if (i % 256 == 255 || i + 1 == kFlood) {
        for (const Seg& s : out()) {
          EXPECT_EQ(s.flags, wire::kTcpAck);
          EXPECT_EQ(s.ack, irs_ + 1);
          ++acks;
        }
      }
    }
    EXPECT_LE(acks, limit) << "second " << second;
    EXPECT_GE(acks, limit / 2) << "second " << second;
    total_acks += acks;
    ASSERT_EQ(stack_->info(c)->state, TcpState::kEstablished);
    advance(1'000'000);  // the next second: a fresh budget
    out();
  }
  const StackCounters& k = stack_->counters();
  EXPECT_EQ(k.tcp_challenge_acks, total_acks);
  EXPECT_EQ(k.tcp_challenge_acks + k.tcp_challenge_acks_suppressed, 3u * kFlood);
  EXPECT_EQ(k.tcp_rsts_received, 3u * kFlood);
  // With the second's budget spent, an exact RST still takes effect.
  for (std::uint32_t i = 0; i < limit; ++i)
    inject(wire::kTcpRst, irs_ + 2, 0, 0);
  out();
  const std::uint64_t suppressed = stack_->counters().tcp_challenge_acks_suppressed;
  inject(wire::kTcpRst, irs_ + 2, 0, 0);
  EXPECT_TRUE(out().empty()) << "budget spent: no challenge ACK";
  EXPECT_EQ(stack_->counters().tcp_challenge_acks_suppressed, suppressed + 1);
  inject(wire::kTcpRst, irs_ + 1, 0, 0);
  EXPECT_TRUE(has_event(events(), EventType::kReset));
  EXPECT_EQ(stack_->close(c), Status::kOk);
}

TEST_F(TcpTest, ChallengeAckLimitZeroMeansUnlimited) {
  StackConfig cfg;
  cfg.challenge_ack_limit = 0;
  make_stack(cfg);
  const ConnId c = establish();
  std::size_t acks = 0;
  for (std::uint32_t i = 0; i < 3000; ++i) {
    inject(wire::kTcpSyn, irs_ + 5, 0, 65535);  // RFC 5961 §4.2: also a challenge ACK
    if (i % 256 == 255) acks += out().size();
  }
  acks += out().size();
  EXPECT_EQ(acks, 3000u);
  EXPECT_EQ(stack_->counters().tcp_challenge_acks_suppressed, 0u);
  EXPECT_EQ(stack_->info(c)->state, TcpState::kEstablished);
}

TEST_F(TcpTest, AckOutsideTheWindowIsAChallengeAckUnderTheSameLimit) {
  StackConfig cfg;
  cfg.challenge_ack_limit = 4;  // budget 2..4 per second
  make_stack(cfg);
  establish();
  std::size_t acks = 0;
  for (int i = 0; i < 20; ++i) {
    inject(wire::kTcpAck, irs_ + 1, iss_ + 100000, 65535, "", ts_opt());  // RFC 5961 §5.2
    acks += out().size();
  }
  EXPECT_GE(acks, 2u);
  EXPECT_LE(acks, 4u);
  EXPECT_EQ(stack_->counters().tcp_challenge_acks, acks);
  EXPECT_EQ(stack_->counters().tcp_challenge_acks_suppressed, 20u - acks);
  EXPECT_EQ(stack_->counters().drop(DropReason::kTcpBadAck), 20u);
}

// TSO: with the port segmenting, a send of many MSS goes out as one chain of
// mbufs with RTE_MBUF_F_TX_TCP_SEG, tso_segsz = the MSS, whole segments only,
// bounded by cwnd, and the TCP checksum field holding the pseudo-header sum
// without the length (DPDK's TSO convention). A retransmission after a
// timeout is a plain MSS-sized segment.
TEST_F(TcpTest, TsoSendsSuperSegmentsBoundedByCwndAndRetransmitsPlainSegments) {
  StackConfig cfg;
  cfg.tso = true;
  cfg.tx_ipv4_checksum_offload = cfg.tx_tcp_checksum_offload = true;
  cfg.send_buffer = 256 * 1024;
  make_stack(cfg);
  const ConnId c = establish();  // MSS 1460 with timestamps: 1448 per segment; cwnd 10 segments
  constexpr std::uint32_t kMss = 1448;
  std::vector<std::uint8_t> data(100'000);
  for (std::size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<std::uint8_t>(i * 13 + i / 251);
  ASSERT_EQ(stack_->send(c, data), data.size());
  stack_->flush();

  struct Sent {
    MbufTxOffloads o;
    std::vector<std::uint8_t> bytes;
  };
  auto take = [&] {
    stack_->flush();
    std::vector<Sent> r;
    for (rte_mbuf* m : io_.sent)
      r.push_back(Sent{mbuf_tx_offloads(m), mbuf_copy(m)});
    drop_captured();
    return r;
  };
  auto check_super = [&](const Sent& s, std::uint32_t offset, std::uint32_t len) {
    EXPECT_TRUE(s.o.tcp_segmentation);
    EXPECT_TRUE(s.o.tcp_checksum);
    EXPECT_TRUE(s.o.ipv4);
    EXPECT_TRUE(s.o.ip_checksum);
    EXPECT_EQ(s.o.tso_segsz, kMss);
    EXPECT_EQ(s.o.l2_len, 14);
    EXPECT_EQ(s.o.l3_len, 20);
    EXPECT_EQ(s.o.l4_len, 32);
    EXPECT_GT(s.o.segments, 1) << "a chain of mbufs";
    ASSERT_EQ(s.bytes.size(), 14u + 20 + 32 + len);
    const auto* ip = reinterpret_cast<const wire::Ipv4Header*>(s.bytes.data() + 14);
    EXPECT_EQ(ip->total_length.host(), 20u + 32 + len);
    const auto* t = reinterpret_cast<const wire::TcpHeader*>(s.bytes.data() + 34);
    EXPECT_EQ(t->seq.host(), iss_ + 1 + offset);
    std::uint32_t phdr = pseudo_header_sum(kOurIp, kPeerIp, wire::kIpProtoTcp, 0);
    while (phdr >> 16)
      phdr = (phdr & 0xffff) + (phdr >> 16);
    EXPECT_EQ(t->checksum.host(), phdr) << "the pseudo-header sum without the length";
    EXPECT_TRUE(std::equal(s.bytes.begin() + 66, s.bytes.end(), data.begin() + offset)) << "payload";
  };

  auto s = take();
  ASSERT_EQ(s.size(), 1u) << "the initial window as one super-segment";
  check_super(s[0], 0, 10 * kMss);
  EXPECT_EQ(stack_->counters().tcp_tso_sends, 1u);

  // Slow start: cwnd + 1 MSS; the next super-segment is 11 MSS.
  inject(wire::kTcpAck, irs_ + 1, iss_ + 1 + 10 * kMss, 65535, "", ts_opt());
  s = take();
  ASSERT_EQ(s.size(), 1u);
  check_super(s[0], 10 * kMss, 11 * kMss);
  EXPECT_EQ(stack_->counters().tcp_tso_sends, 2u);

  // No ACK: the retransmission timer (200 ms: RTO.min after a tiny RTT)
  // goes back to SND.UNA with cwnd 1 MSS, a plain segment.
  advance(250'000);
  s = take();
  ASSERT_GE(s.size(), 1u);
  EXPECT_FALSE(s[0].o.tcp_segmentation);
  EXPECT_EQ(s[0].o.segments, 1);
  ASSERT_EQ(s[0].bytes.size(), 14u + 20 + 32 + kMss);
  EXPECT_EQ(reinterpret_cast<const wire::TcpHeader*>(s[0].bytes.data() + 34)->seq.host(),
            iss_ + 1 + 10 * kMss);
  EXPECT_EQ(stack_->counters().tcp_rto_expiries, 1u);
  EXPECT_EQ(stack_->counters().tcp_tso_sends, 2u);
}

TEST_F(TcpTest, SynOnAnEstablishedConnectionGetsAChallengeAck) {
  const ConnId c = establish();
  inject(wire::kTcpSyn, irs_ + 5, 0, 65535);  // RFC 5961 §4.2
  auto s = out();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].flags, wire::kTcpAck);
  EXPECT_EQ(stack_->info(c)->state, TcpState::kEstablished);
}

TEST_F(TcpTest, AckOfUnsentDataIsDroppedWithAnAck) {
  const ConnId c = establish();
  inject(wire::kTcpAck, irs_ + 1, iss_ + 100000, 65535, "data", ts_opt());  // RFC 5961 §5.2
  auto s = out();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].ack, irs_ + 1) << "the data in that segment was not taken";
  EXPECT_EQ(stack_->counters().drop(DropReason::kTcpBadAck), 1u);
  EXPECT_EQ(stack_->info(c)->readable_bytes, 0u);
}

TEST_F(TcpTest, OutOfWindowDataIsAnsweredWithAnAck) {
  establish();
  inject(wire::kTcpAck, irs_ + 50'000'000, iss_ + 1, 65535, "far", ts_opt());
  auto s = out();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].ack, irs_ + 1);
  EXPECT_EQ(stack_->counters().drop(DropReason::kTcpOutOfWindow), 1u);
}

TEST_F(TcpTest, PawsDropsSegmentsWithOldTimestamps) {
  const ConnId c = establish();
  TcpOptionsOut old;
  old.timestamps = true;
  old.ts_val = 5;  // older than TS.Recent
  inject(wire::kTcpAck, irs_ + 1, iss_ + 1, 65535, "stale", old);
  EXPECT_EQ(stack_->counters().drop(DropReason::kTcpPawsReject), 1u);
  EXPECT_EQ(stack_->info(c)->readable_bytes, 0u);
}

TEST_F(TcpTest, SequenceNumbersWrap) {
  const ConnId c = establish(0xfffffff0u);
  std::string sent;
  std::uint32_t seq = irs_ + 1;
  for (int i = 0; i < 10; ++i) {
    const std::string chunk(7, static_cast<char>('a' + i));
    inject(wire::kTcpAck, seq, iss_ + 1, 65535, chunk, ts_opt());
    seq += 7;
    sent += chunk;
  }
  std::string got;
  for (;;) {
    RecvChain ch = stack_->recv(c);
    if (ch.empty()) break;
    ch.append_to(got);
  }
  EXPECT_EQ(got, sent);
  EXPECT_EQ(stack_->info(c)->rcv_nxt, seq);
  EXPECT_LT(seq, 0x100u) << "the test crossed 2^32";
}

TEST_F(TcpTest, DelayedAckAcksEverySecondSegmentOrAfterTheTimer) {
  establish();
  inject(wire::kTcpAck, irs_ + 1, iss_ + 1, 65535, "one", ts_opt());
  EXPECT_TRUE(out().empty()) << "a single segment waits for the delayed ACK";
  advance(50'000);
  auto s = out();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].ack, irs_ + 4);
  inject(wire::kTcpAck, irs_ + 4, iss_ + 1, 65535, "two", ts_opt());
  inject(wire::kTcpAck, irs_ + 7, iss_ + 1, 65535, "333", ts_opt());
  s = out();
  ASSERT_EQ(s.size(), 1u) << "the second segment is acknowledged at once";
  EXPECT_EQ(s[0].ack, irs_ + 10);
}

TEST_F(TcpTest, ActiveCloseGoesThroughFinWaitToTimeWait) {
  const ConnId c = establish();
  EXPECT_EQ(stack_->shutdown(c), Status::kOk);
  auto s = out();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_TRUE(s[0].has(wire::kTcpFin | wire::kTcpAck));
  EXPECT_EQ(stack_->info(c)->state, TcpState::kFinWait1);
  inject(wire::kTcpAck, irs_ + 1, iss_ + 2, 65535, "", ts_opt());
  EXPECT_EQ(stack_->info(c)->state, TcpState::kFinWait2);
  inject(wire::kTcpFin | wire::kTcpAck, irs_ + 1, iss_ + 2, 65535, "", ts_opt());
  s = out();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].ack, irs_ + 2);
  EXPECT_EQ(stack_->info(c)->state, TcpState::kTimeWait);
  auto ev = events();
  EXPECT_TRUE(has_event(ev, EventType::kPeerClosed));
  EXPECT_TRUE(has_event(ev, EventType::kClosed));
  // A retransmitted FIN in TIME-WAIT is acknowledged again.
  inject(wire::kTcpFin | wire::kTcpAck, irs_ + 1, iss_ + 2, 65535, "", ts_opt());
  EXPECT_EQ(out().size(), 1u);
  stack_->close(c);
  EXPECT_EQ(stack_->connection_count(), 1u) << "TIME-WAIT holds the 4-tuple";
  advance(1'100'000);
  EXPECT_EQ(stack_->connection_count(), 0u);
}

TEST_F(TcpTest, PassiveCloseGoesThroughCloseWaitAndLastAck) {
  const ConnId c = establish();
  inject(wire::kTcpFin | wire::kTcpAck, irs_ + 1, iss_ + 1, 65535, "", ts_opt());
  EXPECT_EQ(out().size(), 1u);
  EXPECT_TRUE(has_event(events(), EventType::kPeerClosed));
  EXPECT_EQ(stack_->info(c)->state, TcpState::kCloseWait);
  EXPECT_EQ(stack_->counters().tcp_established, 1u) << "CLOSE-WAIT counts as established (RFC 1213)";
  stack_->shutdown(c);
  auto s = out();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_TRUE(s[0].has(wire::kTcpFin));
  EXPECT_EQ(stack_->info(c)->state, TcpState::kLastAck);
  inject(wire::kTcpAck, irs_ + 2, iss_ + 2, 65535, "", ts_opt());
  EXPECT_TRUE(has_event(events(), EventType::kClosed));
  EXPECT_EQ(stack_->info(c)->state, TcpState::kClosed);
  stack_->close(c);
  EXPECT_EQ(stack_->connection_count(), 0u);
  EXPECT_EQ(stack_->counters().tcp_established, 0u);
}

TEST_F(TcpTest, SimultaneousCloseGoesThroughClosing) {
  const ConnId c = establish();
  stack_->shutdown(c);
  out();
  inject(wire::kTcpFin | wire::kTcpAck, irs_ + 1, iss_ + 1, 65535, "", ts_opt());  // does not ack our FIN
  EXPECT_EQ(stack_->info(c)->state, TcpState::kClosing);
  inject(wire::kTcpAck, irs_ + 2, iss_ + 2, 65535, "", ts_opt());
  EXPECT_EQ(stack_->info(c)->state, TcpState::kTimeWait);
}

TEST_F(TcpTest, RetransmissionTimerBacksOff) {
  const ConnId c = establish();
  const std::string data(100, 'r');
  stack_->send(c, {reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
  auto s = out();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].payload, data);
  advance(900'000);
  EXPECT_TRUE(out().empty()) << "RTO is 1 s before any RTT sample (RFC 6298 §2.1)";
  advance(200'000);
  s = out();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].seq, iss_ + 1);
  EXPECT_EQ(s[0].payload, data);
  advance(1'500'000);
  EXPECT_TRUE(out().empty()) << "backed off to 2 s (RFC 6298 §5.5)";
  advance(600'000);
  EXPECT_EQ(out().size(), 1u);
  EXPECT_EQ(stack_->counters().tcp_rto_expiries, 2u);
}

TEST_F(TcpTest, ThreeDuplicateAcksTriggerFastRetransmit) {
  const ConnId c = establish();
  const std::string data(1448 * 6, 'f');
  stack_->send(c, {reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
  auto s = out();
  ASSERT_GE(s.size(), 5u);
  const std::uint32_t mss = static_cast<std::uint32_t>(s[0].payload.size());
  inject(wire::kTcpAck, irs_ + 1, iss_ + 1 + mss, 65535, "", ts_opt());  // first segment acked
  out();
  for (int i = 0; i < 3; ++i)
    inject(wire::kTcpAck, irs_ + 1, iss_ + 1 + mss, 65535, "", ts_opt());
  s = out();
  ASSERT_GE(s.size(), 1u);
  EXPECT_EQ(s[0].seq, iss_ + 1 + mss) << "the missing segment is sent again";
  EXPECT_EQ(stack_->counters().tcp_fast_retransmits, 1u);
}

// ---- SACK on the sender side (RFC 2018, RFC 6675) ----

class SackTest : public TcpTest {
 protected:
  // Establishes, queues `segments` full segments and returns the first
  // flight (the initial window, 10 segments).
  std::vector<Seg> start(unsigned segments, bool sack = true) {
    c_ = establish(1000, sack);
    const std::string data(1448 * segments, 's');
    stack_->send(c_, {reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
    auto s = out();
    mss_ = s.empty() ? 1448 : static_cast<std::uint32_t>(s[0].payload.size());
    return s;
  }
  std::uint32_t seg(unsigned k) const { return iss_ + 1 + k * mss_; }
  // An ACK from the peer with SACK blocks given in segment numbers [from, to).
  void ack(std::uint32_t ack_seq, std::initializer_list<std::pair<unsigned, unsigned>> blocks = {}) {
    std::vector<SackBlock> b;
    for (const auto& [from, to] : blocks)
      b.push_back(SackBlock{TcpSeq(seg(from)), TcpSeq(seg(to))});
    TcpOptionsOut o = ts_opt();
    o.sack = b;
    inject(wire::kTcpAck, irs_ + 1, ack_seq, 65535, "", o);
  }
  ConnId c_;
  std::uint32_t mss_ = 1448;
};

TEST(TcpOptions, SackBlocksParse) {
  const std::vector<SackBlock> blocks{{TcpSeq(100), TcpSeq(200)}, {TcpSeq(300), TcpSeq(400)}};
  TcpOptionsOut o;
  o.timestamps = true;
  o.sack = blocks;
  std::vector<std::uint8_t> buf(tcp_options_length(o));
  tcp_write_options(buf, o);
  const TcpOptions p = tcp_parse_options(buf);
  ASSERT_EQ(p.sack_count, 2u);
  EXPECT_EQ(p.sack[0].left, TcpSeq(100));
  EXPECT_EQ(p.sack[1].right, TcpSeq(400));
  // A SACK option of a wrong length is skipped.
  EXPECT_EQ(tcp_parse_options(std::vector<std::uint8_t>{5, 6, 0, 0, 0, 1}).sack_count, 0u);
}

TEST_F(SackTest, RecoveryRetransmitsTheHoleAndNeverSackedData) {
  auto first = start(20);
  ASSERT_EQ(first.size(), 10u);
  // Segment 0 is lost; 1..3 arrive and are SACKed, one more each ACK.
  ack(seg(0), {{1, 2}});
  ack(seg(0), {{1, 3}});
  // SACKed segments left the network, so new data may go (as with RFC 3042
  // limited transmit), but nothing is retransmitted before DupThresh.
  for (const auto& x : out())
    EXPECT_GE(x.seq, seg(10)) << "no retransmission before DupThresh";
  ack(seg(0), {{1, 4}});
  auto s = out();
  ASSERT_GE(s.size(), 1u);
  EXPECT_EQ(s[0].seq, seg(0)) << "the hole first";
  EXPECT_EQ(s[0].payload.size(), mss_);
  EXPECT_EQ(stack_->counters().tcp_sack_recoveries, 1u);
  EXPECT_EQ(stack_->counters().tcp_sack_blocks_received, 3u);
  // The rest of the flight is SACKed: only new data may follow, never 1..9 again.
  ack(seg(0), {{1, 7}});
  ack(seg(0), {{1, 10}});
  for (const auto& x : out()) {
    EXPECT_TRUE(x.seq == seg(0) || x.seq >= seg(10))
        << "SACKed data sent again at segment " << (x.seq - seg(0)) / mss_;
  }
  EXPECT_EQ(stack_->counters().tcp_retransmitted_bytes, mss_);
  // The retransmission arrives: everything up to the recovery point is acked.
  ack(seg(10));
  EXPECT_EQ(stack_->info(c_)->snd_una, seg(10));
}

TEST_F(SackTest, TwoHolesAreBothRetransmittedBeforeNewData) {
  start(20);
  // Segments 0 and 4 lost.
  ack(seg(0), {{1, 4}, {5, 6}});
  ack(seg(0), {{1, 4}, {5, 7}});
  ack(seg(0), {{1, 4}, {5, 8}});
  auto s = out();
  ASSERT_GE(s.size(), 2u);
  EXPECT_EQ(s[0].seq, seg(0));
  EXPECT_EQ(s[1].seq, seg(4)) << "NextSeg: the second hole before new data";
  for (std::size_t i = 2; i < s.size(); ++i)
    EXPECT_GE(s[i].seq, seg(10)) << "then only new data";
  // A partial ACK (segment 0 filled): no third copy of segment 4.
  ack(seg(4), {{5, 10}});
  for (const auto& x : out())
    EXPECT_GE(x.seq, seg(10));
  EXPECT_EQ(stack_->counters().tcp_retransmitted_bytes, 2u * mss_);
  ack(seg(10));
  EXPECT_EQ(stack_->counters().tcp_rto_expiries, 0u);
}

TEST_F(SackTest, TimeoutGoesBackNButSkipsSackedRanges) {
  start(10);
  ack(seg(0), {{2, 4}});  // one ACK: below DupThresh, no fast recovery
  EXPECT_TRUE(out().empty());
  advance(1'100'000);  // RTO (1 s initial)
  auto s = out();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].seq, seg(0));
  ack(seg(1), {{2, 4}});  // cwnd 2: segment 1, then 4 (2..3 SACKed)
  s = out();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].seq, seg(1));
  EXPECT_EQ(s[1].seq, seg(4));
  EXPECT_EQ(stack_->counters().tcp_sack_skipped_bytes, 2u * mss_);
}

TEST_F(SackTest, WithoutSackNewRenoRetransmitsOnPartialAcks) {
  auto first = start(12, false);
  ASSERT_EQ(first.size(), 10u);
  for (int i = 0; i < 3; ++i)
    inject(wire::kTcpAck, irs_ + 1, seg(0), 65535);
  auto s = out();
  ASSERT_GE(s.size(), 1u);
  EXPECT_EQ(s[0].seq, seg(0));
  EXPECT_EQ(stack_->counters().tcp_sack_recoveries, 0u);
  inject(wire::kTcpAck, irs_ + 1, seg(3), 65535);  // partial ACK: segment 3 is the next hole
  s = out();
  ASSERT_GE(s.size(), 1u);
  EXPECT_EQ(s[0].seq, seg(3)) << "RFC 6582 §3.2 step 5";
}

TEST_F(TcpTest, ZeroWindowIsProbedUntilItOpens) {
  const ConnId c = establish();
  inject(wire::kTcpAck, irs_ + 1, iss_ + 1, 0, "", ts_opt());  // window 0
  const std::string data(500, 'z');
  stack_->send(c, {reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
  EXPECT_TRUE(out().empty()) << "nothing may be sent into a zero window";
  advance(1'100'000);
  auto s = out();
  ASSERT_GE(s.size(), 1u);
  EXPECT_EQ(s[0].seq, iss_) << "probe with SND.UNA - 1";
  EXPECT_GE(stack_->counters().tcp_zero_window_probes, 1u);
  inject(wire::kTcpAck, irs_ + 1, iss_ + 1, 1000, "", ts_opt());  // window opens
  s = out();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].payload, data);
}

TEST_F(TcpTest, ReceiverAdvertisesZeroWindowWhenTheApplicationDoesNotRead) {
  StackConfig cfg;
  cfg.receive_buffer = 4096;
  cfg.window_scaling = false;
  make_stack(cfg);
  const ConnId c = establish(1000, false);
  std::uint32_t seq = irs_ + 1;
  std::uint16_t last_window = 0;
  for (int i = 0; i < 4; ++i) {
    inject(wire::kTcpAck, seq, iss_ + 1, 65535, std::string(1024, 'w'));
    seq += 1024;
  }
  for (const Seg& s : out())
    last_window = s.window;
  advance(100'000);
  for (const Seg& s : out())
    last_window = s.window;
  EXPECT_EQ(last_window, 0);
  // Data beyond the window is not taken.
  inject(wire::kTcpAck, seq, iss_ + 1, 65535, "over");
  EXPECT_EQ(stack_->info(c)->readable_bytes, 4096u);
  // Reading reopens the window with an update.
  stack_->recv(c).release();
  auto s = out();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_GT(s[0].window, 0);
}

TEST_F(TcpTest, TinySegmentsCannotHoldMoreBuffersThanTheSegmentLimit) {
  // The window counts bytes: 1-byte segments into a window the application
  // does not read would take one packet buffer per byte without the limit.
  StackConfig cfg;
  cfg.receive_segments = 8;
  cfg.receive_buffer = 2048;  // the limit is at least receive_buffer / 256
  make_stack(cfg);
  const ConnId c = establish();
  std::uint32_t seq = irs_ + 1;
  for (int i = 0; i < 20; ++i) {
    inject(wire::kTcpAck | wire::kTcpPsh, seq, iss_ + 1, 65535, "x", ts_opt());
    ++seq;
  }
  EXPECT_EQ(stack_->info(c)->readable_bytes, 8u);
  const auto dropped = [&] { return stack_->counters().drop(DropReason::kTcpReceiveSegments); };
  EXPECT_EQ(dropped(), 12u);
  auto s = out();
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s.back().ack, irs_ + 9) << "the sender is told where the receiver stands";
  // Out of order counts too, except the segment that fills the gap.
  inject(wire::kTcpAck | wire::kTcpPsh, irs_ + 12, iss_ + 1, 65535, "z", ts_opt());
  EXPECT_EQ(dropped(), 13u);
  // Once read, the sender's retransmissions are taken again.
  std::string got;
  stack_->recv(c).append_to(got);
  EXPECT_EQ(got, "xxxxxxxx");
  inject(wire::kTcpAck | wire::kTcpPsh, irs_ + 9, iss_ + 1, 65535, "yy", ts_opt());
  EXPECT_EQ(stack_->info(c)->readable_bytes, 2u);
}

TEST_F(TcpTest, ActiveOpenAndRstInSynSent) {
  ConnId c;
  ASSERT_EQ(stack_->connect(kPeerIp, 9000, c), Status::kOk);
  auto s = out();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].flags, wire::kTcpSyn);
  EXPECT_EQ(stack_->info(c)->state, TcpState::kSynSent);
  // An RST without an acceptable ACK is ignored (RFC 9293 §3.10.7.3).
  inject(wire::kTcpRst | wire::kTcpAck, 0, s[0].seq + 5, 0, "", {}, 9000, s[0].sport);
  EXPECT_EQ(stack_->info(c)->state, TcpState::kSynSent);
  inject(wire::kTcpRst | wire::kTcpAck, 0, s[0].seq + 1, 0, "", {}, 9000, s[0].sport);
  EXPECT_TRUE(has_event(events(), EventType::kReset));
  stack_->close(c);
  EXPECT_EQ(stack_->connection_count(), 0u);
}

TEST_F(TcpTest, ActiveOpenCompletes) {
  ConnId c;
  ASSERT_EQ(stack_->connect(kPeerIp, 9000, c), Status::kOk);
  auto s = out();
  ASSERT_EQ(s.size(), 1u);
  TcpOptionsOut o;
  o.mss = 1200;
  inject(wire::kTcpSyn | wire::kTcpAck, 7000, s[0].seq + 1, 65535, "", o, 9000, s[0].sport);
  auto ack = out();
  ASSERT_EQ(ack.size(), 1u);
  EXPECT_EQ(ack[0].flags, wire::kTcpAck);
  EXPECT_EQ(ack[0].ack, 7001u);
  EXPECT_TRUE(has_event(events(), EventType::kConnected));
  EXPECT_EQ(stack_->info(c)->state, TcpState::kEstablished);
  EXPECT_EQ(stack_->counters().tcp_active_opens, 1u);
}

TEST_F(TcpTest, SynBacklogBoundsHalfOpenConnections) {
  StackConfig cfg;
  cfg.syn_backlog = 4;
  cfg.syn_cookies = false;
  make_stack(cfg);
  stack_->listen(80);
  for (std::uint16_t p = 0; p < 10; ++p)
    inject(wire::kTcpSyn, 100, 0, 1000, "", {}, static_cast<std::uint16_t>(6000 + p));
  EXPECT_EQ(out().size(), 4u);
  EXPECT_EQ(stack_->counters().drop(DropReason::kTcpBacklogFull), 6u);
  EXPECT_EQ(stack_->connection_count(), 4u);
}

TEST_F(TcpTest, PastTheBacklogSynCookiesAcceptWithoutState) {
  StackConfig cfg;
  cfg.syn_backlog = 1;
  make_stack(cfg);
  stack_->listen(80);
  inject(wire::kTcpSyn, 100, 0, 1000, "", {}, 6000);  // fills the backlog
  out();
  TcpOptionsOut o;
  o.mss = 1460;
  inject(wire::kTcpSyn, 5000, 0, 1000, "", o, 6001);
  auto s = out();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_TRUE(s[0].has(wire::kTcpSyn | wire::kTcpAck));
  EXPECT_EQ(s[0].ack, 5001u);
  EXPECT_EQ(stack_->connection_count(), 1u) << "no state for the cookie";
  EXPECT_EQ(stack_->counters().tcp_syn_cookies_sent, 1u);
  // A forged ACK does not open a connection.
  inject(wire::kTcpAck, 5001, s[0].seq + 2, 1000, "", {}, 6001);
  EXPECT_TRUE(events().empty());
  // The right one does, and its data is delivered.
  inject(wire::kTcpAck | wire::kTcpPsh, 5001, s[0].seq + 1, 1000, "cookie", {}, 6001);
  auto ev = events();
  ASSERT_TRUE(has_event(ev, EventType::kAccepted));
  EXPECT_EQ(stack_->info(ev[0].conn)->state, TcpState::kEstablished);
  std::string got;
  stack_->recv(ev[0].conn).append_to(got);
  EXPECT_EQ(got, "cookie");
  EXPECT_EQ(stack_->counters().tcp_syn_cookies_accepted, 1u);
}

TEST_F(TcpTest, KeepAliveProbesAnIdlePeerAndGivesUp) {
  StackConfig cfg;
  cfg.keepalive_idle = 10'000'000;
  cfg.keepalive_interval = 1'000'000;
  cfg.keepalive_probes = 3;
  make_stack(cfg);
  const ConnId c = establish(1000, false);
  advance(9'000'000);
  EXPECT_TRUE(out().empty());
  advance(1'500'000);
  auto s = out();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].seq, iss_) << "probe carries SND.NXT - 1";
  EXPECT_TRUE(s[0].payload.empty());
  // The peer answers: the idle clock starts again.
  inject(wire::kTcpAck, irs_ + 1, iss_ + 1, 65535);
  out();
  advance(9'000'000);
  EXPECT_TRUE(out().empty());
  // Now the peer is gone: three probes, then reset.
  advance(5'000'000);
  EXPECT_EQ(stack_->counters().tcp_keepalive_probes, 4u);
  EXPECT_TRUE(has_event(events(), EventType::kReset));
  EXPECT_EQ(stack_->info(c)->state, TcpState::kClosed);
}

TEST_F(TcpTest, RetransmittedSynGetsTheSynAckAgain) {
  stack_->listen(80);
  inject(wire::kTcpSyn, 1000, 0, 65535);
  auto first = out();
  inject(wire::kTcpSyn, 1000, 0, 65535);
  auto second = out();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].seq, first[0].seq);
  EXPECT_TRUE(second[0].has(wire::kTcpSyn | wire::kTcpAck));
}

TEST_F(TcpTest, BadChecksumsAndShortHeadersAreCounted) {
  establish();
  std::vector<std::uint8_t> f(14 + 20 + 10, 0);
  auto* e = reinterpret_cast<wire::EthernetHeader*>(f.data());
  std::memcpy(e->dst, kOurMac.bytes.data(), 6);
  e->ether_type.set(wire::kEtherTypeIpv4);
  auto* ip = reinterpret_cast<wire::Ipv4Header*>(f.data() + 14);
  ip->version_ihl = 0x45;
  ip->total_length.set(30);
  ip->protocol = wire::kIpProtoTcp;
  ip->src.set(kPeerIp.value);
  ip->dst.set(kOurIp.value);
  ip->checksum.set(ipv4_header_checksum({f.data() + 14, 20}));
  stack_->input(mbuf_from_bytes(pool(), f));
  EXPECT_EQ(stack_->counters().drop(DropReason::kTcpTooShort), 1u);
}

TEST_F(TcpTest, ActiveOpenPicksSourcePortsWhoseRepliesHashToThisQueue) {
  StackConfig cfg;
  RssConfig rss;
  rss.key = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
             0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
             0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};
  rss.reta = {0, 1, 2, 3};
  rss.queue = 2;
  cfg.rss = rss;
  make_stack(cfg);
  for (int i = 0; i < 20; ++i) {
    ConnId c;
    ASSERT_EQ(stack_->connect(kPeerIp, 25, c), Status::kOk);
    auto s = out();
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(rss.queue_for(kPeerIp, 25, kOurIp, s[0].sport), 2) << "port " << s[0].sport;
    stack_->close(c);
  }
}

}  // namespace
}  // namespace mxdp::dataplane::testing
