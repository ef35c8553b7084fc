#pragma once
// Internal to the dataplane: the state behind Stack (stack.cpp: Ethernet, ARP,
// IPv4, ICMP, API; tcp.cpp: TCP). Not for the layers above. DPDK types appear
// only as forward-declared pointers.

#include <array>
#include <memory>
#include <vector>

#include "dataplane/arp.hpp"
#include "dataplane/fixed_hash_map.hpp"
#include "dataplane/ipv4.hpp"
#include "dataplane/sack_scoreboard.hpp"
#include "dataplane/send_buffer.hpp"
#include "dataplane/stack.hpp"
#include "dataplane/tcp_options.hpp"
#include "dataplane/tcp_seq.hpp"
#include "dataplane/timer_wheel.hpp"

struct rte_mempool;

namespace mxdp::dataplane {

// A parsed TCP segment; `m`'s data is the payload (headers stripped).
struct TcpSegment {
  TcpSeq seq;
  TcpSeq ack;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;  // raw field, not yet scaled
  std::uint32_t payload = 0;
  TcpOptions options;
  rte_mbuf* m = nullptr;
  // SEG.LEN of RFC 9293: payload plus one for SYN and one for FIN.
  std::uint32_t seq_length() const noexcept;
};

struct OooSegment {
  TcpSeq seq;
  std::uint16_t payload;  // one received frame's payload: below 64 KiB
  bool fin;
  rte_mbuf* m;  // payload mbuf (may hold 0 bytes when only the FIN is out of order)
};
static_assert(sizeof(OooSegment) == 16);

// The out-of-order segments of the connections that hold any, as sorted
// arrays of a fixed number of entries (StackConfig::reassembly_segments), lent
// to a connection while a gap is open in its receive sequence space and taken
// back when the gap closes. A fixed number of arrays
// (StackConfig::reassembly_connections) is allocated at construction; pages
// are touched when first lent.
class ReassemblyPool {
 public:
  static constexpr std::uint32_t kNone = UINT32_MAX;
  ReassemblyPool(std::uint32_t arrays, std::uint32_t segments);
  ~ReassemblyPool();
  ReassemblyPool(const ReassemblyPool&) = delete;
  ReassemblyPool& operator=(const ReassemblyPool&) = delete;
  // An array's index, or kNone when all are lent.
  std::uint32_t take() noexcept;
  void give(std::uint32_t array) noexcept;
  OooSegment* array(std::uint32_t a) const noexcept { return storage_ + std::size_t{a} * segments_; }
  std::uint32_t segments() const noexcept { return segments_; }

 private:
  std::uint32_t arrays_;
  std::uint32_t segments_;
  OooSegment* storage_;
  std::vector<std::uint32_t> free_;  // reserved for every array: never grows
};

// The transmission control block (RFC 9293 §3.3.1). TCBs live in a pool of
// StackConfig::max_connections slots allocated with the stack; a slot is
// reset for each connection it carries (Stack::Impl::tcb_create).
struct Tcb {
  // Slot bookkeeping, carried over when the slot is reused.
  std::uint32_t index = 0;
  std::uint32_t generation = 0;
  bool in_use = false;        // a connection occupies the slot
  bool event_queued = false;  // the slot's index is on Impl::event_list
  bool dirty_queued = false;  // the slot's index is on Impl::dirty_list

  TcpState state = TcpState::kClosed;
  Ipv4Address remote_ip;
  std::uint16_t remote_port = 0;
  std::uint16_t local_port = 0;
  std::uint64_t key = 0;
  bool in_flow_table = false;
  bool attached = false;  // the application holds a handle
  bool passive = false;   // created by a listener
  bool half_open_counted = false;
  bool shutdown_requested = false;

  // Send sequence space.
  TcpSeq iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2, recover;
  std::uint32_t snd_wnd = 0;
  std::uint32_t max_snd_wnd = 0;
  std::uint8_t snd_wscale = 0;
  std::uint8_t rcv_wscale = 0;
  std::uint32_t mss = 536;  // payload bytes per segment (options already subtracted)
  std::uint32_t cwnd = 0;
  std::uint32_t ssthresh = 0;
  std::uint32_t dupacks = 0;
  bool in_recovery = false;
  // RFC 6675 with a SACK-capable peer: the SACKed ranges and HighRxt (the
  // highest sequence retransmitted in this recovery).
  SackScoreboard scoreboard;
  TcpSeq high_rxt;
  bool syn_acked = false;
  bool fin_queued = false;
  bool fin_acked = false;
  SendBuffer sndbuf;
  bool want_writable = false;

  // RTT (RFC 6298), one timed segment at a time (Karn's rule).
  TimeUs srtt = 0, rttvar = 0, rto = 0;
  bool rtt_valid = false;
  bool rtt_timing = false;
  TcpSeq rtt_seq;
  TimeUs rtt_start = 0;
  std::uint32_t retransmits = 0;  // consecutive timeouts

