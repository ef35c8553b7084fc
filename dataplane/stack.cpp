// Stack: the link and network layers (Ethernet, ARP, IPv4, ICMP echo), the TX
// burst buffer, timers and the application API. TCP lives in tcp.cpp.

#include "dataplane/stack.hpp"

#include <rte_ip.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>

#include "dataplane/ethernet.hpp"
#include "dataplane/icmp.hpp"
#include "dataplane/packet_io.hpp"
#include "dataplane/packet_pool.hpp"
#include "dataplane/stack_impl.hpp"

namespace mxdp::dataplane {

namespace {
constexpr TimeUs kArpPendingTimeout = 3'000'000;  // RFC 1122 §2.3.2.2: drop what cannot be resolved
constexpr TimeUs kArpExpireInterval = 1'000'000;
}  // namespace

const char* tcp_state_name(TcpState s) noexcept {
  switch (s) {
    case TcpState::kClosed:
      return "CLOSED";
    case TcpState::kSynSent:
      return "SYN-SENT";
    case TcpState::kSynReceived:
      return "SYN-RECEIVED";
    case TcpState::kEstablished:
      return "ESTABLISHED";
    case TcpState::kFinWait1:
      return "FIN-WAIT-1";
    case TcpState::kFinWait2:
      return "FIN-WAIT-2";
    case TcpState::kCloseWait:
      return "CLOSE-WAIT";
    case TcpState::kClosing:
      return "CLOSING";
    case TcpState::kLastAck:
      return "LAST-ACK";
    case TcpState::kTimeWait:
      return "TIME-WAIT";
  }
  return "?";
}

ReassemblyPool::ReassemblyPool(std::uint32_t arrays, std::uint32_t segments)
    : arrays_(arrays),
      segments_(segments),
      // Uninitialised: OooSegment is an implicit-lifetime aggregate, and an
      // array's pages are touched only when a connection first needs it.
      storage_(std::allocator<OooSegment>().allocate(std::size_t{arrays} * segments)) {
  free_.reserve(arrays);
  for (std::uint32_t a = arrays; a > 0; --a)
    free_.push_back(a - 1);  // array 0 is taken first
}

ReassemblyPool::~ReassemblyPool() {
  std::allocator<OooSegment>().deallocate(storage_, std::size_t{arrays_} * segments_);
}

std::uint32_t ReassemblyPool::take() noexcept {
  if (free_.empty()) return kNone;
  const std::uint32_t a = free_.back();
  free_.pop_back();
  return a;
}

void ReassemblyPool::give(std::uint32_t array) noexcept {
  free_.push_back(array);  // within the reservation: every array is lent at most once
}

Stack::Impl::Impl(const StackConfig& config, PacketIo& io_, PacketPool& pool_, TimeUs now_)
    : cfg(config),
      io(io_),
      pool(pool_),
      mp(pool_.raw()),
      mbuf_room(rte_pktmbuf_data_room_size(pool_.raw()) - RTE_PKTMBUF_HEADROOM),
      tso_on(config.tso && config.tx_ipv4_checksum_offload && config.tx_tcp_checksum_offload),
      now(now_),
      netmask(config.prefix_length == 0 ? 0 : ~std::uint32_t{0} << (32 - config.prefix_length)),
      receive_segments(std::max(config.receive_segments, config.receive_buffer / 256)),
      arp(config.arp_lifetime, std::max<std::uint32_t>(config.arp_cache_entries, 1)),
      tcbs(std::allocator<Tcb>().allocate(config.max_connections), TcbStorage{config.max_connections}),
      flows(config.max_connections, config.isn_secret),
      listeners(std::make_unique<Listener[]>(config.max_listeners)),
      next_ephemeral(config.ephemeral_first),
      reassembly(std::min(config.reassembly_connections, config.max_connections), config.reassembly_segments),
      send_buffers(config.send_buffer, std::min(config.send_buffers_reserved, config.max_connections)),
      wheel(config.timer_tick, 4096, config.max_connections, now_) {
  // Reserved once: at most one entry per TCB slot is ever on these lists.
  free_slots.reserve(config.max_connections);
  event_list.reserve(config.max_connections);
  dirty_list.reserve(config.max_connections);
}

void Stack::Impl::TcbStorage::operator()(Tcb* p) const noexcept {
  // Tcb is trivially destructible: the slots' storage is all there is to free.
  std::allocator<Tcb>().deallocate(p, slots);
}

Stack::Impl::~Impl() {
  for (std::uint32_t i = 0; i < tcbs_constructed; ++i) {
    Tcb& t = tcbs[i];
    if (!t.in_use) continue;
    free_receive_queues(t);
    sndbuf_release(t);
  }
  for (std::size_t i = 0; i < arp_pending_count; ++i)
    rte_pktmbuf_free(arp_pending[i].m);
  for (std::uint16_t i = 0; i < txn; ++i)
    rte_pktmbuf_free(txq[i]);
}

void Stack::Impl::drop(rte_mbuf* m, DropReason r) noexcept {
  ++ctr.drops[static_cast<std::size_t>(r)];
  rte_pktmbuf_free(m);
}

void Stack::Impl::input(rte_mbuf* m) noexcept {
  ++ctr.rx_packets;
  ctr.rx_bytes += m->pkt_len;
  // Frames fit one mbuf at the MTU we configure; a chained frame would need
  // checksums over segments, which the stack does not do.
  if (m->nb_segs != 1) return drop(m, DropReason::kMultiSegment);
  std::span<const std::uint8_t> frame(rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len);
  const EthInput eth = ethernet_input(frame, cfg.mac);
  if (eth.payload == EthPayload::kDrop) return drop(m, eth.drop);
  rte_pktmbuf_adj(m, sizeof(wire::EthernetHeader));

  if (eth.payload == EthPayload::kArp) {
    std::array<std::uint8_t, sizeof(wire::ArpPacket)> reply{};
    const ArpResult r =
        arp_input({rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len}, cfg.ip, cfg.mac, arp, now, reply);
    if (r.learned) {
      // Send what waited for this hop, in order; keep the rest in order.
      std::size_t kept = 0;
      for (std::size_t i = 0; i < arp_pending_count; ++i) {
        if (arp_pending[i].hop == r.sender_ip.value) {
          eth_output(arp_pending[i].m, eth.src, wire::kEtherTypeIpv4);
        } else {
          arp_pending[kept++] = arp_pending[i];
        }
      }
      arp_pending_count = kept;
    }
    if (r.action == ArpResult::Action::kReplied) {
      // Reuse the request's mbuf for the reply.
      rte_pktmbuf_trim(m, static_cast<std::uint16_t>(m->data_len - sizeof(wire::ArpPacket)));
      std::memcpy(rte_pktmbuf_mtod(m, std::uint8_t*), reply.data(), reply.size());
      m->ol_flags = 0;
      ++ctr.arp_replies_sent;
      return eth_output(m, eth.src, wire::kEtherTypeArp);
    }
    if (r.action == ArpResult::Action::kDrop) return drop(m, r.drop);
    rte_pktmbuf_free(m);
    return;
  }

  bool verified = false;
  if (cfg.rx_checksum_offload) {
    const auto ip_flags = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
    if (ip_flags == RTE_MBUF_F_RX_IP_CKSUM_BAD) return drop(m, DropReason::kIpBadChecksum);
    verified = ip_flags == RTE_MBUF_F_RX_IP_CKSUM_GOOD;
  }
  const Ipv4Input ip = ipv4_input({rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len}, cfg.ip, verified);
  if (!ip.ok) return drop(m, ip.drop);
  // Ethernet pads short frames to 60 bytes: the IP total length is the truth.
  if (m->data_len > ip.total_length)
    rte_pktmbuf_trim(m, static_cast<std::uint16_t>(m->data_len - ip.total_length));
  rte_pktmbuf_adj(m, ip.header_length);

  switch (ip.protocol) {
    case wire::kIpProtoTcp:
      return tcp_input(m, ip);
    case wire::kIpProtoIcmp: {
      const IcmpResult r = icmp_echo_input({rte_pktmbuf_mtod(m, std::uint8_t*), m->data_len});
      if (!r.reply) return drop(m, r.drop);
      ++ctr.icmp_echo_replies;
      m->ol_flags = 0;
      return ip_output(m, ip.src, wire::kIpProtoIcmp);
    }
    default:
      return drop(m, DropReason::kIpUnknownProtocol);
  }
}

void Stack::Impl::ip_output(rte_mbuf* m, Ipv4Address dst, std::uint8_t protocol) noexcept {
  const std::uint16_t total = static_cast<std::uint16_t>(m->pkt_len + sizeof(wire::Ipv4Header));
  auto* h = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(m, sizeof(wire::Ipv4Header)));
  if (h == nullptr) return drop(m, DropReason::kNoMbuf);
  const bool offload = cfg.tx_ipv4_checksum_offload;
  ipv4_write(std::span<std::uint8_t, sizeof(wire::Ipv4Header)>(h, sizeof(wire::Ipv4Header)), cfg.ip, dst,
             protocol, total, ip_id++, 64, !offload);
  m->l3_len = sizeof(wire::Ipv4Header);
  if (offload) m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
  if (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) {
    // TSO: the TCP checksum field holds the pseudo-header sum without the
    // length, which differs per segment; the port adds each segment's length
    // and payload (DPDK's TSO convention, rte_ipv4_phdr_cksum with the TSO flag).
    const std::uint16_t phdr = rte_ipv4_phdr_cksum(reinterpret_cast<const rte_ipv4_hdr*>(h), m->ol_flags);
    std::memcpy(h + sizeof(wire::Ipv4Header) + offsetof(wire::TcpHeader, checksum), &phdr, sizeof phdr);
  }

