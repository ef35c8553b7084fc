// Unit tests for the DPDK-free parts of the dataplane, on crafted packets:
// byte order, wire struct layout, checksums, sequence numbers, TCP options,
// Ethernet classification, ARP, IPv4 input checks, ICMP echo, timer wheel, the
// send buffer and the fixed-capacity hash map.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <unordered_map>
#include <vector>

#include "dataplane/addresses.hpp"
#include "dataplane/arp.hpp"
#include "dataplane/checksum.hpp"
#include "dataplane/ethernet.hpp"
#include "dataplane/fixed_hash_map.hpp"
#include "dataplane/icmp.hpp"
#include "dataplane/ipv4.hpp"
#include "dataplane/rss.hpp"
#include "dataplane/sack_scoreboard.hpp"
#include "dataplane/send_buffer.hpp"
#include "dataplane/tcp_options.hpp"
#include "dataplane/tcp_seq.hpp"
#include "dataplane/timer_wheel.hpp"
#include "dataplane/wire.hpp"

namespace mxdp::dataplane {
namespace {

using Bytes = std::vector<std::uint8_t>;

const MacAddress kSelfMac{{0x02, 0, 0, 0, 0, 1}};
const MacAddress kPeerMac{{0x02, 0, 0, 0, 0, 2}};
const Ipv4Address kSelfIp = Ipv4Address::from_octets(10, 0, 0, 1);
const Ipv4Address kPeerIp = Ipv4Address::from_octets(10, 0, 0, 2);

TEST(ByteOrder, RoundTripsAndIsBigEndian) {
  const Be16 a = Be16::from_host(0x1234);
  EXPECT_EQ(a.b[0], 0x12);
  EXPECT_EQ(a.b[1], 0x34);
  EXPECT_EQ(a.host(), 0x1234);
  const Be32 b = Be32::from_host(0xdeadbeef);
  EXPECT_EQ(b.b[0], 0xde);
  EXPECT_EQ(b.b[3], 0xef);
  EXPECT_EQ(b.host(), 0xdeadbeefu);
}

TEST(Addresses, ParseAndFormat) {
  EXPECT_EQ(Ipv4Address::parse("10.1.2.3"), Ipv4Address::from_octets(10, 1, 2, 3));
  EXPECT_EQ(Ipv4Address::parse("10.1.2.3")->to_string(), "10.1.2.3");
  for (const char* bad : {"", "10.1.2", "10.1.2.3.4", "256.1.1.1", "a.b.c.d", "10.1.2.3 ", "1..2.3"}) {
    EXPECT_FALSE(Ipv4Address::parse(bad)) << bad;
  }
  EXPECT_EQ(kPeerMac.to_string(), "02:00:00:00:00:02");
  EXPECT_TRUE(MacAddress::broadcast().is_broadcast());
}

// RFC 1071 §3 example: the words 0001 f203 f4f5 f6f7 sum to ddf2 (folded),
// so the checksum is ~ddf2 = 220d.
TEST(Checksum, Rfc1071Example) {
  const Bytes data{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(checksum_finish(checksum_partial(data)), 0x220d);
  // Odd length pads with a zero byte.
  const Bytes odd{0x00, 0x01, 0xf2};
  EXPECT_EQ(checksum_finish(checksum_partial(odd)), static_cast<std::uint16_t>(~(0x0001 + 0xf200) & 0xffff));
}

// The word-at-a-time sum agrees with RFC 1071's 16-bit definition for every
// length, content and carried-in partial sum (an even-length split, as the
// stack does for pseudo-header + segment).
TEST(Checksum, WideSumMatchesSixteenBitDefinition) {
  auto reference = [](const Bytes& d, std::uint32_t sum) {
    std::uint64_t acc = sum;
    for (std::size_t i = 0; i < d.size(); i += 2)
      acc += (std::uint32_t{d[i]} << 8) | (i + 1 < d.size() ? d[i + 1] : 0);
    while (acc >> 16)
      acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<std::uint16_t>(~acc & 0xffff);
  };
  std::uint32_t x = 12345;
  for (std::size_t len = 0; len < 300; ++len) {
    for (int round = 0; round < 4; ++round) {
      Bytes d(len);
      for (auto& b : d) {
        x = x * 1103515245u + 12345u;
        b = static_cast<std::uint8_t>(round == 3 ? 0xff : x >> 16);
      }
      const std::uint32_t carried = round == 0 ? 0 : (x & 0x3ffff);
      ASSERT_EQ(checksum_finish(checksum_partial(d, carried)), reference(d, carried)) << len << " " << round;
    }
  }
}

// A real IPv4 header (from a capture) with checksum 0xb861.
TEST(Checksum, KnownIpv4Header) {
  Bytes h{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
          0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(ipv4_header_checksum(h), 0xb861);
  h[10] = 0xb8;
  h[11] = 0x61;
  EXPECT_EQ(ipv4_header_checksum(h), 0);
}

TEST(Checksum, TcpVerifiesToZeroAndDetectsBitFlips) {
  Bytes seg(20 + 7, 0);
  auto* t = reinterpret_cast<wire::TcpHeader*>(seg.data());
  t->src_port.set(1234);
  t->dst_port.set(80);
  t->seq.set(0x01020304);
  t->data_offset = 5 << 4;
  t->flags = wire::kTcpAck | wire::kTcpPsh;
  std::memcpy(seg.data() + 20, "payload", 7);
  t->checksum.set(tcp_checksum(kSelfIp, kPeerIp, seg));
  EXPECT_EQ(tcp_checksum(kSelfIp, kPeerIp, seg), 0);
  for (std::size_t byte = 0; byte < seg.size(); ++byte) {
    seg[byte] ^= 0x10;
    EXPECT_NE(tcp_checksum(kSelfIp, kPeerIp, seg), 0) << "flip in byte " << byte;
    seg[byte] ^= 0x10;
  }
  EXPECT_NE(tcp_checksum(kSelfIp, Ipv4Address::from_octets(10, 0, 0, 3), seg), 0) << "pseudo header covered";
}

TEST(TcpSeq, WrapAroundComparesByDistance) {
  const TcpSeq near_top(0xfffffff0u);
  const TcpSeq wrapped = near_top + 0x20;
  EXPECT_EQ(wrapped.raw(), 0x10u);
  EXPECT_TRUE(near_top < wrapped);
  EXPECT_TRUE(wrapped > near_top);
  EXPECT_EQ(wrapped - near_top, 0x20);
  EXPECT_EQ(near_top - wrapped, -0x20);
  EXPECT_TRUE(seq_in_window(TcpSeq(2), near_top, wrapped));
  EXPECT_FALSE(seq_in_window(wrapped, near_top, wrapped));
  EXPECT_TRUE(seq_in_window(near_top, near_top, wrapped));
  EXPECT_EQ(seq_max(near_top, wrapped), wrapped);
  EXPECT_EQ(seq_min(near_top, wrapped), near_top);
  // Just under half the space is still "after".
  EXPECT_TRUE(TcpSeq(0) + 0x7fffffffu > TcpSeq(0));
}

TEST(TcpOptions, WriteThenParseRoundTrips) {
  TcpOptionsOut o;
  o.mss = 1460;
  o.window_scale = 7;
  o.sack_permitted = true;
  o.timestamps = true;
  o.ts_val = 0x11223344;
  o.ts_ecr = 0x55667788;
  Bytes buf(tcp_options_length(o));
  EXPECT_EQ(buf.size() % 4, 0u);
  EXPECT_LE(buf.size(), 40u);
  tcp_write_options(buf, o);
  const TcpOptions p = tcp_parse_options(buf);
  EXPECT_EQ(p.mss, 1460);
  EXPECT_EQ(p.window_scale, 7);
  EXPECT_TRUE(p.sack_permitted);
  EXPECT_TRUE(p.has_timestamps);
  EXPECT_EQ(p.ts_val, 0x11223344u);
  EXPECT_EQ(p.ts_ecr, 0x55667788u);
}

TEST(TcpOptions, SackBlocksAreWrittenWithinForty) {
  std::vector<SackBlock> blocks{
      {TcpSeq(1), TcpSeq(2)}, {TcpSeq(3), TcpSeq(4)}, {TcpSeq(5), TcpSeq(6)}, {TcpSeq(7), TcpSeq(8)}};
  TcpOptionsOut o;
  o.timestamps = true;
  o.sack = blocks;
  EXPECT_EQ(tcp_options_length(o), 12u + 4 + 24);  // only 3 blocks fit with timestamps
  Bytes buf(tcp_options_length(o));
  tcp_write_options(buf, o);
  EXPECT_EQ(buf[14], wire::kTcpOptSack);
  EXPECT_EQ(buf[15], 26);
}

TEST(SackScoreboard, MergesTrimsAndFindsHoles) {
  SackScoreboard sb;
  const TcpSeq una(0xfffffff0u);  // across the wrap
  const TcpSeq max = una + 10000;
  EXPECT_TRUE(sb.add({una + 3000, una + 4000}, una, max));
  EXPECT_TRUE(sb.add({una + 1000, una + 2000}, una, max));
  EXPECT_TRUE(sb.add({una + 1500, una + 3000}, una, max));  // bridges both: one range
  ASSERT_EQ(sb.size(), 1u);
  EXPECT_EQ(sb.sacked_bytes(), 3000u);
  EXPECT_EQ(sb.high(), una + 4000);
  EXPECT_FALSE(sb.add({una - 100, una}, una, max)) << "at or below SND.UNA (D-SACK): ignored";
  EXPECT_FALSE(sb.add({una + 9000, una + 11000}, una, max)) << "beyond SND.MAX: ignored";
  EXPECT_FALSE(sb.add({una + 500, una + 500}, una, max)) << "empty";
  EXPECT_TRUE(sb.add({una + 6000, una + 7000}, una, max));
  TcpSeq start, end;
  std::uint32_t len = 0;
  ASSERT_TRUE(sb.next_hole(una, start, len));
  EXPECT_EQ(start, una);
  EXPECT_EQ(len, 1000u);
  ASSERT_TRUE(sb.next_hole(una + 1200, start, len));
  EXPECT_EQ(start, una + 4000) << "skips the SACKed range";
  EXPECT_EQ(len, 2000u);
  EXPECT_FALSE(sb.next_hole(una + 7000, start, len)) << "nothing above the highest range is a hole";
  EXPECT_TRUE(sb.sacked(una + 3500, end));
  EXPECT_EQ(end, una + 4000);
  EXPECT_FALSE(sb.sacked(una + 4000, end));
  EXPECT_EQ(sb.hole_bytes(una, una + 7000), 3000u);
  sb.trim(una + 1500);
  EXPECT_EQ(sb.sacked_bytes(), 3500u);
  sb.trim(una + 5000);
  EXPECT_EQ(sb.size(), 1u);
  EXPECT_EQ(sb.sacked_bytes(), 1000u);
}

TEST(SackScoreboard, FullBoardForgetsTheHighestRange) {
  SackScoreboard sb;
  const TcpSeq una(1);
  const TcpSeq max = una + 1'000'000;
  for (std::uint32_t i = 0; i < SackScoreboard::kCapacity; ++i)
    EXPECT_TRUE(sb.add({una + 100 * (2 * i + 1), una + 100 * (2 * i + 2)}, una, max));
  EXPECT_EQ(sb.size(), SackScoreboard::kCapacity);
  const TcpSeq high = sb.high();
  EXPECT_FALSE(sb.add({high + 100, high + 200}, una, max)) << "a new highest range does not fit";
  EXPECT_TRUE(sb.add({una + 10, una + 20}, una, max)) << "a lower one pushes out the highest";
  EXPECT_EQ(sb.size(), SackScoreboard::kCapacity);
  EXPECT_LT(sb.high(), high);
}

TEST(TcpOptions, MalformedListsNeverOverread) {
  // Length 0, length past the end, truncated kinds: parsing stops safely.
  const std::vector<Bytes> cases{{2, 0, 5, 0xb4}, {2, 10, 5}, {8}, {3, 3}, {2, 4, 5}, {1, 1, 1, 3, 3, 30}};
  for (const auto& c : cases) {
    const TcpOptions p = tcp_parse_options(c);
    EXPECT_FALSE(p.has_timestamps);
  }
  // Window scale above 14 is clamped (RFC 7323 §2.3).
  EXPECT_EQ(tcp_parse_options(Bytes{3, 3, 20, 0}).window_scale, 14);
  // Wrong lengths for known kinds are ignored, the rest still parsed.
  const TcpOptions p = tcp_parse_options(Bytes{2, 3, 1, 2, 4, 0x05, 0xb4});
  EXPECT_EQ(p.mss, 0x05b4);
}

Bytes frame(MacAddress dst, std::uint16_t type, std::size_t payload = 46) {
  Bytes f(14 + payload, 0);
  ethernet_write(std::span<std::uint8_t, 14>(f.data(), 14), dst, kPeerMac, type);
  return f;
}

TEST(Ethernet, ClassifiesAndFilters) {
  EXPECT_EQ(ethernet_input(frame(kSelfMac, wire::kEtherTypeIpv4), kSelfMac).payload, EthPayload::kIpv4);
  EXPECT_EQ(ethernet_input(frame(MacAddress::broadcast(), wire::kEtherTypeArp), kSelfMac).payload,
            EthPayload::kArp);
  const EthInput other = ethernet_input(frame(kPeerMac, wire::kEtherTypeIpv4), kSelfMac);
  EXPECT_EQ(other.payload, EthPayload::kDrop);
  EXPECT_EQ(other.drop, DropReason::kEthNotForUs);
  EXPECT_EQ(ethernet_input(frame(kSelfMac, 0x86dd), kSelfMac).drop, DropReason::kEthUnknownType);
  const Bytes runt(13, 0);
  EXPECT_EQ(ethernet_input(runt, kSelfMac).drop, DropReason::kEthTooShort);
  EXPECT_EQ(ethernet_input(frame(kSelfMac, wire::kEtherTypeIpv4), kSelfMac).src, kPeerMac);
}

TEST(Arp, RepliesToRequestsForUsAndLearnsTheSender) {
  ArpCache cache(60'000'000);
  std::array<std::uint8_t, 28> req{}, reply{};
  arp_write(req, wire::kArpRequest, kPeerMac, kPeerIp, MacAddress{}, kSelfIp);
  const ArpResult r = arp_input(req, kSelfIp, kSelfMac, cache, 1000, reply);
  EXPECT_EQ(r.action, ArpResult::Action::kReplied);
  EXPECT_TRUE(r.learned);
  const auto* a = reinterpret_cast<const wire::ArpPacket*>(reply.data());
  EXPECT_EQ(a->opcode.host(), wire::kArpReply);
  EXPECT_EQ(a->sender_ip.host(), kSelfIp.value);
  EXPECT_EQ(a->target_ip.host(), kPeerIp.value);
  EXPECT_EQ(std::memcmp(a->sender_mac, kSelfMac.bytes.data(), 6), 0);
  EXPECT_EQ(std::memcmp(a->target_mac, kPeerMac.bytes.data(), 6), 0);
  EXPECT_EQ(cache.lookup(kPeerIp, 2000).mac, kPeerMac);
}

TEST(Arp, IgnoresRequestsForOthersAndMalformedPackets) {
  ArpCache cache(60'000'000);
  std::array<std::uint8_t, 28> req{}, reply{};
  arp_write(req, wire::kArpRequest, kPeerMac, kPeerIp, MacAddress{}, Ipv4Address::from_octets(10, 0, 0, 9));
  const ArpResult r = arp_input(req, kSelfIp, kSelfMac, cache, 0, reply);
  EXPECT_EQ(r.action, ArpResult::Action::kDrop);
  EXPECT_EQ(r.drop, DropReason::kArpNotForUs);
  EXPECT_FALSE(cache.contains(kPeerIp)) << "RFC 826: only the target adds a new entry";
  req[4] = 8;  // hardware length
  EXPECT_EQ(arp_input(req, kSelfIp, kSelfMac, cache, 0, reply).action, ArpResult::Action::kDrop);
  EXPECT_EQ(
      arp_input(std::span<const std::uint8_t>(req.data(), 20), kSelfIp, kSelfMac, cache, 0, reply).action,
      ArpResult::Action::kDrop);
}

TEST(Arp, GratuitousAnnouncementIsLearned) {
  ArpCache cache(60'000'000);
  std::array<std::uint8_t, 28> g{}, reply{};
  arp_write(g, wire::kArpRequest, kPeerMac, kPeerIp, MacAddress{}, kPeerIp);
  const ArpResult r = arp_input(g, kSelfIp, kSelfMac, cache, 0, reply);
  EXPECT_NE(r.action, ArpResult::Action::kReplied);
  EXPECT_EQ(cache.lookup(kPeerIp, 1).mac, kPeerMac);
}

TEST(Arp, CacheExpiresAndRateLimitsRequests) {
  ArpCache cache(1'000'000);
  auto l = cache.lookup(kPeerIp, 0);
  EXPECT_FALSE(l.mac);
  EXPECT_TRUE(l.needs_request);
  cache.note_request(kPeerIp, 10);
  EXPECT_FALSE(cache.lookup(kPeerIp, 500'000).needs_request) << "one request per second";
  EXPECT_TRUE(cache.lookup(kPeerIp, 1'100'000).needs_request);
  cache.update(kPeerIp, kPeerMac, 2'000'000);
  l = cache.lookup(kPeerIp, 2'500'000);
  EXPECT_EQ(l.mac, kPeerMac);
  EXPECT_FALSE(l.needs_request);
  l = cache.lookup(kPeerIp, 3'100'000);
  EXPECT_EQ(l.mac, kPeerMac) << "a stale entry is still used while it is refreshed";
  EXPECT_TRUE(l.needs_request);
  cache.expire(5'000'000);
  EXPECT_FALSE(cache.contains(kPeerIp));
}

Bytes ipv4_packet(std::size_t payload = 8) {
  Bytes p(20 + payload, 0);
  ipv4_write(std::span<std::uint8_t, 20>(p.data(), 20), kPeerIp, kSelfIp, wire::kIpProtoTcp,
             static_cast<std::uint16_t>(p.size()), 7, 64, true);
  return p;
}

void fix_checksum(Bytes& p) {
  p[10] = p[11] = 0;
  const unsigned hl = (p[0] & 0xf) * 4u;
  const std::uint16_t c = ipv4_header_checksum(std::span<const std::uint8_t>(p.data(), hl));
  p[10] = static_cast<std::uint8_t>(c >> 8);
  p[11] = static_cast<std::uint8_t>(c);
}

TEST(Ipv4, AcceptsAWellFormedPacket) {
  const Bytes p = ipv4_packet();
  const Ipv4Input r = ipv4_input(p, kSelfIp, false);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.protocol, wire::kIpProtoTcp);
  EXPECT_EQ(r.header_length, 20);
  EXPECT_EQ(r.total_length, 28);
  EXPECT_EQ(r.src, kPeerIp);
}

TEST(Ipv4, RejectsBadPacketsWithTheReason) {
  struct Case {
    const char* name;
    void (*mutate)(Bytes&);
    DropReason want;
    bool refix;
  };
  const Case cases[] = {
      {"version 6", [](Bytes& p) { p[0] = 0x65; }, DropReason::kIpBadVersion, true},
      {"ihl 4", [](Bytes& p) { p[0] = 0x44; }, DropReason::kIpBadHeaderLength, false},
      {"ihl past end", [](Bytes& p) { p[0] = 0x4f; }, DropReason::kIpBadHeaderLength, false},
      {"total < ihl", [](Bytes& p) { p[2] = 0, p[3] = 10; }, DropReason::kIpBadTotalLength, true},
      {"total > frame", [](Bytes& p) { p[2] = 0, p[3] = 200; }, DropReason::kIpBadTotalLength, true},
      {"checksum", [](Bytes& p) { p[11] ^= 1; }, DropReason::kIpBadChecksum, false},
      {"not for us", [](Bytes& p) { p[19] = 9; }, DropReason::kIpNotForUs, true},
      {"more fragments", [](Bytes& p) { p[6] = 0x20; }, DropReason::kIpFragment, true},
      {"fragment offset", [](Bytes& p) { p[6] = 0, p[7] = 8; }, DropReason::kIpFragment, true},
  };
  for (const Case& c : cases) {
    Bytes p = ipv4_packet();
    c.mutate(p);
    if (c.refix) fix_checksum(p);
    const Ipv4Input r = ipv4_input(p, kSelfIp, false);
    EXPECT_FALSE(r.ok) << c.name;
    EXPECT_EQ(r.drop, c.want) << c.name;
  }
  const Bytes runt(19, 0x45);
  EXPECT_EQ(ipv4_input(runt, kSelfIp, false).drop, DropReason::kIpTooShort);
}

TEST(Ipv4, OptionsAreSkippedAndPaddingIsNotPayload) {
  Bytes p(24 + 8 + 6, 0);  // 4 bytes of options, 8 payload, 6 Ethernet padding
  ipv4_write(std::span<std::uint8_t, 20>(p.data(), 20), kPeerIp, kSelfIp, wire::kIpProtoTcp, 32, 1, 64,
             false);
  p[0] = 0x46;
  p[20] = 0x01;  // NOP option
  p[21] = 0x01;
  p[22] = 0x01;
  p[23] = 0x00;
  fix_checksum(p);
  const Ipv4Input r = ipv4_input(p, kSelfIp, false);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.header_length, 24);
  EXPECT_EQ(r.total_length, 32);
}

TEST(Ipv4, OffloadedChecksumIsNotRecomputed) {
  Bytes p = ipv4_packet();
  p[11] ^= 1;
  EXPECT_TRUE(ipv4_input(p, kSelfIp, true).ok);
}

TEST(Icmp, EchoRequestBecomesReplyWithTheSameData) {
  Bytes m(8 + 5, 0);
  m[0] = wire::kIcmpEchoRequest;
  m[4] = 0x12;
  m[6] = 0x00;
  m[7] = 0x01;
  std::memcpy(m.data() + 8, "hello", 5);
  const std::uint16_t c = checksum_finish(checksum_partial(m));
  m[2] = static_cast<std::uint8_t>(c >> 8);
  m[3] = static_cast<std::uint8_t>(c);
  const IcmpResult r = icmp_echo_input(m);
  ASSERT_TRUE(r.reply);
  EXPECT_EQ(m[0], wire::kIcmpEchoReply);
  EXPECT_EQ(checksum_finish(checksum_partial(m)), 0);
  EXPECT_EQ(std::memcmp(m.data() + 8, "hello", 5), 0);
  EXPECT_EQ(m[4], 0x12);
}

TEST(Icmp, RejectsBadChecksumsShortMessagesAndOtherTypes) {
  Bytes m(8, 0);
  m[0] = wire::kIcmpEchoRequest;
  EXPECT_EQ(icmp_echo_input(m).drop, DropReason::kIcmpBadChecksum);
  Bytes reply(8, 0);
  reply[0] = wire::kIcmpEchoReply;
  const std::uint16_t c = checksum_finish(checksum_partial(reply));
  reply[2] = static_cast<std::uint8_t>(c >> 8);
  reply[3] = static_cast<std::uint8_t>(c);
  EXPECT_EQ(icmp_echo_input(reply).drop, DropReason::kIcmpNotEcho);
  Bytes shorty(7, 0);
  EXPECT_EQ(icmp_echo_input(shorty).drop, DropReason::kIcmpMalformed);
}

TEST(TimerWheel, FiresInDeadlineWindowsIncludingFarAndPast) {
  TimerWheel w(1000, 64, 8, 0);
  w.schedule(1, 5'000);
  w.schedule(2, 5'500);
  w.schedule(3, 200'000);  // beyond one rotation (64 ms)
  w.schedule(4, 0);        // already due
  std::vector<TimerWheel::Entry> due;
  w.advance(1'000, due);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].id, 4u);
  due.clear();
  w.advance(5'200, due);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].id, 1u);
  due.clear();
  w.advance(5'600, due);  // same tick, later deadline
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].id, 2u);
  due.clear();
  EXPECT_EQ(w.earliest(), 200'000u);
  w.advance(150'000, due);
  EXPECT_TRUE(due.empty());
  w.advance(10'000'000, due);  // a jump of many rotations
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].id, 3u);
  EXPECT_EQ(w.size(), 0u);
  EXPECT_EQ(w.earliest(), kNever);
}

TEST(TimerWheel, SchedulingAgainMovesTheEntryAndCancelRemovesIt) {
  TimerWheel w(1000, 64, 8, 0);
  w.schedule(1, 50'000);
  w.schedule(1, 3'000);  // earlier: replaces, one entry per id
  w.schedule(2, 4'000);
  w.schedule(3, 4'500);
  EXPECT_EQ(w.size(), 3u);
  w.cancel(3);
  w.cancel(3);  // cancelling twice is harmless
  EXPECT_EQ(w.size(), 2u);
  std::vector<TimerWheel::Entry> due;
  w.advance(10'000, due);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].id, 1u);
  EXPECT_EQ(due[0].deadline, 3'000u);
  EXPECT_EQ(due[1].id, 2u);
  due.clear();
  w.advance(100'000, due);
  EXPECT_TRUE(due.empty()) << "the replaced 50 ms entry is gone";
  EXPECT_EQ(w.size(), 0u);
  // An id on the due list that is scheduled again before it is popped leaves it.
  w.schedule(4, 101'000);
  w.schedule(5, 101'000);
  w.advance(102'000);
  w.schedule(5, 200'000);
  TimerWheel::Entry e{};
  ASSERT_TRUE(w.pop_due(e));
  EXPECT_EQ(e.id, 4u);
  EXPECT_FALSE(w.pop_due(e));
  EXPECT_EQ(w.earliest(), 200'000u);
  w.schedule(100, 1);  // beyond the ids: ignored
  EXPECT_EQ(w.size(), 1u);
}

TEST(FixedHashMap, MatchesAReferenceMapUnderChurnWithoutTombstones) {
  // Keys drawn from a small range so inserts, hits, misses and erases mix,
  // and clusters form and are shifted back on erase.
  FixedHashMap<std::uint32_t> map(64, 1234);
  std::unordered_map<std::uint64_t, std::uint32_t> ref;
  std::mt19937_64 rng(5);
  for (int step = 0; step < 200'000; ++step) {
    const std::uint64_t key = rng() % 200;
    const auto op = rng() % 3;
    if (op == 0) {
      bool inserted = false;
      std::uint32_t* v = map.try_emplace(key, inserted);
      if (ref.count(key) != 0) {
        ASSERT_NE(v, nullptr);
        EXPECT_FALSE(inserted);
        EXPECT_EQ(*v, ref[key]);
      } else if (ref.size() >= 64) {
        EXPECT_EQ(v, nullptr) << "full";
      } else {
        ASSERT_NE(v, nullptr);
        EXPECT_TRUE(inserted);
        EXPECT_EQ(*v, 0u) << "value-initialised";
        *v = static_cast<std::uint32_t>(step);
        ref[key] = static_cast<std::uint32_t>(step);
      }
    } else if (op == 1) {
      EXPECT_EQ(map.erase(key), ref.erase(key) == 1);
    } else {
      const std::uint32_t* v = map.find(key);
      ASSERT_EQ(v != nullptr, ref.count(key) == 1) << "key " << key << " step " << step;
      if (v != nullptr) {
        EXPECT_EQ(*v, ref[key]);
      }
    }
    ASSERT_EQ(map.size(), ref.size());
  }
  // erase_if removes exactly the matching entries.
  map.erase_if([](std::uint64_t k, const std::uint32_t&) { return k % 2 == 0; });
  std::size_t odd = 0;
  for (const auto& [k, v] : ref) {
    EXPECT_EQ(map.contains(k), k % 2 == 1);
    odd += k % 2;
  }
  EXPECT_EQ(map.size(), odd);
  std::size_t seen = 0;
  map.for_each([&](std::uint64_t k, const std::uint32_t& v) {
    ++seen;
    EXPECT_EQ(ref.at(k), v);
  });
  EXPECT_EQ(seen, odd);
}

TEST(Arp, CacheIsBoundedAndReplacesTheLongestIdleEntry) {
  ArpCache cache(60'000'000, 4);
  for (std::uint8_t i = 1; i <= 4; ++i)
    cache.update(Ipv4Address::from_octets(10, 0, 0, i), kPeerMac, 1000 * i);
  EXPECT_EQ(cache.size(), 4u);
  cache.update(Ipv4Address::from_octets(10, 0, 0, 1), kPeerMac, 9000);  // .2 is now the longest idle
  cache.update(Ipv4Address::from_octets(10, 0, 0, 5), kPeerMac, 10'000);
  EXPECT_EQ(cache.size(), 4u);
  EXPECT_FALSE(cache.contains(Ipv4Address::from_octets(10, 0, 0, 2)));
  for (std::uint8_t i : {1, 3, 4, 5})
    EXPECT_TRUE(cache.contains(Ipv4Address::from_octets(10, 0, 0, i)));
}

TEST(SendBuffer, WrapsAroundAndCopiesOutAtOffsets) {
  std::array<std::uint8_t, 8> storage{};
  SendBuffer b(8, storage.data());
  const Bytes in{1, 2, 3, 4, 5, 6};
  EXPECT_EQ(b.push(in), 6u);
  b.pop(4);
  const Bytes more{7, 8, 9, 10, 11, 12, 13};
  EXPECT_EQ(b.push(more), 6u) << "capacity 8, 2 held";
  EXPECT_EQ(b.size(), 8u);
  Bytes out(5);
  b.copy_out(1, 5, out.data());
  EXPECT_EQ(out, (Bytes{6, 7, 8, 9, 10}));
  b.pop(100);
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.detach(), storage.data());
  EXPECT_EQ(b.push(in), 0u) << "no storage, no bytes";
}

TEST(SendBuffer, PoolRecyclesBlocksAndAllocatesOnlyPastItsHighWaterMark) {
  SendBufferPool pool(4096, 2);
  std::uint8_t* a = pool.take();
  std::uint8_t* b = pool.take();
  EXPECT_EQ(pool.allocated(), 0u) << "both reserved";
  std::uint8_t* c = pool.take();
  EXPECT_EQ(pool.allocated(), 1u);
  pool.give(b);
  EXPECT_EQ(pool.take(), b) << "a returned block is reused first";
  EXPECT_EQ(pool.allocated(), 1u);
  std::memset(a, 1, 4096);
  pool.give(a);
  pool.give(b);
  pool.give(c);
}

// Microsoft RSS verification suite: the default key and IPv4/TCP inputs.
const std::uint8_t kMsKey[40] = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
                                 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
                                 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
                                 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

TEST(Rss, ToeplitzMatchesTheMicrosoftVerificationSuite) {
  struct Case {
    Ipv4Address src, dst;
    std::uint16_t sport, dport;
    std::uint32_t hash;
  };
  const Case cases[] = {
      {Ipv4Address::from_octets(66, 9, 149, 187), Ipv4Address::from_octets(161, 142, 100, 80), 2794, 1766,
       0x51ccc178},
      {Ipv4Address::from_octets(199, 92, 111, 2), Ipv4Address::from_octets(65, 69, 140, 83), 14230, 4739,
       0xc626b0ea},
      {Ipv4Address::from_octets(24, 19, 198, 95), Ipv4Address::from_octets(12, 22, 207, 184), 12898, 38024,
       0x5c2b394a},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(rss_hash_ipv4_tcp(kMsKey, c.src, c.dst, c.sport, c.dport), c.hash);
  }
}

TEST(Rss, QueueForUsesTheRedirectionTable) {
  RssConfig rss;
  rss.key.assign(std::begin(kMsKey), std::end(kMsKey));
  rss.reta = {0, 1, 0, 1, 0, 1, 0, 1};
  const Ipv4Address remote = Ipv4Address::from_octets(10, 0, 0, 2),
                    local = Ipv4Address::from_octets(10, 0, 0, 1);
  int on_queue_1 = 0;
  for (std::uint16_t p = 40000; p < 40100; ++p) {
    const std::uint16_t q = rss.queue_for(remote, 25, local, p);
    EXPECT_EQ(q, rss.reta[rss_hash_ipv4_tcp(rss.key, remote, local, 25, p) % 8]);
    on_queue_1 += q;
  }
  EXPECT_GT(on_queue_1, 20) << "ports spread over both queues";
  EXPECT_LT(on_queue_1, 80);
}

}  // namespace
}  // namespace mxdp::dataplane
