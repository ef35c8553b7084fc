#pragma once
// One lcore's network stack on one port queue: Ethernet, ARP, IPv4, ICMP echo
// and TCP (server and client). Share nothing: a Stack is used by one thread
// only; several lcores run several Stacks over their own queues.
//
// Driving it: call poll(now) in the lcore loop (RX burst, input, timers, TX
// flush). Using it: listen()/connect(), then take_events() and per-connection
// send()/recv()/shutdown()/close(). No DPDK type appears here.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dataplane/addresses.hpp"
#include "dataplane/counters.hpp"
#include "dataplane/recv_chain.hpp"
#include "dataplane/rss.hpp"
#include "dataplane/time.hpp"

struct rte_mbuf;

namespace mxdp::dataplane {

class PacketIo;
class PacketPool;

struct StackConfig {
  MacAddress mac;
  Ipv4Address ip;
  std::uint8_t prefix_length = 24;
  std::optional<Ipv4Address> gateway;  // next hop for addresses off the subnet
  std::uint16_t mtu = 1500;

  // Checksums: true = the port computes/verifies them (PortCaps); false = software.
  bool tx_ipv4_checksum_offload = false;
  bool tx_tcp_checksum_offload = false;
  bool rx_checksum_offload = false;
  // TCP segmentation offload (PortCaps::tso; used only with both TX checksum
  // offloads): the stack hands the port up to tso_max_payload bytes at once,
  // bounded by cwnd and the send window, as one chain of mbufs, and the port
  // cuts it into segments of the connection's MSS (RTE_MBUF_F_TX_TCP_SEG).
  // Retransmissions after a loss go out as MSS-sized segments.
  bool tso = false;
  std::uint32_t tso_max_payload = 64 * 1024;  // also kept within the 16-bit IPv4 total length
  std::uint16_t tso_max_segments = 64;        // segments the port makes of one chain (net_tap: 64)
  std::uint16_t tso_max_mbufs = 64;           // mbufs in one chain (PortCaps::tso_max_mbufs)
  std::uint16_t tso_max_frame = 0;            // largest frame a segment may make; 0 = mtu + 14 (PortCaps)

  // The stack allocates its tables at construction from the sizes below and
  // nothing after (send buffers aside: see send_buffers_reserved).
  std::uint32_t send_buffer = 64 * 1024;     // bytes per connection
  std::uint32_t receive_buffer = 64 * 1024;  // bytes per connection (advertised window)
  // Send buffers allocated at construction. A connection holds one only while
  // it has unsent or unacknowledged bytes; more are allocated when more
  // connections do at the same moment than ever before, and recycled after.
  std::uint32_t send_buffers_reserved = 0;
  std::uint32_t max_connections = 65536;  // TCB slots, TIME-WAIT included
  std::uint32_t max_listeners = 64;
  std::uint32_t arp_cache_entries = 1024;  // neighbours; the longest idle makes room past it
  std::uint32_t syn_backlog = 1024;        // half-open connections per listener (SYN flood bound)
  bool syn_cookies = true;                 // past the backlog, answer SYNs statelessly (RFC 4987 §3.6)

  bool window_scaling = true;  // RFC 7323 §2
  bool timestamps = true;      // RFC 7323 §3 (RTTM, PAWS)
  bool sack = true;            // RFC 2018: SACK-permitted, SACK blocks sent for out-of-order data

