#include "dataplane/port.hpp"

#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

#include "dataplane/packet_pool.hpp"

namespace mxdp::dataplane {

namespace {
[[noreturn]] void fail(std::uint16_t port, const std::string& what, int rc, const std::string& fix) {
  throw std::runtime_error("port " + std::to_string(port) + ": " + what + " failed (" + rte_strerror(-rc) +
                           "). " + fix);
}
}  // namespace

std::string LinkStatus::to_string() const {
  if (!up) return "down";
  return "up " + std::to_string(speed_mbps) + " Mbps " + (full_duplex ? "full-duplex" : "half-duplex");
}

std::optional<std::uint16_t> Port::find(std::string_view name) noexcept {
  std::uint16_t id = 0;
  std::string n(name);
  if (rte_eth_dev_get_port_by_name(n.c_str(), &id) != 0) return std::nullopt;
  return id;
}

std::uint16_t Port::count() noexcept {
  return rte_eth_dev_count_avail();
}

PortCaps Port::probe(std::uint16_t port_id) {
  PortCaps caps;
  rte_eth_dev_info info{};
  if (!rte_eth_dev_is_valid_port(port_id) || rte_eth_dev_info_get(port_id, &info) != 0) return caps;
  caps.driver = info.driver_name != nullptr ? info.driver_name : "";
  caps.max_rx_queues = info.max_rx_queues;
  caps.max_tx_queues = info.max_tx_queues;
  caps.rss = info.max_rx_queues > 1 &&
             (info.flow_type_rss_offloads & (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP)) != 0;
  return caps;
}

Port::Port(std::uint16_t port_id, PacketPool& pool, const PortConfig& config) : id_(port_id) {
  if (!rte_eth_dev_is_valid_port(port_id)) {
    throw std::runtime_error(
        "port " + std::to_string(port_id) +
        " does not exist: bind the NIC to vfio-pci (dpdk-devbind.py -b vfio-pci <pci>) or "
        "pass a --vdev (net_tap0,iface=NAME / net_ring0)");
  }
  rte_eth_dev_info info{};
  int rc = rte_eth_dev_info_get(port_id, &info);
  if (rc != 0) fail(port_id, "rte_eth_dev_info_get", rc, "Is the port bound to a DPDK driver?");
  caps_.driver = info.driver_name != nullptr ? info.driver_name : "";
  caps_.max_rx_queues = info.max_rx_queues;
  caps_.max_tx_queues = info.max_tx_queues;
  const std::uint16_t tx_queues = config.tx_queues != 0 ? config.tx_queues : config.queues;
  if (config.queues > info.max_rx_queues || tx_queues > info.max_tx_queues) {
    throw std::runtime_error("port " + std::to_string(port_id) + " (" + caps_.driver + ") has " +
                             std::to_string(info.max_rx_queues) + " RX / " +
                             std::to_string(info.max_tx_queues) + " TX queues but " +
                             std::to_string(config.queues) + " RX / " + std::to_string(tx_queues) +
                             " are wanted: run with fewer lcores (-l) or use a NIC with more queues");
  }

  rte_eth_conf conf{};
  // RSS over IPv4/TCP spreads flows over the lcores' queues; the stack picks
  // active-open source ports with the same hash (DESIGN.md).
  const std::uint64_t rss_hf =
      info.flow_type_rss_offloads & (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP);
  if (config.queues > 1 && rss_hf != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
    caps_.rss = true;
  }
  if (config.use_offloads) {
    const auto tx = info.tx_offload_capa;
    const auto rx = info.rx_offload_capa;
    if (tx & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
      conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
      caps_.tx_ipv4_checksum = true;
    }
    if (tx & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) {
      conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
      caps_.tx_tcp_checksum = true;
    }
    if ((rx & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) && (rx & RTE_ETH_RX_OFFLOAD_TCP_CKSUM)) {
      conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
      caps_.rx_checksum = true;
    }
    if (config.memory_link) {
      if (caps_.driver != "net_ring")
        throw std::runtime_error("port " + std::to_string(port_id) + " (" + caps_.driver +
                                 ") is not a ring port: only a RingPortPair is an in-memory link");
      // Nothing to configure in the ring PMD: the PortQueues do the port's part.
      caps_.tx_ipv4_checksum = caps_.tx_tcp_checksum = caps_.rx_checksum = true;
      caps_.memory_link = true;
    }
    // TSO: the port fills in every segment's checksums, and a super-segment
    // is a chain of mbufs.
    if (config.tso && (tx & RTE_ETH_TX_OFFLOAD_TCP_TSO) && (tx & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) &&
        caps_.tx_ipv4_checksum && caps_.tx_tcp_checksum) {
      conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
      caps_.tso = true;
      const std::uint16_t segs = info.tx_desc_lim.nb_seg_max;
      caps_.tso_max_mbufs = segs == 0 ? 64 : std::min<std::uint16_t>(segs, 64);
    }
  }
  rc = rte_eth_dev_configure(port_id, config.queues, tx_queues, &conf);
  if (rc != 0)
    fail(port_id, "rte_eth_dev_configure", rc, "Check the queue count and offloads the port supports.");
  std::uint16_t rxd = config.rx_descriptors, txd = config.tx_descriptors;
  rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rxd, &txd);
  const int socket = rte_eth_dev_socket_id(port_id);
  for (std::uint16_t q = 0; q < config.queues; ++q) {
    rte_eth_rxconf rxconf = info.default_rxconf;
    rxconf.offloads = conf.rxmode.offloads;
    rc = rte_eth_rx_queue_setup(port_id, q, rxd, socket < 0 ? SOCKET_ID_ANY : socket, &rxconf, pool.raw());
    if (rc != 0) fail(port_id, "rx queue setup", rc, "Lower rx_descriptors or enlarge the mbuf pool.");
  }
  for (std::uint16_t q = 0; q < tx_queues; ++q) {
    rte_eth_txconf txconf = info.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    rc = rte_eth_tx_queue_setup(port_id, q, txd, socket < 0 ? SOCKET_ID_ANY : socket, &txconf);
    if (rc != 0) fail(port_id, "tx queue setup", rc, "Lower tx_descriptors.");
  }
  rte_ether_addr addr{};
  rte_eth_macaddr_get(port_id, &addr);
  std::memcpy(mac_.bytes.data(), addr.addr_bytes, 6);
  if (mac_ == MacAddress{}) {
    // Ring ports have no address: use a locally administered one per port.
    mac_ = MacAddress{{0x02, 0x6d, 0x78, 0x64, static_cast<std::uint8_t>(port_id >> 8),
                       static_cast<std::uint8_t>(port_id)}};
  }
  rc = rte_eth_dev_start(port_id);
  if (rc != 0) fail(port_id, "rte_eth_dev_start", rc, "Is the device in use by another process?");
  if (caps_.tso) {
    std::uint16_t mtu = RTE_ETHER_MTU;
    rte_eth_dev_get_mtu(port_id, &mtu);
    // A NIC cuts segments of up to MTU bytes of IP packet. net_tap (DPDK
    // 22.11, rte_eth_tap.c pmd_tx_burst) refuses a TSO packet whose
    // tso_segsz + l2_len + l3_len + l4_len exceeds the MTU: it counts the
    // Ethernet header too, so its segments must be 14 bytes shorter.
    caps_.tso_max_frame =
        static_cast<std::uint16_t>(caps_.driver == "net_tap" ? mtu : mtu + RTE_ETHER_HDR_LEN);
  }
  if (config.promiscuous) rte_eth_promiscuous_enable(port_id);
}

