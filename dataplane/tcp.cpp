// TCP (RFC 9293) for one lcore: demultiplexing, the state machine in the
// segment-arrival order of RFC 9293 §3.10.7, output, timers (RFC 6298
// retransmission, delayed ACK, zero-window persist, TIME-WAIT), SACK-based
// loss recovery (RFC 2018, RFC 6675) with a SACK-capable peer and NewReno
// (RFC 6582) without, and the RFC 5961 defences. The application API is at the end.

#include <rte_mbuf.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "dataplane/checksum.hpp"
#include "dataplane/packet_pool.hpp"
#include "dataplane/stack_impl.hpp"
#include "dataplane/wire.hpp"

namespace mxdp::dataplane {

namespace {
constexpr std::uint32_t kInitialWindowSegments = 10;  // RFC 6928
constexpr std::uint8_t kEventBit(EventType e) {
  return static_cast<std::uint8_t>(1u << static_cast<unsigned>(e));
}
constexpr auto mix = mix64;
}  // namespace

std::uint32_t TcpSegment::seq_length() const noexcept {
  return payload + ((flags & wire::kTcpSyn) ? 1 : 0) + ((flags & wire::kTcpFin) ? 1 : 0);
}

// ---- helpers ----

TcpSeq Stack::Impl::make_isn(Ipv4Address rip, std::uint16_t rport, std::uint16_t lport) const noexcept {
  // RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
  // M a 4 microsecond timer.
  const std::uint64_t f = mix(cfg.isn_secret ^ mix((std::uint64_t{cfg.ip.value} << 32) | rip.value) ^
                              (std::uint64_t{lport} << 16 | rport));
  return TcpSeq(static_cast<std::uint32_t>(f) + static_cast<std::uint32_t>(now / 4));
}

std::uint32_t Stack::Impl::eff_mss(std::optional<std::uint16_t> peer_mss, bool ts) const noexcept {
  // RFC 9293 §3.7.1: without an MSS option assume 536; RFC 7323 §3.2: the
  // timestamp option takes 12 bytes of every segment.
  std::uint32_t m = std::min<std::uint32_t>(peer_mss.value_or(536), cfg.mtu - 40u);
  m = std::max<std::uint32_t>(m, 64);
  return ts ? m - 12 : m;
}

std::uint8_t Stack::Impl::our_wscale() const noexcept {
  std::uint8_t s = 0;
  while (s < 14 && (cfg.receive_buffer >> s) > 65535)
    ++s;
  return s;
}

Tcb* Stack::Impl::find(ConnId c) const noexcept {
  Tcb* t = slot(c.index);
  if (t == nullptr || t->generation != c.generation || !t->attached) return nullptr;
  return t;
}

Stack::Impl::Listener* Stack::Impl::find_listener(std::uint16_t port) noexcept {
  for (std::uint32_t i = 0; i < listener_count; ++i) {
    if (listeners[i].port == port) return &listeners[i];
  }
  return nullptr;
}

Tcb* Stack::Impl::tcb_create(Ipv4Address rip, std::uint16_t rport, std::uint16_t lport) noexcept {
  if (live >= cfg.max_connections) return nullptr;
  // The most recently freed slot first (its lines are likely still cached),
  // else one never used yet.
  std::uint32_t index;
  if (!free_slots.empty()) {
    index = free_slots.back();
    free_slots.pop_back();
  } else {
    index = tcbs_constructed++;
    ::new (&tcbs[index]) Tcb();
  }
  Tcb& t = tcbs[index];
  // A fresh TCB; the slot's bookkeeping carries over (Tcb is trivially
  // destructible, so constructing over the old one is all it takes).
  const std::uint32_t generation = t.generation + 1;
  const bool event_queued = t.event_queued;
  const bool dirty_queued = t.dirty_queued;
  ::new (&t) Tcb();
  t.index = index;
  t.generation = generation;
  t.event_queued = event_queued;
  t.dirty_queued = dirty_queued;
  t.in_use = true;
  t.remote_ip = rip;
  t.remote_port = rport;
  t.local_port = lport;
  t.key = flow_key(rip, rport, lport);
  t.sndbuf = SendBuffer(cfg.send_buffer);
  t.rto = cfg.rto_initial;
  t.ssthresh = 1u << 30;
  // Never full: it holds at most the live TCBs, fewer than max_connections here.
  bool inserted = false;
  *flows.try_emplace(t.key, inserted) = index;
  t.in_flow_table = true;
  ++live;
  return &t;
}

void Stack::Impl::rxq_push(Tcb& t, rte_mbuf* m) noexcept {
  m->next = nullptr;
  if (t.rxq_tail == nullptr) {
    t.rxq_head = m;
  } else {
    t.rxq_tail->next = m;
  }
  t.rxq_tail = m;
  ++t.rxq_segments;
}

rte_mbuf* Stack::Impl::rxq_pop(Tcb& t) noexcept {
  rte_mbuf* m = t.rxq_head;
  if (m == nullptr) return nullptr;
  t.rxq_head = m->next;
  if (t.rxq_head == nullptr) t.rxq_tail = nullptr;
  --t.rxq_segments;
  m->next = nullptr;  // a single-segment packet again, safe to free or lend
  return m;
}

std::span<OooSegment> Stack::Impl::ooo(const Tcb& t) const noexcept {
  if (t.ooo_array == ReassemblyPool::kNone) return {};
  return {reassembly.array(t.ooo_array), t.ooo_count};
}

void Stack::Impl::ooo_release(Tcb& t) noexcept {
  if (t.ooo_array != ReassemblyPool::kNone) reassembly.give(t.ooo_array);
  t.ooo_array = ReassemblyPool::kNone;
  t.ooo_count = 0;
  t.ooo_bytes = 0;
}

void Stack::Impl::sndbuf_release(Tcb& t) noexcept {
  if (std::uint8_t* b = t.sndbuf.detach()) send_buffers.give(b);
}

void Stack::Impl::free_receive_queues(Tcb& t) noexcept {
  while (rte_mbuf* m = rxq_pop(t))
    rte_pktmbuf_free(m);
  t.rxq_bytes = 0;
  for (const OooSegment& o : ooo(t))
    rte_pktmbuf_free(o.m);
  ooo_release(t);
}

void Stack::Impl::tcb_destroy(Tcb& t) noexcept {
  set_state(t, TcpState::kClosed);
  if (t.in_flow_table) flows.erase(t.key);
  t.in_flow_table = false;
  if (t.half_open_counted) {
    Listener* l = find_listener(t.local_port);
    if (l != nullptr && l->half_open > 0) --l->half_open;
  }
  free_receive_queues(t);
  sndbuf_release(t);
  wheel.cancel(t.index);
  // The slot keeps its memory; in_use false makes every handle and queued
  // index to it stale.
  t.in_use = false;
  t.attached = false;
  t.pending_events = 0;
  t.dirty = false;
  free_slots.push_back(t.index);
  --live;
}

void Stack::Impl::set_state(Tcb& t, TcpState s) noexcept {
  // tcp_established counts ESTABLISHED and CLOSE-WAIT (RFC 1213 tcpCurrEstab).
  auto counted = [](TcpState x) { return x == TcpState::kEstablished || x == TcpState::kCloseWait; };
  if (counted(t.state) && !counted(s)) --ctr.tcp_established;
  if (!counted(t.state) && counted(s)) ++ctr.tcp_established;
  if (t.state == TcpState::kSynReceived && s != TcpState::kSynReceived && t.half_open_counted) {
    Listener* l = find_listener(t.local_port);
    if (l != nullptr && l->half_open > 0) --l->half_open;
    t.half_open_counted = false;
  }
  t.state = s;
  // An orphaned FIN-WAIT-2 (application closed, peer never sends FIN) would
  // live forever; give it the TIME-WAIT period, like Linux's tcp_fin_timeout.
  if (s == TcpState::kFinWait2 && !t.attached) t.tw_deadline = now + cfg.time_wait;
  if (s == TcpState::kEstablished && cfg.keepalive_idle != 0) {
    t.last_received = now;
    t.ka_deadline = now + cfg.keepalive_idle;
  }
}

void Stack::Impl::emit(Tcb& t, EventType e) noexcept {
  if (!t.attached) return;
  if (!t.event_queued) {
    t.event_queued = true;
    event_list.push_back(t.index);
  }
  t.pending_events |= kEventBit(e);
}

void Stack::Impl::mark_dirty(Tcb& t) noexcept {
  if (!t.dirty) {
    t.dirty = true;
    if (!t.dirty_queued) {
      t.dirty_queued = true;
      dirty_list.push_back(t.index);
    }
  }
}

void Stack::Impl::tcp_after_burst() noexcept {
  // Output once per connection per burst: one ACK covers every segment of the
  // burst (a stretch ACK, as with receive offload on a NIC).
  for (std::size_t i = 0; i < dirty_list.size(); ++i) {
    Tcb& t = tcbs[dirty_list[i]];
    t.dirty_queued = false;
    if (!t.in_use || !t.dirty) continue;
    t.dirty = false;
    output(t);
  }
  dirty_list.clear();
}

void Stack::Impl::enter_closed(Tcb& t, bool reset) noexcept {
  set_state(t, TcpState::kClosed);
  if (t.in_flow_table) {
    flows.erase(t.key);
    t.in_flow_table = false;
  }
  t.rto_deadline = t.delack_deadline = t.persist_deadline = t.tw_deadline = t.ka_deadline = kNever;
  sndbuf_release(t);
  if (reset) {
    free_receive_queues(t);
    emit(t, EventType::kReset);
  } else {
    emit(t, EventType::kClosed);
  }
  // An attached TCB stays as a husk until close(); the unread bytes of an
  // orderly close remain readable.
  if (!t.attached) tcb_destroy(t);
}

void Stack::Impl::enter_time_wait(Tcb& t) noexcept {
  set_state(t, TcpState::kTimeWait);
  t.rto_deadline = t.persist_deadline = kNever;
  sndbuf_release(t);  // everything sent was acknowledged: the block serves another connection
  t.tw_deadline = now + cfg.time_wait;
  emit(t, EventType::kClosed);
  arm_timer(t);
}

void Stack::Impl::arm_timer(Tcb& t) noexcept {
  const TimeUs d =
      std::min({t.rto_deadline, t.delack_deadline, t.persist_deadline, t.tw_deadline, t.ka_deadline});
  if (d < t.scheduled) {
    t.scheduled = d;
    wheel.schedule(t.index, d);
  }
}

std::uint32_t Stack::Impl::receive_window(const Tcb& t) const noexcept {
  const std::size_t used = t.rxq_bytes + t.ooo_bytes;
  const std::uint32_t free_space =
      used >= cfg.receive_buffer ? 0 : static_cast<std::uint32_t>(cfg.receive_buffer - used);
  const std::uint32_t max_wnd = t.ws_ok ? (65535u << t.rcv_wscale) : 65535u;
  const std::uint32_t wnd = std::min(free_space, max_wnd);
  // Never shrink the window (RFC 9293 §3.8.6.2.2, RFC 1122 §4.2.2.16), and
  // avoid silly window advertisements: move the right edge only by at least
  // min(buffer/2, MSS) (RFC 1122 §4.2.3.3).
  const std::int32_t advertised = t.rcv_adv - t.rcv_nxt;
  const std::uint32_t old = advertised > 0 ? static_cast<std::uint32_t>(advertised) : 0;
  if (wnd <= old) return old;
  if (wnd - old < std::min<std::uint32_t>(cfg.receive_buffer / 2, t.mss)) return old;
  return wnd;
}

// ---- output ----

bool Stack::Impl::send_segment(Tcb& t, TcpSeq seq, std::uint32_t len, std::uint8_t flags) noexcept {
  rte_mbuf* m = rte_pktmbuf_alloc(mp);
  if (m == nullptr) {
    ++ctr.drops[static_cast<std::size_t>(DropReason::kNoMbuf)];
    return false;
  }
  const bool syn = (flags & wire::kTcpSyn) != 0;
  TcpOptionsOut o;
  std::array<SackBlock, 4> blocks;
  if (syn) {
    o.mss = static_cast<std::uint16_t>(cfg.mtu - 40);
    const bool active = t.state == TcpState::kSynSent;
    if (active ? cfg.window_scaling : t.ws_ok) o.window_scale = t.rcv_wscale;
    o.sack_permitted = active ? cfg.sack : t.sack_ok;
    o.timestamps = active ? cfg.timestamps : t.ts_ok;
  } else {
    o.timestamps = t.ts_ok;
    if (t.sack_ok && t.ooo_count > 0 && (flags & wire::kTcpAck)) {
      // RFC 2018 §4: report the out-of-order data held, merged into blocks.
      std::size_t n = 0;
      for (const auto& s : ooo(t)) {
        const TcpSeq right = s.seq + s.payload;
        if (n > 0 && s.seq <= blocks[n - 1].right) {
          blocks[n - 1].right = seq_max(blocks[n - 1].right, right);
        } else if (n < blocks.size()) {
          blocks[n++] = SackBlock{s.seq, right};
        } else {
          break;
        }
      }
      o.sack = std::span<const SackBlock>(blocks.data(), n);
    }
  }
  if (o.timestamps) {
    o.ts_val = static_cast<std::uint32_t>(now / 1000);
    o.ts_ecr = t.ts_recent;
  }
  // More than one MSS is a super-segment for the port to cut (output() sends
  // one only when tso_on).
  const bool tso = len > t.mss;
  // t.mss leaves room for the timestamps option only: SACK blocks on a full
  // data segment would push the frame past the MTU. Send as many blocks as
  // fit (RFC 2018 §4 asks for as many as possible, not all); the pure ACKs
  // the receive path sends carry them all.
  while (!o.sack.empty() && !tso &&
         sizeof(wire::Ipv4Header) + sizeof(wire::TcpHeader) + tcp_options_length(o) + len > cfg.mtu) {
    o.sack = o.sack.first(o.sack.size() - 1);
    ++ctr.tcp_sack_blocks_trimmed;
  }
  const std::size_t optlen = tcp_options_length(o);
  const std::size_t hlen = sizeof(wire::TcpHeader) + optlen;
  if (len > 0) {
    const std::uint32_t offset = static_cast<std::uint32_t>(seq - t.snd_una) - (t.syn_acked ? 0 : 1);
    if (!append_payload(t, m, offset, len)) {
      drop(m, DropReason::kNoMbuf);
      return false;
    }
  }
  auto* h = reinterpret_cast<wire::TcpHeader*>(rte_pktmbuf_prepend(m, static_cast<std::uint16_t>(hlen)));
  if (h == nullptr) {
    drop(m, DropReason::kNoMbuf);
    return false;
  }
  h->src_port.set(t.local_port);
  h->dst_port.set(t.remote_port);
  h->seq.set(seq.raw());
  h->ack.set((flags & wire::kTcpAck) ? t.rcv_nxt.raw() : 0);
  h->data_offset = static_cast<std::uint8_t>((hlen / 4) << 4);
  h->flags = flags;
  std::uint32_t wnd = receive_window(t);
  std::uint16_t field;
  if (syn) {
    // RFC 7323 §2.2: the window in a SYN is never scaled.
    field = static_cast<std::uint16_t>(std::min<std::uint32_t>(wnd, 65535));
    wnd = field;
  } else {
    field = static_cast<std::uint16_t>(std::min<std::uint32_t>(wnd >> t.rcv_wscale, 65535));
    wnd = std::uint32_t{field} << t.rcv_wscale;
  }
  h->window.set(field);
  h->checksum.set(0);
  h->urgent.set(0);
  tcp_write_options({reinterpret_cast<std::uint8_t*>(h) + sizeof(wire::TcpHeader), optlen}, o);
  if (flags & wire::kTcpAck) {
    if (t.rcv_nxt + wnd > t.rcv_adv) t.rcv_adv = t.rcv_nxt + wnd;
    t.ack_now = false;
    t.unacked_segments = 0;
    t.delack_deadline = kNever;
  }
  m->l4_len = static_cast<std::uint8_t>(hlen);
  if (tso) {
    // ip_output() writes the pseudo-header sum the TSO way.
    m->tso_segsz = static_cast<std::uint16_t>(tso_segment_size(t, hlen));
    m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_IPV4;
    ++ctr.tcp_tso_sends;
  } else if (cfg.tx_tcp_checksum_offload) {
    // The port completes the checksum from the pseudo header sum (DPDK
    // convention: the field holds the folded, uncomplemented pseudo sum).
    std::uint32_t sum =
        pseudo_header_sum(cfg.ip, t.remote_ip, wire::kIpProtoTcp, static_cast<std::uint16_t>(m->pkt_len));
    while (sum >> 16)
      sum = (sum & 0xffff) + (sum >> 16);
    h->checksum.set(static_cast<std::uint16_t>(sum));
    m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
  } else {
    h->checksum.set(
        tcp_checksum(cfg.ip, t.remote_ip, {rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len}));
  }
  ip_output(m, t.remote_ip, wire::kIpProtoTcp);
  return true;
}

bool Stack::Impl::append_payload(Tcb& t, rte_mbuf* m, std::uint32_t offset, std::uint32_t len) noexcept {
  // The first mbuf takes what fits after the room kept for the headers; a
  // super-segment (TSO) continues in a chain of further mbufs.
  const std::uint32_t first = std::min<std::uint32_t>(len, rte_pktmbuf_tailroom(m));
  auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, static_cast<std::uint16_t>(first)));
  if (p == nullptr) return false;
  t.sndbuf.copy_out(offset, first, p);
  std::uint32_t done = first;
  if (done == len) return true;
  std::array<rte_mbuf*, 256> more;
  const std::uint32_t n = (len - done + mbuf_room - 1) / mbuf_room;
  if (n > more.size() || rte_pktmbuf_alloc_bulk(mp, more.data(), n) != 0) return false;
  rte_mbuf* last = m;
  for (std::uint32_t i = 0; i < n; ++i) {
    rte_mbuf* c = more[i];
    const std::uint32_t k = std::min(len - done, mbuf_room);
    t.sndbuf.copy_out(offset + done, k, rte_pktmbuf_mtod(c, std::uint8_t*));
    c->data_len = static_cast<std::uint16_t>(k);
    c->pkt_len = k;
    last->next = c;
    last = c;
    m->pkt_len += k;
    ++m->nb_segs;
    done += k;
  }
  return true;
}