  TimeUs rto_initial = 1'000'000;  // RFC 6298 §2.1
  TimeUs rto_min = 200'000;        // RFC 6298 §2.4 allows below 1 s; 200 ms as Linux
  TimeUs rto_max = 60'000'000;
  TimeUs delayed_ack = 40'000;         // RFC 1122 §4.2.3.2: < 500 ms
  TimeUs time_wait = 60'000'000;       // 2 MSL
  TimeUs persist_min = 200'000;        // zero-window probe interval start
  std::uint32_t max_retransmits = 15;  // then the connection is reset (kReset)
  std::uint32_t max_syn_retransmits = 6;
  // Keep-alive (RFC 1122 §4.2.3.6): off by default; after keepalive_idle of
  // silence send up to keepalive_probes probes keepalive_interval apart, then reset.
  TimeUs keepalive_idle = 0;
  TimeUs keepalive_interval = 75'000'000;
  std::uint32_t keepalive_probes = 9;
  // RFC 5961 §7: challenge ACKs (answering in-window RSTs, SYNs on a
  // synchronized connection, ACKs outside the window) per second for the whole
  // stack; each second's budget is drawn in [limit/2, limit]. 0 = unlimited.
  // 1000 as Linux's tcp_challenge_ack_limit before 6.0.
  std::uint32_t challenge_ack_limit = 1000;
  TimeUs arp_lifetime = 60'000'000;
  TimeUs timer_tick = 1'000;                // timer wheel resolution
  std::uint32_t reassembly_segments = 512;  // out-of-order segments kept per connection
  // Segments one connection may hold, received in order and not yet read
  // plus out of order; past it new ones are dropped (tcp_receive_segments)
  // and the peer sends them again. The window counts bytes, so without it a
  // peer sending 1-byte segments into a window the application does not read
  // (a client that does not read its replies) could hold one packet buffer
  // per byte: 65,536 of them for a 64 KiB window.
  std::uint32_t receive_segments = 256;
  // Connections holding out-of-order segments at once (a reassembly array of
  // reassembly_segments entries each); past it, out-of-order segments are
  // dropped (tcp_reassembly_full) and the peer retransmits them.
  std::uint32_t reassembly_connections = 1024;
  std::uint64_t isn_secret = 0x6d786470;  // RFC 6528 ISN hash key (seed it randomly in production)
  std::uint16_t ephemeral_first = 32768;
  std::uint16_t ephemeral_last = 60999;
  // With several lcores on an RSS port: connect() picks source ports whose
  // replies hash (Toeplitz, the port's key and RETA) to rss.queue.
  std::optional<RssConfig> rss;
};

// A connection handle. Valid from connect() or the kAccepted event until
// close(); generation guards against a reused slot.
struct ConnId {
  std::uint32_t index = UINT32_MAX;
  std::uint32_t generation = 0;
  friend bool operator==(const ConnId&, const ConnId&) = default;
  bool valid() const noexcept { return index != UINT32_MAX; }
};

enum class EventType : std::uint8_t {
  kAccepted,    // a passive open completed (listener port in `port`)
  kConnected,   // an active open completed
  kReadable,    // in-order bytes are waiting for recv()
  kWritable,    // send() accepts bytes again after it had refused some
  kPeerClosed,  // the peer sent FIN: after the buffered bytes, end of stream
  kClosed,      // both directions finished (after shutdown/close and peer FIN)
  kReset,       // reset by the peer, refused, or timed out; the handle still needs close()
};

struct Event {
  EventType type;
  ConnId conn;
  std::uint16_t port = 0;  // local port
};

enum class TcpState : std::uint8_t {
  kClosed,
  kSynSent,
  kSynReceived,
  kEstablished,
  kFinWait1,
  kFinWait2,
  kCloseWait,
  kClosing,
  kLastAck,
  kTimeWait,
};
const char* tcp_state_name(TcpState s) noexcept;

enum class Status : std::uint8_t {
  kOk,
  kBadHandle,
  kInUse,
  kNoPorts,
  kTooManyConnections,
  kNotConnected,
  kTooManyListeners,
};

struct ConnInfo {
  TcpState state;
  Ipv4Address remote_ip;
  std::uint16_t remote_port;
  std::uint16_t local_port;
  std::size_t readable_bytes;
  std::size_t send_queued;  // unacknowledged + unsent bytes
  bool peer_closed;
  std::uint32_t snd_una;  // raw sequence numbers, for tests and diagnostics
  std::uint32_t snd_nxt;
  std::uint32_t rcv_nxt;
  std::uint32_t snd_wnd;
};

class Stack {
 public:
  Stack(const StackConfig& config, PacketIo& io, PacketPool& pool, TimeUs now);
  ~Stack();  // returns every mbuf the stack holds to the pool
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // RX burst + input, timers up to `now`, TX flush. Returns the number of
  // packets received (0 = idle).
  unsigned poll(TimeUs now) noexcept;
  // Processes one received frame (owned by the stack from here). poll() calls
  // this for each packet of a burst; tests and the fuzzer call it directly.
  void input(rte_mbuf* frame) noexcept;
  // Sends queued TX packets now (poll() does this at its end).
  void flush() noexcept;
  // The earliest timer deadline (for simulations that jump idle time).
  TimeUs next_deadline() const noexcept;
  TimeUs now() const noexcept;

  // Gratuitous ARP (RFC 5227 §3 announcement) so peers learn our MAC at start.
  void announce() noexcept;

  Status listen(std::uint16_t port) noexcept;
  // Active open; the connection reports kConnected or kReset.
  Status connect(Ipv4Address ip, std::uint16_t port, ConnId& out) noexcept;
  // Copies up to data.size() bytes into the send buffer; returns how many.
  std::size_t send(ConnId c, std::span<const std::uint8_t> data) noexcept;
  // Takes in-order received bytes (up to RecvChain::kMaxSegments mbufs).
  RecvChain recv(ConnId c) noexcept;
  // The first in-order received segment, not taken (empty when none): a look
  // ahead at what recv() will return, valid until the next recv() or poll().
  std::span<const std::uint8_t> peek(ConnId c) const noexcept;
  // Half close: FIN after the queued bytes; receiving continues.
  Status shutdown(ConnId c) noexcept;
  // Full close: the handle becomes invalid; queued bytes are still sent, then
  // FIN; unread and later received bytes are discarded.
  Status close(ConnId c) noexcept;
  // Abortive close: RST, handle invalid.
  Status abort(ConnId c) noexcept;
  std::optional<ConnInfo> info(ConnId c) const noexcept;

  // Appends the events since the last call (coalesced per connection).
  void take_events(std::vector<Event>& out);

  const StackCounters& counters() const noexcept;
  // TCBs alive, including TIME_WAIT and closed-but-not-released handles.
  std::size_t connection_count() const noexcept;
  std::size_t arp_cache_size() const noexcept;
  const StackConfig& config() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mxdp::dataplane
