#include "dataplane/packet_pool.hpp"

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstring>
#include <stdexcept>

namespace mxdp::dataplane {

PacketPool::PacketPool(const PacketPoolConfig& c) {
  pool_ = rte_pktmbuf_pool_create(c.name.c_str(), c.mbufs, c.cache, 0, c.data_room,
                                  c.socket < 0 ? SOCKET_ID_ANY : c.socket);
  if (pool_ == nullptr) {
    throw std::runtime_error("cannot create mbuf pool '" + c.name + "' of " + std::to_string(c.mbufs) +
                             " mbufs: " + rte_strerror(rte_errno) +
                             ". Give the EAL more memory (-m 1024 with --no-huge, or reserve more hugepages) "
                             "or lower the pool size in the config; pool names must be unique per process.");
  }
}

PacketPool::~PacketPool() {
  rte_mempool_free(pool_);
}

std::uint32_t PacketPool::capacity() const noexcept {
  return pool_->size;
}

std::uint32_t PacketPool::available() const noexcept {
  return rte_mempool_avail_count(pool_);
}

rte_mbuf* mbuf_from_bytes(PacketPool& pool, std::span<const std::uint8_t> bytes) noexcept {
  rte_mbuf* m = rte_pktmbuf_alloc(pool.raw());
  if (m == nullptr) return nullptr;
  char* p = rte_pktmbuf_append(m, static_cast<std::uint16_t>(bytes.size()));
  if (p == nullptr || bytes.size() > UINT16_MAX) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
  return m;
}

std::span<const std::uint8_t> mbuf_bytes(const rte_mbuf* m) noexcept {
  return {rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len};
}

std::uint32_t mbuf_length(const rte_mbuf* m) noexcept {
  return m->pkt_len;
}

void mbuf_free(rte_mbuf* m) noexcept {
  rte_pktmbuf_free(m);
}

std::vector<std::uint8_t> mbuf_copy(const rte_mbuf* m) {
  std::vector<std::uint8_t> out;
  out.reserve(m->pkt_len);
  for (const rte_mbuf* s = m; s != nullptr; s = s->next) {
    const auto* p = rte_pktmbuf_mtod(s, const std::uint8_t*);
    out.insert(out.end(), p, p + s->data_len);
  }
  return out;
}

MbufTxOffloads mbuf_tx_offloads(const rte_mbuf* m) noexcept {
  MbufTxOffloads o;
  o.tcp_segmentation = (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0;
  o.tcp_checksum = (m->ol_flags & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM;
  o.ipv4 = (m->ol_flags & RTE_MBUF_F_TX_IPV4) != 0;
  o.ip_checksum = (m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) != 0;
  o.tso_segsz = m->tso_segsz;
  o.l2_len = m->l2_len;
  o.l3_len = m->l3_len;
  o.l4_len = m->l4_len;
  o.segments = m->nb_segs;
  return o;
}

void mbuf_request_checksums(rte_mbuf* m, bool ip, bool tcp) noexcept {
  if (ip || tcp) m->ol_flags |= RTE_MBUF_F_TX_IPV4;
  if (ip) m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
  if (tcp) m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
}

namespace {
RxChecksum rx_checksum(std::uint64_t flags, std::uint64_t good, std::uint64_t bad) noexcept {
  if ((flags & (good | bad)) == (good | bad)) return RxChecksum::kNone;
  if (flags & good) return RxChecksum::kGood;
  if (flags & bad) return RxChecksum::kBad;
  return RxChecksum::kUnknown;
}
}  // namespace

MbufRxChecksums mbuf_rx_checksums(const rte_mbuf* m) noexcept {
  return {rx_checksum(m->ol_flags, RTE_MBUF_F_RX_IP_CKSUM_GOOD, RTE_MBUF_F_RX_IP_CKSUM_BAD),
          rx_checksum(m->ol_flags, RTE_MBUF_F_RX_L4_CKSUM_GOOD, RTE_MBUF_F_RX_L4_CKSUM_BAD)};
}

}  // namespace mxdp::dataplane