  // Receive sequence space.
  TcpSeq irs, rcv_nxt, rcv_adv;
  // In-order bytes not yet taken by recv(): a FIFO of single-segment mbufs
  // linked through their `next` field (cleared again when one leaves).
  rte_mbuf* rxq_head = nullptr;
  rte_mbuf* rxq_tail = nullptr;
  std::size_t rxq_bytes = 0;
  std::uint32_t rxq_segments = 0;
  // Out-of-order segments, sorted by sequence number: ooo_count entries of the
  // ReassemblyPool array ooo_array (kNone while nothing is held).
  std::uint32_t ooo_array = ReassemblyPool::kNone;
  std::uint32_t ooo_count = 0;
  std::size_t ooo_bytes = 0;
  bool fin_received = false;

  bool ws_ok = false, ts_ok = false, sack_ok = false;
  std::uint32_t ts_recent = 0;

  bool ack_now = false;
  std::uint32_t unacked_segments = 0;

  TimeUs rto_deadline = kNever;
  TimeUs delack_deadline = kNever;
  TimeUs persist_deadline = kNever;
  TimeUs persist_backoff = 0;
  TimeUs tw_deadline = kNever;
  TimeUs ka_deadline = kNever;
  TimeUs last_received = 0;
  std::uint32_t ka_probes = 0;
  TimeUs scheduled = kNever;  // deadline of this TCB's timer wheel entry

  std::uint8_t pending_events = 0;  // bit per EventType
  bool dirty = false;               // output() due at the end of the RX burst

  bool synchronized() const noexcept {
    return state != TcpState::kClosed && state != TcpState::kSynSent && state != TcpState::kSynReceived;
  }
  TcpSeq data_end() const noexcept {
    return snd_una + static_cast<std::uint32_t>(sndbuf.size()) + (syn_acked ? 0 : 1);
  }
};

struct Stack::Impl {
  Impl(const StackConfig& config, PacketIo& io, PacketPool& pool, TimeUs now);
  ~Impl();

  struct Listener {
    std::uint16_t port = 0;
    std::uint32_t half_open = 0;  // SYN-RECEIVED connections (syn_backlog bound)
  };

  // stack.cpp: link and network layers.
  void input(rte_mbuf* m) noexcept;
  void ip_output(rte_mbuf* m, Ipv4Address dst, std::uint8_t protocol) noexcept;
  void eth_output(rte_mbuf* m, MacAddress dst, std::uint16_t ether_type) noexcept;
  void send_arp(std::uint16_t op, MacAddress dst_mac, MacAddress target_mac, Ipv4Address target_ip) noexcept;
  void tx(rte_mbuf* m) noexcept;
  void flush() noexcept;
  void drop(rte_mbuf* m, DropReason r) noexcept;
  void run_timers() noexcept;

  // tcp.cpp
  void tcp_input(rte_mbuf* m, const Ipv4Input& ip) noexcept;
  void tcp_after_burst() noexcept;
  void tcp_timer(Tcb& t) noexcept;
  bool keepalive(Tcb& t) noexcept;
  Tcb* tcb_create(Ipv4Address rip, std::uint16_t rport, std::uint16_t lport) noexcept;
  void tcb_destroy(Tcb& t) noexcept;
  void set_state(Tcb& t, TcpState s) noexcept;
  void enter_closed(Tcb& t, bool reset) noexcept;
  void enter_time_wait(Tcb& t) noexcept;
  void output(Tcb& t) noexcept;
  bool send_segment(Tcb& t, TcpSeq seq, std::uint32_t len, std::uint8_t flags) noexcept;
  bool append_payload(Tcb& t, rte_mbuf* m, std::uint32_t offset, std::uint32_t len) noexcept;
  std::uint32_t tso_segment_size(const Tcb& t, std::size_t tcp_header_length) const noexcept;
  std::uint32_t tso_payload_limit(const Tcb& t) const noexcept;
  void send_rst(Ipv4Address rip, std::uint16_t rport, std::uint16_t lport, TcpSeq seq, TcpSeq ack,
                std::uint8_t flags) noexcept;
  void send_challenge_ack(Tcb& t) noexcept;
  bool challenge_ack_allowed() noexcept;
  std::uint32_t syn_cookie(Ipv4Address rip, std::uint16_t rport, std::uint16_t lport, TcpSeq irs,
                           std::uint32_t t, std::uint32_t mss_index) const noexcept;
  void send_syn_cookie(Ipv4Address rip, std::uint16_t rport, std::uint16_t lport, TcpSeq irs,
                       std::optional<std::uint16_t> peer_mss) noexcept;
  Tcb* accept_syn_cookie(Ipv4Address rip, std::uint16_t rport, std::uint16_t lport,
                         const TcpSegment& s) noexcept;
  std::uint32_t receive_window(const Tcb& t) const noexcept;
  void process_ack(Tcb& t, const TcpSegment& s) noexcept;
  void process_data(Tcb& t, TcpSegment& s) noexcept;
  void process_fin(Tcb& t) noexcept;
  void drain_ooo(Tcb& t) noexcept;
  void free_receive_queues(Tcb& t) noexcept;
  void rxq_push(Tcb& t, rte_mbuf* m) noexcept;
  rte_mbuf* rxq_pop(Tcb& t) noexcept;
  std::span<OooSegment> ooo(const Tcb& t) const noexcept;
  void ooo_release(Tcb& t) noexcept;
  void sndbuf_release(Tcb& t) noexcept;
  Tcb* slot(std::uint32_t index) const noexcept {
    return index < tcbs_constructed && tcbs[index].in_use ? &tcbs[index] : nullptr;
  }
  Listener* find_listener(std::uint16_t port) noexcept;
  void retransmit_first(Tcb& t) noexcept;
  void sack_update(Tcb& t, const TcpSegment& s, bool& news) noexcept;
  void sack_enter_recovery(Tcb& t) noexcept;
  bool sack_send_next(Tcb& t, bool first) noexcept;
  std::uint32_t sack_pipe(const Tcb& t) const noexcept;
  void rtt_sample(Tcb& t, TimeUs rtt) noexcept;
  void arm_timer(Tcb& t) noexcept;
  void mark_dirty(Tcb& t) noexcept;
  void emit(Tcb& t, EventType e) noexcept;
  void window_update_after_read(Tcb& t) noexcept;
  TcpSeq make_isn(Ipv4Address rip, std::uint16_t rport, std::uint16_t lport) const noexcept;
  Tcb* find(ConnId c) const noexcept;
  std::uint32_t eff_mss(std::optional<std::uint16_t> peer_mss, bool ts) const noexcept;
  std::uint8_t our_wscale() const noexcept;
  static std::uint64_t flow_key(Ipv4Address rip, std::uint16_t rport, std::uint16_t lport) noexcept {
    return (std::uint64_t{rip.value} << 32) | (std::uint64_t{rport} << 16) | lport;
  }