std::uint32_t Stack::Impl::tso_segment_size(const Tcb& t, std::size_t tcp_header_length) const noexcept {
  // The port cuts a super-segment into frames of at most tso_max_frame bytes
  // (net_tap counts the Ethernet header against the MTU, a NIC does not) and
  // never more than the peer's MSS of payload.
  const std::uint32_t frame = cfg.tso_max_frame != 0 ? cfg.tso_max_frame : cfg.mtu + 14u;
  const std::uint32_t headers =
      static_cast<std::uint32_t>(sizeof(wire::EthernetHeader) + sizeof(wire::Ipv4Header) + tcp_header_length);
  return frame > headers ? std::min(t.mss, frame - headers) : 0;
}

std::uint32_t Stack::Impl::tso_payload_limit(const Tcb& t) const noexcept {
  // How much output() may put into one super-segment: the configured cap, the
  // 16-bit IPv4 total length, the segments the port makes of it and the mbufs
  // of its chain. Never less than one MSS (a plain segment).
  if (!tso_on) return t.mss;
  const std::uint32_t hlen = sizeof(wire::TcpHeader) + (t.ts_ok ? 12u : 0u);
  const std::uint32_t seg = tso_segment_size(t, hlen);
  const std::uint32_t max_mbufs =
      std::min<std::uint32_t>(cfg.tso_max_mbufs, 257);  // append_payload's array + 1
  std::uint32_t limit =
      std::min({cfg.tso_max_payload, 65535u - 20u - 60u, seg * cfg.tso_max_segments, max_mbufs * mbuf_room});
  return std::max(limit, t.mss);
}

