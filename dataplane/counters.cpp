#include "dataplane/counters.hpp"

namespace mxdp::dataplane {

std::string_view drop_reason_name(DropReason r) noexcept {
  switch (r) {
    case DropReason::kEthTooShort:
      return "eth_too_short";
    case DropReason::kEthNotForUs:
      return "eth_not_for_us";
    case DropReason::kEthUnknownType:
      return "eth_unknown_type";
    case DropReason::kArpMalformed:
      return "arp_malformed";
    case DropReason::kArpNotForUs:
      return "arp_not_for_us";
    case DropReason::kArpPendingOverflow:
      return "arp_pending_overflow";
    case DropReason::kArpUnresolved:
      return "arp_unresolved";
    case DropReason::kIpTooShort:
      return "ip_too_short";
    case DropReason::kIpBadVersion:
      return "ip_bad_version";
    case DropReason::kIpBadHeaderLength:
      return "ip_bad_header_length";
    case DropReason::kIpBadTotalLength:
      return "ip_bad_total_length";
    case DropReason::kIpBadChecksum:
      return "ip_bad_checksum";
    case DropReason::kIpFragment:
      return "ip_fragment";
    case DropReason::kIpNotForUs:
      return "ip_not_for_us";
    case DropReason::kIpUnknownProtocol:
      return "ip_unknown_protocol";
    case DropReason::kIcmpMalformed:
      return "icmp_malformed";
    case DropReason::kIcmpBadChecksum:
      return "icmp_bad_checksum";
    case DropReason::kIcmpNotEcho:
      return "icmp_not_echo";
    case DropReason::kTcpTooShort:
      return "tcp_too_short";
    case DropReason::kTcpBadHeaderLength:
      return "tcp_bad_header_length";
    case DropReason::kTcpBadChecksum:
      return "tcp_bad_checksum";
    case DropReason::kTcpNoConnection:
      return "tcp_no_connection";
    case DropReason::kTcpOutOfWindow:
      return "tcp_out_of_window";
    case DropReason::kTcpPawsReject:
      return "tcp_paws_reject";
    case DropReason::kTcpBadAck:
      return "tcp_bad_ack";
    case DropReason::kTcpBacklogFull:
      return "tcp_backlog_full";
    case DropReason::kTcpReassemblyFull:
      return "tcp_reassembly_full";
    case DropReason::kTcpReceiveSegments:
      return "tcp_receive_segments";
    case DropReason::kTcpAfterClose:
      return "tcp_after_close";
    case DropReason::kMultiSegment:
      return "multi_segment";
    case DropReason::kNoMbuf:
      return "no_mbuf";
    case DropReason::kTxFull:
      return "tx_full";
    case DropReason::kCount:
      break;
  }
  return "?";
}

}  // namespace mxdp::dataplane