  Ipv4Address hop = dst;
  if ((dst.value & netmask) != (cfg.ip.value & netmask)) {
    if (!cfg.gateway) return drop(m, DropReason::kArpUnresolved);
    hop = *cfg.gateway;
  }
  const ArpCache::Lookup l = arp.lookup(hop, now);
  if (l.needs_request) {
    arp.note_request(hop, now);
    send_arp(wire::kArpRequest, MacAddress::broadcast(), MacAddress{}, hop);
  }
  if (l.mac) return eth_output(m, *l.mac, wire::kEtherTypeIpv4);
  if (arp_pending_count >= kArpPendingTotal) return drop(m, DropReason::kArpPendingOverflow);
  std::size_t for_hop = 0;
  TimeUs since = now;
  for (std::size_t i = 0; i < arp_pending_count; ++i) {
    if (arp_pending[i].hop != hop.value) continue;
    if (for_hop++ == 0) since = arp_pending[i].since;
  }
  if (for_hop >= kArpPendingPerHop) return drop(m, DropReason::kArpPendingOverflow);
  arp_pending[arp_pending_count++] = ArpPending{hop.value, since, m};
}

void Stack::Impl::eth_output(rte_mbuf* m, MacAddress dst, std::uint16_t ether_type) noexcept {
  auto* h = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(m, sizeof(wire::EthernetHeader)));
  if (h == nullptr) return drop(m, DropReason::kNoMbuf);
  ethernet_write(std::span<std::uint8_t, sizeof(wire::EthernetHeader)>(h, sizeof(wire::EthernetHeader)), dst,
                 cfg.mac, ether_type);
  m->l2_len = sizeof(wire::EthernetHeader);
  tx(m);
}