void Stack::Impl::send_rst(Ipv4Address rip, std::uint16_t rport, std::uint16_t lport, TcpSeq seq, TcpSeq ack,
                           std::uint8_t flags) noexcept {
  rte_mbuf* m = rte_pktmbuf_alloc(mp);
  if (m == nullptr) {
    ++ctr.drops[static_cast<std::size_t>(DropReason::kNoMbuf)];
    return;
  }
  auto* h = reinterpret_cast<wire::TcpHeader*>(rte_pktmbuf_append(m, sizeof(wire::TcpHeader)));
  if (h == nullptr) return drop(m, DropReason::kNoMbuf);
  h->src_port.set(lport);
  h->dst_port.set(rport);
  h->seq.set(seq.raw());
  h->ack.set(ack.raw());
  h->data_offset = 5 << 4;
  h->flags = flags;
  h->window.set(0);
  h->checksum.set(0);
  h->urgent.set(0);
  h->checksum.set(tcp_checksum(cfg.ip, rip, {rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len}));
  ++ctr.tcp_rsts_sent;
  ip_output(m, rip, wire::kIpProtoTcp);
}

bool Stack::Impl::challenge_ack_allowed() noexcept {
  // RFC 5961 §7 ACK throttling: at most challenge_ack_limit challenge ACKs per
  // second for the whole stack, so a flood of forged RSTs, SYNs or ACKs cannot
  // turn the stack into an ACK amplifier. A fixed budget shared by all
  // connections would be a side channel (CVE-2016-5696: an off-path attacker
  // counts the challenge ACKs it draws itself in a second to learn whether its
  // guesses at another connection drew some), so each second's budget is drawn
  // at random in [limit/2, limit] (Linux randomises it likewise).
  const std::uint32_t limit = cfg.challenge_ack_limit;
  if (limit == 0) return true;
  const TimeUs second = now / 1'000'000;
  if (second != challenge_second) {
    challenge_second = second;
    const std::uint32_t half = limit / 2;
    challenge_budget = limit - static_cast<std::uint32_t>(mix(cfg.isn_secret ^ mix(second)) % (half + 1));
  }
  if (challenge_budget == 0) {
    ++ctr.tcp_challenge_acks_suppressed;
    return false;
  }
  --challenge_budget;
  ++ctr.tcp_challenge_acks;
  return true;
}

void Stack::Impl::send_challenge_ack(Tcb& t) noexcept {
  // RFC 5961 §3.2/§4.2: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
  if (challenge_ack_allowed()) send_segment(t, t.snd_max, 0, wire::kTcpAck);
}

void Stack::Impl::output(Tcb& t) noexcept {
  if (t.state == TcpState::kClosed) return;
  if (!t.synchronized()) {
    if (t.ack_now && t.state == TcpState::kSynReceived) t.ack_now = false;
    arm_timer(t);
    return;
  }
  bool sent = false;
  const TcpSeq data_end = t.data_end();
  if (t.state != TcpState::kTimeWait) {
    // RFC 6675 §5 step (C): in SACK recovery, send while cwnd - pipe >= 1 SMSS.
    if (t.in_recovery && t.sack_ok) {
      while (sack_pipe(t) + t.mss <= t.cwnd && sack_send_next(t, false))
        sent = true;
    }
    for (;;) {
      if (t.in_recovery && t.sack_ok) break;  // the loop above decides
      if (!(t.snd_nxt < data_end)) break;
      // Going back N after a timeout: skip what the peer SACKed (RFC 6675 §5.1).
      TcpSeq sacked_end;
      if (t.snd_nxt < t.snd_max && t.scoreboard.sacked(t.snd_nxt, sacked_end)) {
        const TcpSeq to = seq_min(sacked_end, t.snd_max);
        ctr.tcp_sack_skipped_bytes += static_cast<std::uint32_t>(to - t.snd_nxt);
        t.snd_nxt = to;
        continue;
      }
      // The peer's window counts from SND.UNA; cwnd counts what is in the
      // network, and SACKed bytes below SND.NXT have left it (RFC 6675 §4 pipe).
      const std::uint32_t offered = static_cast<std::uint32_t>(t.snd_nxt - t.snd_una);
      const std::uint32_t in_flight =
          t.scoreboard.empty() ? offered : t.scoreboard.hole_bytes(t.snd_una, t.snd_nxt);
      if (offered >= t.snd_wnd || in_flight >= t.cwnd) break;
      const std::uint32_t room = std::min(t.snd_wnd - offered, t.cwnd - in_flight);
      const std::uint32_t unsent = static_cast<std::uint32_t>(data_end - t.snd_nxt);
      std::uint32_t len = std::min({tso_payload_limit(t), unsent, room});
      TcpSeq hole;
      std::uint32_t hole_len = 0;
      if (t.snd_nxt < t.snd_max && t.scoreboard.next_hole(t.snd_nxt, hole, hole_len) && hole == t.snd_nxt)
        len = std::min(len, hole_len);  // stop where the next SACKed range starts
      // Sender silly window avoidance (RFC 9293 §3.8.6.2.1): a short segment
      // only when it carries the last queued byte or nothing is in flight.
      if (len < t.mss && len < unsent && in_flight > 0 && !(t.snd_nxt < t.snd_max)) break;
      if (len > t.mss && len < unsent) {
        // A super-segment (TSO) is cut into whole segments; only one carrying
        // the last queued byte may end in a short one (as Linux's
        // tcp_mss_split_point), the rest waits for more room.
        const std::uint32_t seg = tso_segment_size(t, sizeof(wire::TcpHeader) + (t.ts_ok ? 12u : 0u));
        if (seg > 0) len = std::max(len / seg * seg, t.mss);
      }
      std::uint8_t flags = wire::kTcpAck;
      if (len == unsent) flags |= wire::kTcpPsh;
      if (t.snd_nxt < t.snd_max) {
        ++ctr.tcp_retransmits;
        ctr.tcp_retransmitted_bytes += len;
      }
      if (!send_segment(t, t.snd_nxt, len, flags)) break;
      if (!t.rtt_timing && t.snd_nxt >= t.snd_max) {
        t.rtt_timing = true;
        t.rtt_seq = t.snd_nxt;
        t.rtt_start = now;
      }
      t.snd_nxt += len;
      t.snd_max = seq_max(t.snd_max, t.snd_nxt);
      sent = true;
      if (t.rto_deadline == kNever) t.rto_deadline = now + t.rto;
    }
    // FIN after the last byte (RFC 9293 §3.10.4 CLOSE: "queue this until all
    // preceding SENDs have been segmentized").
    if (t.fin_queued && !t.fin_acked && t.snd_nxt == data_end) {
      if (t.snd_nxt < t.snd_max) ++ctr.tcp_retransmits;
      if (send_segment(t, t.snd_nxt, 0, wire::kTcpFin | wire::kTcpAck)) {
        t.snd_nxt += 1;
        t.snd_max = seq_max(t.snd_max, t.snd_nxt);
        sent = true;
        if (t.rto_deadline == kNever) t.rto_deadline = now + t.rto;
      }
    }
    // Zero window: nothing in flight, data waiting: probe (RFC 9293 §3.8.6.1).
    if (t.snd_wnd == 0 && t.snd_nxt < data_end && t.snd_una == t.snd_max) {
      if (t.persist_deadline == kNever) {
        if (t.persist_backoff == 0) t.persist_backoff = std::max(t.rto, cfg.persist_min);
        t.persist_deadline = now + t.persist_backoff;
      }
    } else {
      t.persist_deadline = kNever;
      t.persist_backoff = 0;
    }
  }
  // A pure ACK carries SND.MAX, not a SND.NXT rewound by a retransmission
  // timeout: the peer has seen up to SND.MAX and would find an older sequence
  // number unacceptable, dropping the ACK with it (BSD tcp_output does the same).
  if (!sent && t.ack_now) send_segment(t, t.snd_max, 0, wire::kTcpAck);
  arm_timer(t);
}

void Stack::Impl::retransmit_first(Tcb& t) noexcept {
  const TcpSeq data_end = t.data_end();
  ++ctr.tcp_retransmits;
  if (t.snd_una < data_end) {
    const std::uint32_t len =
        std::min<std::uint32_t>(t.mss, static_cast<std::uint32_t>(data_end - t.snd_una));
    ctr.tcp_retransmitted_bytes += len;
    send_segment(t, t.snd_una, len, wire::kTcpAck);
  } else if (t.fin_queued && !t.fin_acked) {
    send_segment(t, t.snd_una, 0, wire::kTcpFin | wire::kTcpAck);
  }
  // Karn: a retransmitted segment's ACK is no RTT sample.
  t.rtt_timing = false;
}

// ---- SACK loss recovery (RFC 6675) ----

void Stack::Impl::sack_update(Tcb& t, const TcpSegment& s, bool& news) noexcept {
  // RFC 2018 §4: record the blocks; RFC 6675 §4 "Update()". The cumulative
  // ACK of this segment already counts as received.
  const TcpSeq una = seq_max(t.snd_una, s.ack);
  const std::uint32_t before = t.scoreboard.sacked_bytes();
  for (std::uint8_t i = 0; i < s.options.sack_count; ++i) {
    if (t.scoreboard.add(s.options.sack[i], una, t.snd_max)) ++ctr.tcp_sack_blocks_received;
  }
  news = t.scoreboard.sacked_bytes() > before;
}

