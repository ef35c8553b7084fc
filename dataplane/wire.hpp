#pragma once
// Wire formats: passive structs in network byte order (Be16/Be32), no state and
// no behaviour beyond field accessors. Each struct's size is checked against the
// RFC; all have alignment 1, so they may be overlaid on any frame offset.

#include <cstddef>
#include <cstdint>

#include "dataplane/byte_order.hpp"

namespace mxdp::dataplane::wire {

// IEEE 802.3 Ethernet II header.
struct EthernetHeader {
  std::uint8_t dst[6];
  std::uint8_t src[6];
  Be16 ether_type;
};
static_assert(sizeof(EthernetHeader) == 14 && alignof(EthernetHeader) == 1);

inline constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr std::uint16_t kEtherTypeArp = 0x0806;

// RFC 826 ARP for IPv4 over Ethernet.
struct ArpPacket {
  Be16 hardware_type;         // 1 = Ethernet
  Be16 protocol_type;         // 0x0800
  std::uint8_t hardware_len;  // 6
  std::uint8_t protocol_len;  // 4
  Be16 opcode;                // 1 request, 2 reply
  std::uint8_t sender_mac[6];
  Be32 sender_ip;
  std::uint8_t target_mac[6];
  Be32 target_ip;
};
static_assert(sizeof(ArpPacket) == 28 && alignof(ArpPacket) == 1);

inline constexpr std::uint16_t kArpRequest = 1;
inline constexpr std::uint16_t kArpReply = 2;

// RFC 791 §3.1 IPv4 header (without options).
struct Ipv4Header {
  std::uint8_t version_ihl;  // version (4 bits) | header length in 32-bit words
  std::uint8_t tos;
  Be16 total_length;
  Be16 identification;
  Be16 flags_fragment;  // reserved | DF | MF | fragment offset (13 bits)
  std::uint8_t ttl;
  std::uint8_t protocol;
  Be16 checksum;
  Be32 src;
  Be32 dst;

  constexpr unsigned version() const noexcept { return version_ihl >> 4; }
  constexpr unsigned header_length() const noexcept { return (version_ihl & 0xfu) * 4u; }
};
static_assert(sizeof(Ipv4Header) == 20 && alignof(Ipv4Header) == 1);

inline constexpr std::uint8_t kIpProtoIcmp = 1;
inline constexpr std::uint8_t kIpProtoTcp = 6;
inline constexpr std::uint16_t kIpFlagMoreFragments = 0x2000;
inline constexpr std::uint16_t kIpFlagDontFragment = 0x4000;
inline constexpr std::uint16_t kIpFragmentOffsetMask = 0x1fff;

// RFC 792 ICMP echo / echo reply.
struct IcmpEcho {
  std::uint8_t type;
  std::uint8_t code;
  Be16 checksum;
  Be16 identifier;
  Be16 sequence;
};
static_assert(sizeof(IcmpEcho) == 8 && alignof(IcmpEcho) == 1);

inline constexpr std::uint8_t kIcmpEchoReply = 0;
inline constexpr std::uint8_t kIcmpEchoRequest = 8;

// RFC 9293 §3.1 TCP header (without options).
struct TcpHeader {
  Be16 src_port;
  Be16 dst_port;
  Be32 seq;
  Be32 ack;
  std::uint8_t data_offset;  // header length in 32-bit words (high nibble)
  std::uint8_t flags;
  Be16 window;
  Be16 checksum;
  Be16 urgent;

  constexpr unsigned header_length() const noexcept { return (data_offset >> 4) * 4u; }
};
static_assert(sizeof(TcpHeader) == 20 && alignof(TcpHeader) == 1);

inline constexpr std::uint8_t kTcpFin = 0x01;
inline constexpr std::uint8_t kTcpSyn = 0x02;
inline constexpr std::uint8_t kTcpRst = 0x04;
inline constexpr std::uint8_t kTcpPsh = 0x08;
inline constexpr std::uint8_t kTcpAck = 0x10;
inline constexpr std::uint8_t kTcpUrg = 0x20;

// TCP option kinds (RFC 9293 §3.2, RFC 7323, RFC 2018).
inline constexpr std::uint8_t kTcpOptEnd = 0;
inline constexpr std::uint8_t kTcpOptNop = 1;
inline constexpr std::uint8_t kTcpOptMss = 2;
inline constexpr std::uint8_t kTcpOptWindowScale = 3;
inline constexpr std::uint8_t kTcpOptSackPermitted = 4;
inline constexpr std::uint8_t kTcpOptSack = 5;
inline constexpr std::uint8_t kTcpOptTimestamps = 8;

// The pseudo header TCP's checksum covers (RFC 9293 §3.1).
struct Ipv4PseudoHeader {
  Be32 src;
  Be32 dst;
  std::uint8_t zero;
  std::uint8_t protocol;
  Be16 length;
};
static_assert(sizeof(Ipv4PseudoHeader) == 12);

}  // namespace mxdp::dataplane::wire