void Stack::Impl::send_arp(std::uint16_t op, MacAddress dst_mac, MacAddress target_mac,
                           Ipv4Address target_ip) noexcept {
  rte_mbuf* m = rte_pktmbuf_alloc(mp);
  if (m == nullptr) {
    ++ctr.drops[static_cast<std::size_t>(DropReason::kNoMbuf)];
    return;
  }
  auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, sizeof(wire::ArpPacket)));
  if (p == nullptr) return drop(m, DropReason::kNoMbuf);
  arp_write(std::span<std::uint8_t, sizeof(wire::ArpPacket)>(p, sizeof(wire::ArpPacket)), op, cfg.mac, cfg.ip,
            target_mac, target_ip);
  if (op == wire::kArpRequest) ++ctr.arp_requests_sent;
  eth_output(m, dst_mac, wire::kEtherTypeArp);
}

void Stack::Impl::tx(rte_mbuf* m) noexcept {
  txq[txn++] = m;
  if (txn == kTxBurst) flush();
}

void Stack::Impl::flush() noexcept {
  if (txn == 0) return;
  std::array<std::uint32_t, kTxBurst> lengths;
  for (std::uint16_t i = 0; i < txn; ++i)
    lengths[i] = txq[i]->pkt_len;
  const std::uint16_t sent = io.tx_burst(txq.data(), txn);
  for (std::uint16_t i = 0; i < sent; ++i)
    ctr.tx_bytes += lengths[i];
  ctr.tx_packets += sent;
  // Free the unsent tail (DPDK basicfwd): TCP retransmits what mattered.
  for (std::uint16_t i = sent; i < txn; ++i)
    drop(txq[i], DropReason::kTxFull);
  txn = 0;
}