std::uint32_t Stack::Impl::sack_pipe(const Tcb& t) const noexcept {
  // RFC 6675 §4 SetPipe(), in the form of a FACK-style estimate: bytes above
  // the highest SACKed byte are in flight; the holes below it count as lost,
  // except what was retransmitted in this recovery (below HighRxt), which is
  // in flight again. SACKed bytes have left the network.
  if (t.scoreboard.empty()) return static_cast<std::uint32_t>(t.snd_max - t.snd_una);
  const TcpSeq high = t.scoreboard.high();
  const std::uint32_t beyond = t.snd_max > high ? static_cast<std::uint32_t>(t.snd_max - high) : 0;
  return beyond + t.scoreboard.hole_bytes(t.snd_una, seq_min(t.high_rxt, high));
}

bool Stack::Impl::sack_send_next(Tcb& t, bool first) noexcept {
  // RFC 6675 §4 NextSeg(): (1) the first unSACKed byte above HighRxt below the
  // highest SACKed byte, (2) else new data the receive window allows. The
  // recovery's first retransmission (`first`) is SND.UNA's segment even when
  // no block has arrived yet (§5 step 4.3).
  const TcpSeq data_end = t.data_end();
  TcpSeq start;
  std::uint32_t len = 0;
  const TcpSeq from = seq_max(t.high_rxt, t.snd_una);
  if (!t.scoreboard.empty() && t.scoreboard.next_hole(from, start, len)) {
    // a hole below the highest SACKed byte
  } else if (first && from == t.snd_una && t.snd_una < data_end) {
    start = t.snd_una;
    len = static_cast<std::uint32_t>(t.snd_max - t.snd_una);
  } else {
    len = 0;
  }
  if (len > 0) {
    const std::uint32_t data = start < data_end ? static_cast<std::uint32_t>(data_end - start) : 0;
    len = std::min({len, t.mss, data});
    if (len == 0) return false;
    ++ctr.tcp_retransmits;
    ctr.tcp_retransmitted_bytes += len;
    if (!send_segment(t, start, len, wire::kTcpAck)) return false;
    t.high_rxt = start + len;
    t.rtt_timing = false;  // Karn
    if (t.rto_deadline == kNever) t.rto_deadline = now + t.rto;
    return true;
  }
  // (2) new data, within the peer's window.
  if (!(t.snd_nxt < data_end) || t.snd_nxt < t.snd_max) return false;
  const std::uint32_t offered = static_cast<std::uint32_t>(t.snd_nxt - t.snd_una);
  if (offered >= t.snd_wnd) return false;
  len = std::min({t.mss, static_cast<std::uint32_t>(data_end - t.snd_nxt), t.snd_wnd - offered});
  const std::uint8_t flags = wire::kTcpAck | (t.snd_nxt + len == data_end ? wire::kTcpPsh : std::uint8_t{0});
  if (!send_segment(t, t.snd_nxt, len, flags)) return false;
  t.snd_nxt += len;
  t.snd_max = seq_max(t.snd_max, t.snd_nxt);
  if (t.rto_deadline == kNever) t.rto_deadline = now + t.rto;
  return true;
}

void Stack::Impl::sack_enter_recovery(Tcb& t) noexcept {
  // RFC 6675 §5 step 4: RecoveryPoint = HighData; ssthresh = cwnd =
  // FlightSize / 2 (at least 2 SMSS, RFC 5681 eq. 4); retransmit the first
  // segment presumed lost, then send by the pipe rule.
  const std::uint32_t flight = static_cast<std::uint32_t>(t.snd_max - t.snd_una);
  t.ssthresh = std::max(flight / 2, 2 * t.mss);
  t.cwnd = t.ssthresh;
  t.recover = t.snd_max;
  t.in_recovery = true;
  t.high_rxt = t.snd_una;
  ++ctr.tcp_fast_retransmits;
  ++ctr.tcp_sack_recoveries;
  sack_send_next(t, true);
}

void Stack::Impl::rtt_sample(Tcb& t, TimeUs r) noexcept {
  // RFC 6298 §2.2 / §2.3 with alpha 1/8, beta 1/4, K 4, G = timer tick.
  if (!t.rtt_valid) {
    t.srtt = r;
    t.rttvar = r / 2;
    t.rtt_valid = true;
  } else {
    const TimeUs diff = t.srtt > r ? t.srtt - r : r - t.srtt;
    t.rttvar = (3 * t.rttvar + diff) / 4;
    t.srtt = (7 * t.srtt + r) / 8;
  }
  t.rto = std::clamp(t.srtt + std::max<TimeUs>(cfg.timer_tick, 4 * t.rttvar), cfg.rto_min, cfg.rto_max);
}

bool Stack::Impl::keepalive(Tcb& t) noexcept {
  // RFC 1122 §4.2.3.6. Returns true when the connection was given up.
  if (cfg.keepalive_idle == 0 || (t.state != TcpState::kEstablished && t.state != TcpState::kCloseWait))
    return false;
  if (now - t.last_received < cfg.keepalive_idle) {
    t.ka_deadline = t.last_received + cfg.keepalive_idle;  // traffic since: wait again
    return false;
  }
  if (t.ka_probes >= cfg.keepalive_probes) {
    ++ctr.tcp_timeouts;
    send_rst(t.remote_ip, t.remote_port, t.local_port, t.snd_nxt, TcpSeq(0), wire::kTcpRst);
    enter_closed(t, true);
    return true;
  }
  // The probe: SEG.SEQ = SND.NXT - 1 with no data draws an ACK from a live peer.
  ++t.ka_probes;
  ++ctr.tcp_keepalive_probes;
  send_segment(t, t.snd_max - 1, 0, wire::kTcpAck);
  t.ka_deadline = now + cfg.keepalive_interval;
  return false;
}

// ---- SYN cookies (RFC 4987 §3.6) ----

namespace {
constexpr std::uint16_t kCookieMss[4] = {536, 1220, 1440, 1460};
constexpr TimeUs kCookiePeriod = 64'000'000;  // the 5-bit counter t advances every 64 s
}  // namespace

std::uint32_t Stack::Impl::syn_cookie(Ipv4Address rip, std::uint16_t rport, std::uint16_t lport, TcpSeq irs,
                                      std::uint32_t t, std::uint32_t mss_index) const noexcept {
  // ISS = t (5 bits) | MSS index (2 bits) | 25 bits of a keyed hash over the
  // 4-tuple, the peer's ISN and t, so an ACK proves the SYN,ACK was received.
  const std::uint64_t h = mix(cfg.isn_secret * 0x9e3779b97f4a7c15ULL ^
                              mix((std::uint64_t{rip.value} << 32) | (std::uint64_t{rport} << 16) | lport) ^
                              (std::uint64_t{irs.raw()} << 5 | t));
  return ((t & 0x1f) << 27) | ((mss_index & 3) << 25) | static_cast<std::uint32_t>(h & 0x1ffffff);
}

void Stack::Impl::send_syn_cookie(Ipv4Address rip, std::uint16_t rport, std::uint16_t lport, TcpSeq irs,
                                  std::optional<std::uint16_t> peer_mss) noexcept {
  const std::uint16_t mss =
      static_cast<std::uint16_t>(std::min<std::uint32_t>(peer_mss.value_or(536), cfg.mtu - 40u));
  std::uint32_t index = 0;
  for (std::uint32_t i = 0; i < 4; ++i) {
    if (kCookieMss[i] <= mss) index = i;
  }
  const std::uint32_t t = static_cast<std::uint32_t>(now / kCookiePeriod);
  const TcpSeq iss(syn_cookie(rip, rport, lport, irs, t, index));
  rte_mbuf* m = rte_pktmbuf_alloc(mp);
  if (m == nullptr) {
    ++ctr.drops[static_cast<std::size_t>(DropReason::kNoMbuf)];
    return;
  }
  auto* h = reinterpret_cast<wire::TcpHeader*>(rte_pktmbuf_append(m, sizeof(wire::TcpHeader) + 4));
  if (h == nullptr) return drop(m, DropReason::kNoMbuf);
  h->src_port.set(lport);
  h->dst_port.set(rport);
  h->seq.set(iss.raw());
  h->ack.set((irs + 1).raw());
  h->data_offset = 6 << 4;
  h->flags = wire::kTcpSyn | wire::kTcpAck;
  h->window.set(static_cast<std::uint16_t>(std::min<std::uint32_t>(cfg.receive_buffer, 65535)));
  h->checksum.set(0);
  h->urgent.set(0);
  TcpOptionsOut o;
  o.mss = static_cast<std::uint16_t>(cfg.mtu - 40);
  tcp_write_options({reinterpret_cast<std::uint8_t*>(h) + sizeof(wire::TcpHeader), 4}, o);
  h->checksum.set(tcp_checksum(cfg.ip, rip, {rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len}));
  ip_output(m, rip, wire::kIpProtoTcp);
}

Tcb* Stack::Impl::accept_syn_cookie(Ipv4Address rip, std::uint16_t rport, std::uint16_t lport,
                                    const TcpSegment& s) noexcept {
  const std::uint32_t cookie = (s.ack - 1).raw();
  const std::uint32_t t_now = static_cast<std::uint32_t>(now / kCookiePeriod);
  const std::uint32_t t = cookie >> 27;
  if (t != (t_now & 0x1f) && t != ((t_now - 1) & 0x1f)) return nullptr;
  const std::uint32_t index = (cookie >> 25) & 3;
  const TcpSeq irs = s.seq - 1;
  if (syn_cookie(rip, rport, lport, irs, t, index) != cookie) return nullptr;
  Tcb* tcb = tcb_create(rip, rport, lport);
  if (tcb == nullptr) return nullptr;
  Tcb& c = *tcb;
  // The cookie carries no window scale, timestamps or SACK: the connection
  // runs without them (the classic cookie trade-off).
  c.passive = true;
  c.irs = irs;
  c.rcv_nxt = s.seq;
  c.rcv_adv = c.rcv_nxt + static_cast<std::uint32_t>(std::min<std::uint32_t>(cfg.receive_buffer, 65535));
  c.iss = TcpSeq(cookie);
  c.snd_una = s.ack;
  c.snd_nxt = s.ack;
  c.snd_max = s.ack;
  c.recover = c.iss;
  c.syn_acked = true;
  c.mss = std::min<std::uint32_t>(kCookieMss[index], cfg.mtu - 40u);
  c.cwnd = kInitialWindowSegments * c.mss;
  c.snd_wnd = s.window;
  c.max_snd_wnd = c.snd_wnd;
  c.snd_wl1 = s.seq;
  c.snd_wl2 = s.ack;
  c.attached = true;
  ++ctr.tcp_passive_opens;
  ++ctr.tcp_syn_cookies_accepted;
  set_state(c, TcpState::kEstablished);
  emit(c, EventType::kAccepted);
  return &c;
}