  StackConfig cfg;
  PacketIo& io;
  PacketPool& pool;
  rte_mempool* mp;
  std::uint32_t mbuf_room;  // payload bytes one fresh mbuf takes after its headroom
  bool tso_on;              // cfg.tso with both TX checksum offloads
  TimeUs now;
  StackCounters ctr;
  std::uint32_t netmask;
  // Whether `t` may keep one more received segment (StackConfig::
  // receive_segments). The one at rcv_nxt does not count what is held out of
  // order: it may be the one that fills the gap and lets them go.
  bool may_hold_another(const Tcb& t, bool in_order) const noexcept {
    return t.rxq_segments + (in_order ? 0 : t.ooo_count) < receive_segments;
  }
  // StackConfig::receive_segments, raised with a large receive buffer so a
  // full window of 256-byte segments still fits.
  std::uint32_t receive_segments;

  ArpCache arp;
  // IPv4 packets waiting for their next hop's address, in arrival order.
  // `since` is when the hop's oldest waiting packet arrived (they all give up
  // together, RFC 1122 §2.3.2.2).
  struct ArpPending {
    std::uint32_t hop;
    TimeUs since;
    rte_mbuf* m;
  };
  static constexpr std::size_t kArpPendingPerHop = 32;
  // All hops together: spoofed sources (a SYN flood) must not pin the pool.
  static constexpr std::size_t kArpPendingTotal = 256;
  std::array<ArpPending, kArpPendingTotal> arp_pending{};
  std::size_t arp_pending_count = 0;
  TimeUs next_arp_expire = 0;

  static constexpr std::uint16_t kTxBurst = 32;
  std::array<rte_mbuf*, kTxBurst> txq{};
  std::uint16_t txn = 0;
  std::uint16_t ip_id = 0;

  // Everything below is sized from the configuration at construction: the
  // packet path and the API allocate nothing (tests/dataplane/no_alloc_test.cpp),
  // but for send buffers past their high-water mark (SendBufferPool).
  // The TCB pool: slots [0, tcbs_constructed) have been used at least once;
  // free_slots (LIFO, reserved for every slot) holds the unused ones among them.
  struct TcbStorage {
    void operator()(Tcb* p) const noexcept;
    std::size_t slots;
  };
  std::unique_ptr<Tcb[], TcbStorage> tcbs;
  std::uint32_t tcbs_constructed = 0;
  std::vector<std::uint32_t> free_slots;
  std::size_t live = 0;
  FixedHashMap<std::uint32_t> flows;      // flow_key -> slot index
  std::unique_ptr<Listener[]> listeners;  // cfg.max_listeners
  std::uint32_t listener_count = 0;
  std::uint16_t next_ephemeral;
  // RFC 5961 §7: the challenge ACKs still allowed in the second `challenge_second`.
  TimeUs challenge_second = kNever;
  std::uint32_t challenge_budget = 0;
  ReassemblyPool reassembly;
  SendBufferPool send_buffers;

  TimerWheel wheel;
  std::vector<std::uint32_t> event_list;  // slot indices with Tcb::event_queued (reserved for every slot)
  std::vector<std::uint32_t> dirty_list;  // slot indices with Tcb::dirty_queued (reserved for every slot)
};

}  // namespace mxdp::dataplane