void Stack::Impl::run_timers() noexcept {
  wheel.advance(now);
  TimerWheel::Entry e;
  while (wheel.pop_due(e)) {
    Tcb* t = slot(e.id);
    if (t == nullptr || t->scheduled != e.deadline) continue;
    t->scheduled = kNever;
    tcp_timer(*t);
  }
  if (now >= next_arp_expire) {
    arp.expire(now);
    std::size_t kept = 0;
    for (std::size_t i = 0; i < arp_pending_count; ++i) {
      if (now - arp_pending[i].since >= kArpPendingTimeout) {
        drop(arp_pending[i].m, DropReason::kArpUnresolved);
      } else {
        arp_pending[kept++] = arp_pending[i];
      }
    }
    arp_pending_count = kept;
    next_arp_expire = now + kArpExpireInterval;
  }
}

// ---- Stack (public API) ----

Stack::Stack(const StackConfig& config, PacketIo& io, PacketPool& pool, TimeUs now)
    : impl_(std::make_unique<Impl>(config, io, pool, now)) {}

Stack::~Stack() = default;

namespace {
void prefetch_frame(const rte_mbuf* m) noexcept {
  const auto* p = rte_pktmbuf_mtod(m, const char*);
  // A frame whose TCP checksum the port verified is read here only as far as
  // its headers; its payload is fetched right before its reader needs it
  // (StackLoop::look_ahead), not now, where a burst's worth would push it
  // out of L1 before use.
  const bool verified = (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD;
  const std::uint32_t upto =
      verified ? std::min<std::uint32_t>(m->data_len, 2 * RTE_CACHE_LINE_SIZE) : m->data_len;
  for (std::uint32_t off = 0; off < upto; off += RTE_CACHE_LINE_SIZE)
    rte_prefetch0(p + off);
}
}  // namespace

unsigned Stack::poll(TimeUs now) noexcept {
  Impl& s = *impl_;
  s.now = std::max(s.now, now);
  std::array<rte_mbuf*, 32> burst;
  const std::uint16_t n = s.io.rx_burst(burst.data(), static_cast<std::uint16_t>(burst.size()));
  // The frames were just written by another core (the NIC's DMA, or the peer
  // lcore on a ring port): every cache line of a frame misses on first touch,
  // which is the checksum. Prefetching the whole next frame while this one is
  // processed overlaps those misses instead of taking them one line at a time.
  if (n > 0) prefetch_frame(burst[0]);
  for (std::uint16_t i = 0; i < n; ++i) {
    if (i + 2 < n) rte_prefetch0(burst[i + 2]);
    if (i + 1 < n) prefetch_frame(burst[i + 1]);
    s.input(burst[i]);
  }
  s.tcp_after_burst();
  s.run_timers();
  s.tcp_after_burst();
  s.flush();
  return n;
}

void Stack::input(rte_mbuf* frame) noexcept {
  impl_->input(frame);
  impl_->tcp_after_burst();
}

void Stack::flush() noexcept {
  impl_->flush();
}

TimeUs Stack::next_deadline() const noexcept {
  return impl_->wheel.earliest();
}

TimeUs Stack::now() const noexcept {
  return impl_->now;
}

void Stack::announce() noexcept {
  // Gratuitous ARP: a request for our own address (RFC 5227 §2.3).
  impl_->send_arp(wire::kArpRequest, MacAddress::broadcast(), MacAddress{}, impl_->cfg.ip);
  impl_->flush();
}

const StackCounters& Stack::counters() const noexcept {
  return impl_->ctr;
}

std::size_t Stack::connection_count() const noexcept {
  return impl_->live;
}

std::size_t Stack::arp_cache_size() const noexcept {
  return impl_->arp.size();
}

const StackConfig& Stack::config() const noexcept {
  return impl_->cfg;
}

void Stack::take_events(std::vector<Event>& out) {
  Impl& s = *impl_;
  for (const std::uint32_t index : s.event_list) {
    Tcb& t = s.tcbs[index];
    t.event_queued = false;
    // A slot reused since it was queued carries only its new connection's
    // events (tcb_create clears pending_events).
    if (!t.in_use) continue;
    const std::uint8_t bits = t.pending_events;
    t.pending_events = 0;
    if (!t.attached) continue;
    for (std::uint8_t e = 0; e <= static_cast<std::uint8_t>(EventType::kReset); ++e) {
      if (bits & (1u << e))
        out.push_back(Event{static_cast<EventType>(e), ConnId{index, t.generation}, t.local_port});
    }
  }
  s.event_list.clear();
}

}  // namespace mxdp::dataplane