// ---- input ----

void Stack::Impl::tcp_input(rte_mbuf* m, const Ipv4Input& ip) noexcept {
  const std::uint32_t len = m->data_len;
  if (len < sizeof(wire::TcpHeader)) return drop(m, DropReason::kTcpTooShort);
  const auto* h = rte_pktmbuf_mtod(m, const wire::TcpHeader*);
  const unsigned hlen = h->header_length();
  if (hlen < sizeof(wire::TcpHeader) || hlen > len) return drop(m, DropReason::kTcpBadHeaderLength);
  bool verified = false;
  if (cfg.rx_checksum_offload) {
    const auto f = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
    if (f == RTE_MBUF_F_RX_L4_CKSUM_BAD) return drop(m, DropReason::kTcpBadChecksum);
    verified = f == RTE_MBUF_F_RX_L4_CKSUM_GOOD;
  }
  if (!verified && tcp_checksum(ip.src, ip.dst, {rte_pktmbuf_mtod(m, const std::uint8_t*), len}) != 0) {
    return drop(m, DropReason::kTcpBadChecksum);
  }
  TcpSegment s;
  s.seq = TcpSeq(h->seq.host());
  s.ack = TcpSeq(h->ack.host());
  s.flags = h->flags;
  s.window = h->window.host();
  s.payload = len - hlen;
  s.options = tcp_parse_options(
      {rte_pktmbuf_mtod(m, const std::uint8_t*) + sizeof(wire::TcpHeader), hlen - sizeof(wire::TcpHeader)});
  const std::uint16_t sport = h->src_port.host();
  const std::uint16_t dport = h->dst_port.host();
  rte_pktmbuf_adj(m, static_cast<std::uint16_t>(hlen));
  s.m = m;

  constexpr std::uint32_t kNoFlow = UINT32_MAX;
  const std::uint32_t* flow = flows.find(flow_key(ip.src, sport, dport));
  std::uint32_t index = flow != nullptr ? *flow : kNoFlow;
  if (index == kNoFlow) {
    // LISTEN (RFC 9293 §3.10.7.2) or CLOSED (§3.10.7.1).
    const bool syn_only = (s.flags & (wire::kTcpSyn | wire::kTcpAck | wire::kTcpRst)) == wire::kTcpSyn;
    Listener* l = find_listener(dport);
    if (l != nullptr && syn_only) {
      if (l->half_open >= cfg.syn_backlog) {
        if (!cfg.syn_cookies) return drop(m, DropReason::kTcpBacklogFull);
        // RFC 4987 §3.6: answer from a cookie, keep no state.
        rte_pktmbuf_free(m);
        ++ctr.drops[static_cast<std::size_t>(DropReason::kTcpBacklogFull)];
        ++ctr.tcp_syn_cookies_sent;
        send_syn_cookie(ip.src, sport, dport, s.seq, s.options.mss);
        return;
      }
      Tcb* t = tcb_create(ip.src, sport, dport);
      if (t == nullptr) return drop(m, DropReason::kTcpBacklogFull);
      rte_pktmbuf_free(m);  // data on a SYN is not kept (it is retransmitted)
      ++l->half_open;
      t->half_open_counted = true;
      t->passive = true;
      t->irs = s.seq;
      t->rcv_nxt = s.seq + 1;
      t->rcv_adv = t->rcv_nxt;
      t->ws_ok = cfg.window_scaling && s.options.window_scale.has_value();
      t->snd_wscale = t->ws_ok ? *s.options.window_scale : 0;
      t->rcv_wscale = t->ws_ok ? our_wscale() : 0;
      t->ts_ok = cfg.timestamps && s.options.has_timestamps;
      t->ts_recent = s.options.ts_val;
      t->sack_ok = cfg.sack && s.options.sack_permitted;
      t->mss = eff_mss(s.options.mss, t->ts_ok);
      t->cwnd = kInitialWindowSegments * t->mss;
      t->snd_wnd = s.window;  // RFC 7323 §2.2: unscaled in a SYN
      t->max_snd_wnd = t->snd_wnd;
      t->snd_wl1 = s.seq;
      t->iss = make_isn(ip.src, sport, dport);
      t->snd_una = t->iss;
      t->snd_nxt = t->iss + 1;
      t->snd_max = t->snd_nxt;
      t->recover = t->iss;
      t->snd_wl2 = t->iss;
      t->state = TcpState::kSynReceived;
      ++ctr.tcp_passive_opens;
      send_segment(*t, t->iss, 0, wire::kTcpSyn | wire::kTcpAck);
      t->rto_deadline = now + t->rto;
      arm_timer(*t);
      return;
    }
    const bool ack_only = (s.flags & (wire::kTcpSyn | wire::kTcpAck | wire::kTcpRst)) == wire::kTcpAck;
    if (l != nullptr && ack_only && cfg.syn_cookies) {
      if (Tcb* t = accept_syn_cookie(ip.src, sport, dport, s)) index = t->index;
    }
  }
  if (index == kNoFlow) {
    // §3.10.7.1: an RST is dropped; otherwise answer with RST.
    if (s.flags & wire::kTcpRst) return drop(m, DropReason::kTcpNoConnection);
    ++ctr.drops[static_cast<std::size_t>(DropReason::kTcpNoConnection)];
    if (s.flags & wire::kTcpAck) {
      send_rst(ip.src, sport, dport, s.ack, TcpSeq(0), wire::kTcpRst);
    } else {
      send_rst(ip.src, sport, dport, TcpSeq(0), s.seq + s.seq_length(), wire::kTcpRst | wire::kTcpAck);
    }
    rte_pktmbuf_free(m);
    return;
  }
  Tcb& t = tcbs[index];

  if (t.state == TcpState::kSynSent) {
    // RFC 9293 §3.10.7.3.
    const bool has_ack = (s.flags & wire::kTcpAck) != 0;
    if (has_ack && (s.ack <= t.iss || s.ack > t.snd_max)) {
      if (!(s.flags & wire::kTcpRst))
        send_rst(t.remote_ip, t.remote_port, t.local_port, s.ack, TcpSeq(0), wire::kTcpRst);
      return drop(m, DropReason::kTcpBadAck);
    }
    if (s.flags & wire::kTcpRst) {
      rte_pktmbuf_free(m);
      // RFC 5961 §3.2 for SYN-SENT: only an RST acknowledging our SYN counts.
      if (has_ack) {
        ++ctr.tcp_rsts_received;
        enter_closed(t, true);
      }
      return;
    }
    if (!(s.flags & wire::kTcpSyn)) return drop(m, DropReason::kTcpOutOfWindow);
    rte_pktmbuf_free(m);
    t.irs = s.seq;
    t.rcv_nxt = s.seq + 1;
    t.rcv_adv = t.rcv_nxt;
    t.ws_ok = cfg.window_scaling && s.options.window_scale.has_value();
    t.snd_wscale = t.ws_ok ? *s.options.window_scale : 0;
    if (!t.ws_ok) t.rcv_wscale = 0;
    t.ts_ok = cfg.timestamps && s.options.has_timestamps;
    t.ts_recent = s.options.ts_val;
    t.sack_ok = cfg.sack && s.options.sack_permitted;
    t.mss = eff_mss(s.options.mss, t.ts_ok);
    t.cwnd = kInitialWindowSegments * t.mss;
    t.snd_wnd = s.window;
    t.max_snd_wnd = t.snd_wnd;
    t.snd_wl1 = s.seq;
    t.snd_wl2 = s.ack;
    if (has_ack) {
      t.snd_una = s.ack;
      t.syn_acked = true;
      if (t.rtt_timing) {
        rtt_sample(t, now - t.rtt_start);
        t.rtt_timing = false;
      }
      t.retransmits = 0;
      t.rto_deadline = kNever;
      set_state(t, TcpState::kEstablished);
      emit(t, EventType::kConnected);
      if (t.fin_queued) set_state(t, TcpState::kFinWait1);
      t.ack_now = true;
      mark_dirty(t);
    } else {
      // Simultaneous open (§3.10.7.3 fourth check): SYN-RECEIVED, SYN,ACK.
      set_state(t, TcpState::kSynReceived);
      send_segment(t, t.iss, 0, wire::kTcpSyn | wire::kTcpAck);
    }
    return;
  }

  // §3.10.7.4 synchronized states (and SYN-RECEIVED).
  const bool rst = (s.flags & wire::kTcpRst) != 0;
  // A retransmitted SYN in SYN-RECEIVED: our SYN,ACK was lost; send it again.
  if (t.state == TcpState::kSynReceived && (s.flags & wire::kTcpSyn) && !(s.flags & wire::kTcpAck) && !rst &&
      s.seq == t.irs) {
    rte_pktmbuf_free(m);
    send_segment(t, t.iss, 0, wire::kTcpSyn | wire::kTcpAck);
    return;
  }
  // RFC 7323 §5.3 PAWS: a timestamp older than TS.Recent marks an old duplicate.
  if (t.ts_ok && s.options.has_timestamps && !rst &&
      static_cast<std::int32_t>(s.options.ts_val - t.ts_recent) < 0) {
    t.ack_now = true;
    mark_dirty(t);
    return drop(m, DropReason::kTcpPawsReject);
  }
  // First: sequence number acceptability.
  const std::uint32_t rcv_wnd = t.rcv_adv > t.rcv_nxt ? static_cast<std::uint32_t>(t.rcv_adv - t.rcv_nxt) : 0;
  const std::uint32_t seg_len = s.seq_length();
  bool acceptable;
  if (seg_len == 0) {
    acceptable = rcv_wnd == 0 ? s.seq == t.rcv_nxt : seq_in_window(s.seq, t.rcv_nxt, t.rcv_nxt + rcv_wnd);
  } else if (rcv_wnd == 0) {
    // Zero window: no data is acceptable, but ACKs, RSTs and the FIN
    // position are still processed (RFC 9293 §3.10.7.4 note).
    acceptable = s.seq == t.rcv_nxt;
  } else {
    acceptable = seq_in_window(s.seq, t.rcv_nxt, t.rcv_nxt + rcv_wnd) ||
                 seq_in_window(s.seq + (seg_len - 1), t.rcv_nxt, t.rcv_nxt + rcv_wnd);
  }
  if (!acceptable) {
    if (!rst) {
      t.ack_now = true;
      mark_dirty(t);
    }
    return drop(m, DropReason::kTcpOutOfWindow);
  }
  t.last_received = now;
  t.ka_probes = 0;
  // Second: RST (RFC 5961 §3.2: exact match resets, in-window gets a challenge ACK).
  if (rst) {
    rte_pktmbuf_free(m);
    ++ctr.tcp_rsts_received;
    if (s.seq != t.rcv_nxt) {
      send_challenge_ack(t);
      return;
    }
    if (t.state == TcpState::kSynReceived && t.passive) {
      tcb_destroy(t);  // back to LISTEN: the listener never saw it
      return;
    }
    if (t.state == TcpState::kTimeWait || t.state == TcpState::kClosing || t.state == TcpState::kLastAck) {
      enter_closed(t, false);
      return;
    }
    enter_closed(t, true);
    return;
  }
  // Fourth: SYN in a synchronized state (RFC 5961 §4.2): challenge ACK.
  if (s.flags & wire::kTcpSyn) {
    rte_pktmbuf_free(m);
    send_challenge_ack(t);
    return;
  }
  // Fifth: ACK.
  if (!(s.flags & wire::kTcpAck)) return drop(m, DropReason::kTcpBadAck);
  if (t.state == TcpState::kSynReceived) {
    if (!(t.snd_una < s.ack && s.ack <= t.snd_max)) {
      send_rst(t.remote_ip, t.remote_port, t.local_port, s.ack, TcpSeq(0), wire::kTcpRst);
      return drop(m, DropReason::kTcpBadAck);
    }
    t.snd_una = t.snd_una + 1;
    t.syn_acked = true;
    t.snd_wnd = std::uint32_t{s.window} << t.snd_wscale;
    t.max_snd_wnd = std::max(t.max_snd_wnd, t.snd_wnd);
    t.snd_wl1 = s.seq;
    t.snd_wl2 = s.ack;
    t.retransmits = 0;
    t.rto_deadline = kNever;
    set_state(t, TcpState::kEstablished);
    if (t.passive) {
      t.attached = true;
      emit(t, EventType::kAccepted);
    } else {
      emit(t, EventType::kConnected);
    }
    if (t.fin_queued) set_state(t, TcpState::kFinWait1);
  }
  // RFC 5961 §5.2 blind data injection: the ACK must lie in
  // [SND.UNA - MAX.SND.WND, SND.NXT]; SND.MAX stands for SND.NXT after a
  // go-back-N retransmission rewound SND.NXT.
  // The ACK answering either is a challenge ACK, throttled like the others
  // (§7); it goes out with the connection's output at the end of the burst.
  if (s.ack > t.snd_max || s.ack < t.snd_una - t.max_snd_wnd) {
    if (challenge_ack_allowed()) {
      t.ack_now = true;
      mark_dirty(t);
    }
    return drop(m, DropReason::kTcpBadAck);
  }
  // TS.Recent update (RFC 7323 §4.3): from a segment that covers RCV.NXT.
  if (t.ts_ok && s.options.has_timestamps && s.seq <= t.rcv_nxt) t.ts_recent = s.options.ts_val;
  process_ack(t, s);
  if (!t.in_use || t.state == TcpState::kClosed) {
    rte_pktmbuf_free(m);
    return;
  }
  // Seventh: segment text; eighth: FIN.
  process_data(t, s);
  mark_dirty(t);
}

