#pragma once
// Per-lcore stack counters. Plain integers: each Stack belongs to one lcore and
// nothing else writes them (share nothing, DESIGN.md); a reader on another
// thread takes a snapshot copy after the lcore stops, or accepts torn reads for
// a live display.

#include <array>
#include <cstdint>
#include <string_view>

namespace mxdp::dataplane {

enum class DropReason : std::uint8_t {
  kEthTooShort,
  kEthNotForUs,
  kEthUnknownType,
  kArpMalformed,
  kArpNotForUs,
  kArpPendingOverflow,
  kArpUnresolved,
  kIpTooShort,
  kIpBadVersion,
  kIpBadHeaderLength,
  kIpBadTotalLength,
  kIpBadChecksum,
  kIpFragment,
  kIpNotForUs,
  kIpUnknownProtocol,
  kIcmpMalformed,
  kIcmpBadChecksum,
  kIcmpNotEcho,
  kTcpTooShort,
  kTcpBadHeaderLength,
  kTcpBadChecksum,
  kTcpNoConnection,
  kTcpOutOfWindow,
  kTcpPawsReject,
  kTcpBadAck,
  kTcpBacklogFull,
  kTcpReassemblyFull,
  kTcpReceiveSegments,
  kTcpAfterClose,
  kMultiSegment,
  kNoMbuf,
  kTxFull,
  kCount
};

std::string_view drop_reason_name(DropReason r) noexcept;

struct StackCounters {
  std::uint64_t rx_packets = 0;
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_packets = 0;
  std::uint64_t tx_bytes = 0;
  std::array<std::uint64_t, static_cast<std::size_t>(DropReason::kCount)> drops{};

  std::uint64_t arp_requests_sent = 0;
  std::uint64_t arp_replies_sent = 0;
  std::uint64_t icmp_echo_replies = 0;

  std::uint64_t tcp_active_opens = 0;
  std::uint64_t tcp_passive_opens = 0;
  std::uint64_t tcp_established = 0;  // gauge: connections now in ESTABLISHED or later data states
  std::uint64_t tcp_retransmits = 0;  // segments sent again (timer or fast)
  std::uint64_t tcp_rto_expiries = 0;
  std::uint64_t tcp_fast_retransmits = 0;
  std::uint64_t tcp_rsts_sent = 0;
  std::uint64_t tcp_rsts_received = 0;
  std::uint64_t tcp_challenge_acks = 0;             // RFC 5961 §3.2, §4.2, §5.2
  std::uint64_t tcp_challenge_acks_suppressed = 0;  // not sent: past the §7 limit (challenge_ack_limit)
  std::uint64_t tcp_zero_window_probes = 0;
  std::uint64_t tcp_ooo_segments = 0;
  std::uint64_t tcp_timeouts = 0;
  std::uint64_t tcp_syn_cookies_sent = 0;
  std::uint64_t tcp_keepalive_probes = 0;
  std::uint64_t tcp_syn_cookies_accepted = 0;  // connections given up after too many retransmissions
  std::uint64_t tcp_retransmitted_bytes = 0;   // payload bytes sent again (timer, fast, SACK)
  std::uint64_t tcp_sack_blocks_received = 0;  // SACK blocks used by the sender's scoreboard
  std::uint64_t tcp_sack_recoveries = 0;       // loss recoveries driven by SACK (RFC 6675)
  std::uint64_t tcp_sack_skipped_bytes = 0;    // SACKed bytes a retransmission did not resend
  std::uint64_t tcp_tso_sends = 0;             // super-segments handed to the port to segment (TSO)
  std::uint64_t tcp_sack_blocks_trimmed = 0;   // SACK blocks left off a full data segment to fit the MTU

  std::uint64_t drop(DropReason r) const noexcept { return drops[static_cast<std::size_t>(r)]; }
  std::uint64_t total_drops() const noexcept {
    std::uint64_t n = 0;
    for (auto d : drops)
      n += d;
    return n;
  }
};

}  // namespace mxdp::dataplane