Port::~Port() {
  rte_eth_dev_stop(id_);
  rte_eth_dev_close(id_);
}

LinkStatus Port::link() const noexcept {
  rte_eth_link l{};
  LinkStatus s;
  if (rte_eth_link_get_nowait(id_, &l) != 0) return s;
  s.up = l.link_status == RTE_ETH_LINK_UP;
  s.speed_mbps = l.link_speed;
  s.full_duplex = l.link_duplex == RTE_ETH_LINK_FULL_DUPLEX;
  return s;
}

bool Port::wait_link_up(unsigned timeout_ms) const noexcept {
  for (unsigned waited = 0;; waited += 10) {
    if (link().up) return true;
    if (waited >= timeout_ms) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

PortStats Port::stats() const noexcept {
  rte_eth_stats st{};
  PortStats s;
  if (rte_eth_stats_get(id_, &st) != 0) return s;
  s.rx_packets = st.ipackets;
  s.tx_packets = st.opackets;
  s.rx_bytes = st.ibytes;
  s.tx_bytes = st.obytes;
  s.rx_missed = st.imissed;
  s.rx_errors = st.ierrors;
  s.tx_errors = st.oerrors;
  s.rx_no_mbuf = st.rx_nombuf;
  return s;
}

std::optional<RssConfig> Port::rss(std::uint16_t queue) const {
  if (!caps_.rss) return std::nullopt;
  RssConfig r;
  r.queue = queue;
  r.key.resize(64);
  rte_eth_rss_conf conf{};
  conf.rss_key = r.key.data();
  conf.rss_key_len = static_cast<std::uint8_t>(r.key.size());
  if (rte_eth_dev_rss_hash_conf_get(id_, &conf) != 0) return std::nullopt;
  r.key.resize(conf.rss_key_len);
  rte_eth_dev_info info{};
  if (rte_eth_dev_info_get(id_, &info) != 0 || info.reta_size == 0) return std::nullopt;
  std::vector<rte_eth_rss_reta_entry64> reta((info.reta_size + RTE_ETH_RETA_GROUP_SIZE - 1) /
                                             RTE_ETH_RETA_GROUP_SIZE);
  for (auto& e : reta)
    e.mask = ~0ULL;
  if (rte_eth_dev_rss_reta_query(id_, reta.data(), info.reta_size) != 0) return std::nullopt;
  r.reta.resize(info.reta_size);
  for (std::uint16_t i = 0; i < info.reta_size; ++i) {
    r.reta[i] = reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
  }
  return r;
}

std::uint16_t PortQueue::rx_burst(rte_mbuf** pkts, std::uint16_t n) noexcept {
  const std::uint16_t got = rte_eth_rx_burst(port_, queue_, pkts, n);
  if (memory_link_) {
    // What a NIC with RX checksum offload reports, for frames whose sender
    // left the checksums to the port (PortConfig::memory_link). The TX
    // requests are cleared: they were the other side's.
    for (std::uint16_t i = 0; i < got; ++i) {
      rte_mbuf* m = pkts[i];
      const std::uint64_t tx = m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK;
      if (tx == 0) continue;
      std::uint64_t rx = 0;
      if (tx & RTE_MBUF_F_TX_IP_CKSUM) rx |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
      if ((tx & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM) rx |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
      m->ol_flags = (m->ol_flags & ~RTE_MBUF_F_TX_OFFLOAD_MASK) | rx;
    }
  }
  return got;
}

std::uint16_t PortQueue::tx_burst(rte_mbuf** pkts, std::uint16_t n) noexcept {
  return rte_eth_tx_burst(port_, queue_, pkts, n);
}

RingPortPair::RingPortPair(std::string_view name, unsigned ring_size, std::uint16_t b_tx_queues) {
  const std::string base(name);
  if (b_tx_queues == 0) throw std::invalid_argument("RingPortPair: port b needs at least one TX queue");
  rte_ring* ab =
      rte_ring_create((base + "_ab").c_str(), ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  // b's TX queues may be used by as many lcores at once: one ring, several producers.
  rte_ring* ba = rte_ring_create((base + "_ba").c_str(), ring_size, SOCKET_ID_ANY,
                                 b_tx_queues > 1 ? RING_F_SC_DEQ : RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (ab == nullptr || ba == nullptr) {
    rte_ring_free(ab);
    rte_ring_free(ba);
    throw std::runtime_error("cannot create rings for port pair '" + base + "': " + rte_strerror(rte_errno) +
                             " (names must be unique; give the EAL more memory with -m)");
  }
  rings_[0] = ab;
  rings_[1] = ba;
  // Port a receives what b sends (ring ba) and sends into ab; b the reverse.
  const int a = rte_eth_from_rings((base + "_a").c_str(), &ba, 1, &ab, 1, SOCKET_ID_ANY);
  std::vector<rte_ring*> b_tx(b_tx_queues, ba);
  const int b = rte_eth_from_rings((base + "_b").c_str(), &ab, 1, b_tx.data(), b_tx_queues, SOCKET_ID_ANY);
  if (a < 0 || b < 0) {
    throw std::runtime_error("rte_eth_from_rings failed for '" + base + "': " + rte_strerror(rte_errno) +
                             " (link with -lrte_net_ring; the EAL must be started)");
  }
  a_ = static_cast<std::uint16_t>(a);
  b_ = static_cast<std::uint16_t>(b);
}

RingPortPair::~RingPortPair() {
  // The ports are closed by their Port objects; the rings outlive them.
  rte_ring_free(static_cast<rte_ring*>(rings_[0]));
  rte_ring_free(static_cast<rte_ring*>(rings_[1]));
}

}  // namespace mxdp::dataplane