void Stack::Impl::process_ack(Tcb& t, const TcpSegment& s) noexcept {
  const std::uint32_t wnd = std::uint32_t{s.window} << t.snd_wscale;
  const TcpSeq data_end = t.data_end();
  bool sack_news = false;
  if (t.sack_ok && s.options.sack_count > 0) sack_update(t, s, sack_news);
  if (s.ack > t.snd_una) {
    // New data acknowledged.
    std::uint32_t acked = static_cast<std::uint32_t>(s.ack - t.snd_una);
    const bool fin_now_acked = t.fin_queued && !t.fin_acked && s.ack == data_end + 1;
    const std::uint32_t data_acked = acked - (fin_now_acked ? 1 : 0);
    t.sndbuf.pop(data_acked);
    // Everything sent is acknowledged and nothing waits: the block serves
    // other connections until this one sends again.
    if (t.sndbuf.size() == 0) sndbuf_release(t);
    if (fin_now_acked) t.fin_acked = true;
    t.snd_una = s.ack;
    if (t.snd_nxt < t.snd_una) t.snd_nxt = t.snd_una;
    t.scoreboard.trim(t.snd_una);
    if (t.high_rxt < t.snd_una) t.high_rxt = t.snd_una;
    if (t.rtt_timing && s.ack > t.rtt_seq) {
      rtt_sample(t, now - t.rtt_start);
      t.rtt_timing = false;
    }
    t.retransmits = 0;
    // Congestion control: NewReno (RFC 6582 §3.2) or RFC 5681 growth.
    if (t.in_recovery) {
      if (s.ack >= t.recover) {
        const std::uint32_t flight = static_cast<std::uint32_t>(t.snd_max - t.snd_una);
        t.cwnd = std::min(t.ssthresh, std::max(flight, t.mss) + t.mss);
        t.in_recovery = false;
      } else if (t.sack_ok && !t.scoreboard.empty()) {
        // Partial ACK in SACK recovery: cwnd stays; output() sends the next
        // hole by the pipe rule (RFC 6675 §5 step (C)).
      } else {
        retransmit_first(t);  // partial ACK: the next hole
        t.cwnd = t.cwnd > acked ? t.cwnd - acked : 0;
        if (acked >= t.mss) t.cwnd += t.mss;
        t.cwnd = std::max(t.cwnd, t.mss);
      }
    } else if (t.cwnd < t.ssthresh) {
      t.cwnd += std::min(acked, t.mss);  // slow start (RFC 5681 §3.1, L = 1 SMSS)
    } else {
      t.cwnd += std::max<std::uint32_t>(1, t.mss * t.mss / t.cwnd);  // congestion avoidance
    }
    t.dupacks = 0;
    // RFC 6675 §5 step 4 via IsLost(SND.UNA): more than DupThresh segments
    // SACKed above the cumulative ACK, even without three duplicate ACKs.
    if (t.sack_ok && !t.in_recovery && t.scoreboard.sacked_bytes() >= 3 * t.mss && s.ack - 1 >= t.recover)
      sack_enter_recovery(t);
    // RFC 6298 §5.2/5.3: stop the timer when all is acknowledged, else restart.
    t.rto_deadline = t.snd_una == t.snd_max ? kNever : now + t.rto;
    if (t.want_writable && t.sndbuf.free_space() >= t.sndbuf.capacity() / 4) {
      t.want_writable = false;
      emit(t, EventType::kWritable);
    }
  } else if (s.ack == t.snd_una && t.snd_max > t.snd_una &&
             ((s.payload == 0 && !(s.flags & (wire::kTcpSyn | wire::kTcpFin)) && wnd == t.snd_wnd) ||
              sack_news)) {
    // A duplicate ACK (RFC 5681 §2), or one SACKing new data (RFC 6675 §2).
    ++t.dupacks;
    if (t.in_recovery) {
      if (!t.sack_ok) t.cwnd += t.mss;  // RFC 6582 §3.2 step 4: inflate (SACK counts pipe instead)
    } else if (t.sack_ok && (t.dupacks >= 3 || t.scoreboard.sacked_bytes() >= 3 * t.mss) &&
               s.ack - 1 >= t.recover) {
      sack_enter_recovery(t);
    } else if (t.dupacks == 3 && s.ack - 1 >= t.recover) {
      // Fast retransmit (RFC 6582 §3.2 step 2).
      const std::uint32_t flight = static_cast<std::uint32_t>(t.snd_max - t.snd_una);
      t.ssthresh = std::max(flight / 2, 2 * t.mss);
      t.recover = t.snd_max;
      t.in_recovery = true;
      ++ctr.tcp_fast_retransmits;
      retransmit_first(t);
      t.cwnd = t.ssthresh + 3 * t.mss;
    }
  }
  // Window update (RFC 9293 §3.10.7.4 fifth check, SND.WL1/WL2 rule).
  if (t.snd_wl1 < s.seq || (t.snd_wl1 == s.seq && t.snd_wl2 <= s.ack)) {
    t.snd_wnd = wnd;
    t.max_snd_wnd = std::max(t.max_snd_wnd, wnd);
    t.snd_wl1 = s.seq;
    t.snd_wl2 = s.ack;
  }
  // State changes driven by the ACK of our FIN.
  if (t.fin_acked) {
    switch (t.state) {
      case TcpState::kFinWait1:
        set_state(t, TcpState::kFinWait2);
        break;
      case TcpState::kClosing:
        enter_time_wait(t);
        break;
      case TcpState::kLastAck:
        enter_closed(t, false);
        break;
      default:
        break;
    }
  }
}

