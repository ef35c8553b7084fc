#pragma once
// An mbuf pool (rte_pktmbuf_pool) per socket, sized from config. The handle is
// opaque above the dataplane: `struct rte_mempool` is only declared here.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

struct rte_mempool;
struct rte_mbuf;

namespace mxdp::dataplane {

struct PacketPoolConfig {
  std::string name = "mxdp_pool";
  std::uint32_t mbufs = 16383;           // best as 2^n - 1 (rte_mempool ring sizing)
  std::uint32_t cache = 256;             // per-lcore cache
  std::uint16_t data_room = 2048 + 128;  // RTE_MBUF_DEFAULT_BUF_SIZE
  int socket = -1;                       // -1: SOCKET_ID_ANY
};

class PacketPool {
 public:
  // Throws std::runtime_error naming the fix (more memory: -m, hugepages).
  explicit PacketPool(const PacketPoolConfig& config);
  ~PacketPool();
  PacketPool(const PacketPool&) = delete;
  PacketPool& operator=(const PacketPool&) = delete;

  rte_mempool* raw() const noexcept { return pool_; }
  std::uint32_t capacity() const noexcept;
  // Mbufs in the pool now (including per-lcore caches): capacity() when every
  // mbuf has come back.
  std::uint32_t available() const noexcept;

 private:
  rte_mempool* pool_ = nullptr;
};

// Helpers for tests and tools that must build or read packets without DPDK
// headers. Returns nullptr when the pool is empty or the bytes do not fit.
rte_mbuf* mbuf_from_bytes(PacketPool& pool, std::span<const std::uint8_t> bytes) noexcept;
std::span<const std::uint8_t> mbuf_bytes(const rte_mbuf* m) noexcept;  // first segment
std::uint32_t mbuf_length(const rte_mbuf* m) noexcept;                 // whole packet
void mbuf_free(rte_mbuf* m) noexcept;
// The whole packet, every segment of a chain.
std::vector<std::uint8_t> mbuf_copy(const rte_mbuf* m);

// What a packet asks of the port's TX offloads.
struct MbufTxOffloads {
  bool tcp_segmentation = false;  // RTE_MBUF_F_TX_TCP_SEG
  bool tcp_checksum = false;      // RTE_MBUF_F_TX_TCP_CKSUM
  bool ipv4 = false;              // RTE_MBUF_F_TX_IPV4
  bool ip_checksum = false;       // RTE_MBUF_F_TX_IP_CKSUM
  std::uint16_t tso_segsz = 0;
  std::uint16_t l2_len = 0, l3_len = 0, l4_len = 0;
  std::uint16_t segments = 0;  // mbufs in the chain
};
MbufTxOffloads mbuf_tx_offloads(const rte_mbuf* m) noexcept;
// Asks the port to fill in the IPv4 and/or TCP checksum (as the stack does
// with StackConfig's offloads).
void mbuf_request_checksums(rte_mbuf* m, bool ip, bool tcp) noexcept;

// What the port reported of a received packet's checksums.
enum class RxChecksum { kUnknown, kGood, kBad, kNone };
struct MbufRxChecksums {
  RxChecksum ip = RxChecksum::kUnknown;
  RxChecksum l4 = RxChecksum::kUnknown;
};
MbufRxChecksums mbuf_rx_checksums(const rte_mbuf* m) noexcept;

}  // namespace mxdp::dataplane