void Stack::Impl::process_data(Tcb& t, TcpSegment& s) noexcept {
  rte_mbuf* m = s.m;
  const bool can_receive =
      t.state == TcpState::kEstablished || t.state == TcpState::kFinWait1 || t.state == TcpState::kFinWait2;
  bool fin = (s.flags & wire::kTcpFin) != 0;
  if (t.state == TcpState::kTimeWait) {
    // A retransmitted FIN: acknowledge it and restart 2 MSL (§3.10.7.4 eighth).
    if (fin) {
      t.ack_now = true;
      t.tw_deadline = now + cfg.time_wait;
    }
    rte_pktmbuf_free(m);
    return;
  }
  if (!can_receive) {
    // CLOSE-WAIT, CLOSING, LAST-ACK: the peer already sent FIN; ignore text.
    rte_pktmbuf_free(m);
    return;
  }
  std::uint32_t payload = s.payload;
  TcpSeq seq = s.seq;
  // Trim what we already have from the front.
  if (seq < t.rcv_nxt) {
    const std::uint32_t dup = std::min<std::uint32_t>(static_cast<std::uint32_t>(t.rcv_nxt - seq), payload);
    rte_pktmbuf_adj(m, static_cast<std::uint16_t>(dup));
    payload -= dup;
    seq = seq + dup;
  }
  // Trim beyond the advertised window from the back (the FIN goes with it).
  const TcpSeq right = seq_max(t.rcv_adv, t.rcv_nxt);
  if (seq + payload > right) {
    const std::uint32_t excess = static_cast<std::uint32_t>((seq + payload) - right);
    const std::uint32_t cut = std::min(excess, payload);
    rte_pktmbuf_trim(m, static_cast<std::uint16_t>(cut));
    payload -= cut;
    fin = false;
  }
  if (payload == 0 && !fin) {
    rte_pktmbuf_free(m);
    return;
  }
  if (!t.attached && t.state != TcpState::kSynReceived && payload > 0) {
    // The application closed: bytes are acknowledged and discarded.
    ++ctr.drops[static_cast<std::size_t>(DropReason::kTcpAfterClose)];
  }
  if (payload > 0 && t.attached && !may_hold_another(t, seq == t.rcv_nxt)) {
    // This connection holds too many buffers already (StackConfig::
    // receive_segments): drop the segment; an ACK of what we have tells the
    // sender where we stand, and it sends this again.
    rte_pktmbuf_free(m);
    ++ctr.drops[static_cast<std::size_t>(DropReason::kTcpReceiveSegments)];
    t.ack_now = true;
    return;
  }
  if (seq == t.rcv_nxt) {
    t.rcv_nxt = t.rcv_nxt + payload;
    if (payload > 0 && t.attached) {
      rxq_push(t, m);
      t.rxq_bytes += payload;
      emit(t, EventType::kReadable);
    } else {
      rte_pktmbuf_free(m);
    }
    const bool had_ooo = t.ooo_count > 0;
    if (had_ooo) drain_ooo(t);
    // RFC 5681 §4.2: ACK at least every second full segment; at once when a
    // segment fills a gap. Delayed otherwise (RFC 1122 §4.2.3.2).
    if (++t.unacked_segments >= 2 || had_ooo) {
      t.ack_now = true;
    } else if (t.delack_deadline == kNever) {
      t.delack_deadline = now + cfg.delayed_ack;
    }
    if (fin) process_fin(t);
    return;
  }
  // Out of order: keep it for reassembly and send a duplicate ACK at once
  // (RFC 5681 §4.2) so the sender's fast retransmit can work.
  ++ctr.tcp_ooo_segments;
  t.ack_now = true;
  // The array is full, or every array is lent to other connections: drop it,
  // the peer sends it again.
  if (t.ooo_count >= reassembly.segments()) {
    rte_pktmbuf_free(m);
    ++ctr.drops[static_cast<std::size_t>(DropReason::kTcpReassemblyFull)];
    return;
  }
  if (t.ooo_array == ReassemblyPool::kNone) {
    t.ooo_array = reassembly.take();
    if (t.ooo_array == ReassemblyPool::kNone) {
      rte_pktmbuf_free(m);
      ++ctr.drops[static_cast<std::size_t>(DropReason::kTcpReassemblyFull)];
      return;
    }
  }
  const std::span<OooSegment> held = ooo(t);
  auto pos = std::lower_bound(held.begin(), held.end(), seq,
                              [](const OooSegment& o, TcpSeq q) { return o.seq < q; });
  if (pos != held.end() && pos->seq == seq && pos->payload >= payload && (pos->fin || !fin)) {
    rte_pktmbuf_free(m);  // a duplicate of what we hold
    return;
  }
  // Insert in order: shift the tail one place (room for it was checked above).
  OooSegment* base = held.data();
  const std::size_t at = static_cast<std::size_t>(pos - held.begin());
  std::copy_backward(base + at, base + held.size(), base + held.size() + 1);
  base[at] = OooSegment{seq, static_cast<std::uint16_t>(payload), fin, m};
  ++t.ooo_count;
  t.ooo_bytes += payload;
}

void Stack::Impl::drain_ooo(Tcb& t) noexcept {
  const std::span<OooSegment> held = ooo(t);
  std::size_t i = 0;
  bool fin = false;
  while (i < held.size()) {
    OooSegment& o = held[i];
    if (o.seq > t.rcv_nxt) break;  // still a gap before this one
    t.ooo_bytes -= o.payload;
    ++i;
    const TcpSeq end = o.seq + o.payload;
    if (end < t.rcv_nxt || (end == t.rcv_nxt && !o.fin)) {
      rte_pktmbuf_free(o.m);  // wholly old: overlapped by what arrived since
      continue;
    }
    const std::uint32_t dup = static_cast<std::uint32_t>(t.rcv_nxt - o.seq);
    rte_pktmbuf_adj(o.m, static_cast<std::uint16_t>(dup));
    const std::uint32_t fresh = o.payload - dup;
    t.rcv_nxt = t.rcv_nxt + fresh;
    if (fresh > 0 && t.attached) {
      rxq_push(t, o.m);
      t.rxq_bytes += fresh;
      emit(t, EventType::kReadable);
    } else {
      rte_pktmbuf_free(o.m);
    }
    if (o.fin) {
      fin = true;
      break;
    }
  }
  std::copy(held.begin() + static_cast<std::ptrdiff_t>(i), held.end(), held.begin());
  t.ooo_count -= static_cast<std::uint32_t>(i);
  if (fin) {
    // Anything held beyond the FIN is not data of this connection.
    for (const OooSegment& o : ooo(t))
      rte_pktmbuf_free(o.m);
    t.ooo_count = 0;
  }
  // The gap is closed: the array serves other connections.
  if (t.ooo_count == 0) ooo_release(t);
  if (fin) process_fin(t);
}

void Stack::Impl::process_fin(Tcb& t) noexcept {
  // RFC 9293 §3.10.7.4 eighth check.
  t.rcv_nxt = t.rcv_nxt + 1;
  t.fin_received = true;
  t.ack_now = true;
  emit(t, EventType::kPeerClosed);
  switch (t.state) {
    case TcpState::kSynReceived:
    case TcpState::kEstablished:
      set_state(t, TcpState::kCloseWait);
      break;
    case TcpState::kFinWait1:
      if (t.fin_acked) {
        enter_time_wait(t);
      } else {
        set_state(t, TcpState::kClosing);
      }
      break;
    case TcpState::kFinWait2:
      enter_time_wait(t);
      break;
    default:
      break;
  }
}

// ---- timers ----

void Stack::Impl::tcp_timer(Tcb& t) noexcept {
  if (t.tw_deadline <= now) {
    t.tw_deadline = kNever;
    if (t.state == TcpState::kFinWait2 && !t.attached) {
      tcb_destroy(t);
      return;
    }
    if (t.state == TcpState::kTimeWait) {
      if (t.attached) {
        set_state(t, TcpState::kClosed);
        if (t.in_flow_table) {
          flows.erase(t.key);
          t.in_flow_table = false;
        }
      } else {
        tcb_destroy(t);
      }
      return;
    }
  }
  if (t.rto_deadline <= now) {
    t.rto_deadline = kNever;
    if (t.snd_una != t.snd_max) {
      ++ctr.tcp_rto_expiries;
      const std::uint32_t limit = t.synchronized() ? cfg.max_retransmits : cfg.max_syn_retransmits;
      if (++t.retransmits > limit) {
        ++ctr.tcp_timeouts;
        if (std::getenv("MXDP_TCP_DEBUG") != nullptr) {
          std::fprintf(
              stderr,
              "timeout %s lport %u rport %u una %u nxt %u max %u data_end %u wnd %u cwnd %u rcv_nxt %u "
              "rcv_adv %u fin_q %d fin_acked %d rxq %zu ooo %zu ts_recent %u\n",
              tcp_state_name(t.state), t.local_port, t.remote_port, t.snd_una.raw(), t.snd_nxt.raw(),
              t.snd_max.raw(), t.data_end().raw(), t.snd_wnd, t.cwnd, t.rcv_nxt.raw(), t.rcv_adv.raw(),
              t.fin_queued, t.fin_acked, t.rxq_bytes, std::size_t{t.ooo_count}, t.ts_recent);
        }
        if (t.synchronized() || t.state == TcpState::kSynReceived) {
          send_rst(t.remote_ip, t.remote_port, t.local_port, t.snd_nxt, TcpSeq(0), wire::kTcpRst);
        }
        if (t.state == TcpState::kSynReceived && t.passive) {
          tcb_destroy(t);
        } else {
          enter_closed(t, true);
        }
        return;
      }
      // RFC 6298 §5.5-5.7: back off, retransmit the earliest unacknowledged
      // segment; RFC 5681 §3.1 eq. 4: ssthresh from the flight, cwnd 1 SMSS.
      t.rto = std::min(t.rto * 2, cfg.rto_max);
      t.rtt_timing = false;  // Karn: no sample from a retransmitted segment
      if (t.state == TcpState::kSynSent) {
        ++ctr.tcp_retransmits;
        send_segment(t, t.iss, 0, wire::kTcpSyn);
      } else if (t.state == TcpState::kSynReceived) {
        ++ctr.tcp_retransmits;
        send_segment(t, t.iss, 0, wire::kTcpSyn | wire::kTcpAck);
      } else {
        const std::uint32_t flight = static_cast<std::uint32_t>(t.snd_max - t.snd_una);
        t.ssthresh = std::max(flight / 2, 2 * t.mss);
        t.cwnd = t.mss;
        t.recover = t.snd_max;
        t.in_recovery = false;
        t.dupacks = 0;
        t.rtt_timing = false;
        t.snd_nxt = t.snd_una;  // go back N
        t.high_rxt = t.snd_una;
        // The first timeout keeps the SACKed ranges, so going back N skips
        // them (RFC 6675 §5.1); a second in a row forgets them, in case the
        // receiver reneged on what it SACKed (RFC 2018 §8).
        if (t.retransmits >= 2) t.scoreboard.clear();
      }
      t.rto_deadline = now + t.rto;
    }
  }
  if (t.persist_deadline <= now) {
    t.persist_deadline = kNever;
    if (t.snd_wnd == 0 && t.snd_una == t.snd_max && t.snd_nxt < t.data_end()) {
      // Zero-window probe: an old sequence number draws an ACK with the
      // current window (RFC 9293 §3.8.6.1; the form Linux uses).
      ++ctr.tcp_zero_window_probes;
      send_segment(t, t.snd_una - 1, 0, wire::kTcpAck);
      t.persist_backoff = std::min(t.persist_backoff * 2, cfg.rto_max);
      t.persist_deadline = now + t.persist_backoff;
    }
  }
  if (t.delack_deadline <= now) {
    t.delack_deadline = kNever;
    t.ack_now = true;
  }
  if (t.ka_deadline <= now) {
    t.ka_deadline = kNever;
    if (keepalive(t)) return;
  }
  if (cfg.keepalive_idle != 0 && t.ka_deadline == kNever &&
      (t.state == TcpState::kEstablished || t.state == TcpState::kCloseWait)) {
    t.ka_deadline = std::max(now + 1, t.last_received + cfg.keepalive_idle);
  }
  output(t);
}

// ---- application API ----

Status Stack::listen(std::uint16_t port) noexcept {
  Impl& s = *impl_;
  if (s.find_listener(port) != nullptr) return Status::kInUse;
  if (s.listener_count >= s.cfg.max_listeners) return Status::kTooManyListeners;
  s.listeners[s.listener_count++] = Impl::Listener{port, 0};
  return Status::kOk;
}

Status Stack::connect(Ipv4Address ip, std::uint16_t port, ConnId& out) noexcept {
  Impl& s = *impl_;
  const std::uint32_t range = static_cast<std::uint32_t>(s.cfg.ephemeral_last - s.cfg.ephemeral_first) + 1;
  for (std::uint32_t tries = 0; tries < range; ++tries) {
    const std::uint16_t lport = s.next_ephemeral;
    s.next_ephemeral =
        lport >= s.cfg.ephemeral_last ? s.cfg.ephemeral_first : static_cast<std::uint16_t>(lport + 1);
    if (s.find_listener(lport) != nullptr || s.flows.contains(Impl::flow_key(ip, port, lport))) continue;
    if (s.cfg.rss && s.cfg.rss->queue_for(ip, port, s.cfg.ip, lport) != s.cfg.rss->queue) continue;
    Tcb* t = s.tcb_create(ip, port, lport);
    if (t == nullptr) return Status::kTooManyConnections;
    t->attached = true;
    t->rcv_wscale = s.cfg.window_scaling ? s.our_wscale() : 0;
    t->mss = s.eff_mss(std::nullopt, false);
    t->cwnd = kInitialWindowSegments * t->mss;
    t->iss = s.make_isn(ip, port, lport);
    t->snd_una = t->iss;
    t->snd_nxt = t->iss + 1;
    t->snd_max = t->snd_nxt;
    t->recover = t->iss;
    t->state = TcpState::kSynSent;
    ++s.ctr.tcp_active_opens;
    t->rtt_timing = true;
    t->rtt_seq = t->iss;
    t->rtt_start = s.now;
    s.send_segment(*t, t->iss, 0, wire::kTcpSyn);
    t->rto_deadline = s.now + t->rto;
    s.arm_timer(*t);
    out = ConnId{t->index, t->generation};
    return Status::kOk;
  }
  return Status::kNoPorts;
}

std::size_t Stack::send(ConnId c, std::span<const std::uint8_t> data) noexcept {
  Impl& s = *impl_;
  Tcb* t = s.find(c);
  if (t == nullptr || t->fin_queued) return 0;
  if (t->state != TcpState::kEstablished && t->state != TcpState::kCloseWait &&
      t->state != TcpState::kSynSent && t->state != TcpState::kSynReceived) {
    return 0;
  }
  if (t->sndbuf.storage() == nullptr && !data.empty()) {
    std::uint8_t* block = s.send_buffers.take();
    if (block == nullptr) {
      t->want_writable = true;
      return 0;
    }
    t->sndbuf.attach(block);
  }
  const std::size_t n = t->sndbuf.push(data);
  if (n < data.size()) t->want_writable = true;
  if (n > 0) s.mark_dirty(*t);
  s.tcp_after_burst();
  return n;
}

void Stack::Impl::window_update_after_read(Tcb& t) noexcept {
  // Announce a reopened window when it grew by two segments, or from zero
  // (RFC 1122 §4.2.3.3); receive_window() already applies the SWS rule.
  if (!t.synchronized() || t.fin_received) return;
  const std::int32_t adv = t.rcv_adv - t.rcv_nxt;
  const std::uint32_t old = adv > 0 ? static_cast<std::uint32_t>(adv) : 0;
  const std::uint32_t wnd = receive_window(t);
  if (wnd > old && (wnd - old >= 2 * t.mss || old == 0)) {
    t.ack_now = true;
    mark_dirty(t);
  }
}

RecvChain Stack::recv(ConnId c) noexcept {
  Impl& s = *impl_;
  RecvChain chain;
  Tcb* t = s.find(c);
  if (t == nullptr) return chain;
  while (t->rxq_head != nullptr && !chain.full()) {
    rte_mbuf* m = s.rxq_pop(*t);
    t->rxq_bytes -= m->data_len;
    chain.push(m);
  }
  s.window_update_after_read(*t);
  s.tcp_after_burst();
  return chain;
}

std::span<const std::uint8_t> Stack::peek(ConnId c) const noexcept {
  const Tcb* t = impl_->find(c);
  if (t == nullptr || t->rxq_head == nullptr) return {};
  const rte_mbuf* m = t->rxq_head;
  return {rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len};
}

Status Stack::shutdown(ConnId c) noexcept {
  Impl& s = *impl_;
  Tcb* t = s.find(c);
  if (t == nullptr) return Status::kBadHandle;
  t->shutdown_requested = true;
  switch (t->state) {
    case TcpState::kSynSent:
    case TcpState::kSynReceived:
      t->fin_queued = true;  // FIN-WAIT-1 once established, FIN after the data
      return Status::kOk;
    case TcpState::kEstablished:
      t->fin_queued = true;
      s.set_state(*t, TcpState::kFinWait1);
      break;
    case TcpState::kCloseWait:
      t->fin_queued = true;
      s.set_state(*t, TcpState::kLastAck);
      break;
    default:
      return Status::kOk;
  }
  s.mark_dirty(*t);
  s.tcp_after_burst();
  return Status::kOk;
}

Status Stack::close(ConnId c) noexcept {
  Impl& s = *impl_;
  Tcb* t = s.find(c);
  if (t == nullptr) return Status::kBadHandle;
  if (t->state == TcpState::kClosed || t->state == TcpState::kSynSent) {
    t->attached = false;
    s.tcb_destroy(*t);
    return Status::kOk;
  }
  shutdown(c);
  t->attached = false;
  t->pending_events = 0;
  s.free_receive_queues(*t);
  if (t->state == TcpState::kClosed) {
    s.tcb_destroy(*t);
  } else if (t->state == TcpState::kFinWait2) {
    t->tw_deadline = s.now + s.cfg.time_wait;
    s.arm_timer(*t);
  }
  return Status::kOk;
}

Status Stack::abort(ConnId c) noexcept {
  Impl& s = *impl_;
  Tcb* t = s.find(c);
  if (t == nullptr) return Status::kBadHandle;
  if (t->state != TcpState::kClosed && t->state != TcpState::kSynSent && t->state != TcpState::kTimeWait) {
    // RFC 9293 §3.10.5 ABORT: <SEQ=SND.NXT><CTL=RST>.
    s.send_rst(t->remote_ip, t->remote_port, t->local_port, t->snd_nxt, TcpSeq(0), wire::kTcpRst);
  }
  t->attached = false;
  s.tcb_destroy(*t);
  s.flush();
  return Status::kOk;
}

std::optional<ConnInfo> Stack::info(ConnId c) const noexcept {
  const Tcb* t = impl_->find(c);
  if (t == nullptr) return std::nullopt;
  return ConnInfo{t->state,         t->remote_ip,     t->remote_port,  t->local_port,
                  t->rxq_bytes,     t->sndbuf.size(), t->fin_received, t->snd_una.raw(),
                  t->snd_nxt.raw(), t->rcv_nxt.raw(), t->snd_wnd};
}

}  // namespace mxdp::dataplane
