#include "tools/mxdp/dpdk_backend.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <mutex>
#include <stdexcept>

#include "dataplane/counters.hpp"
#include "dataplane/eal.hpp"
#include "dataplane/packet_pool.hpp"
#include "dataplane/port.hpp"
#include "dataplane/redirect.hpp"
#include "dataplane/stack_loop.hpp"

namespace mxdp::cli {

using namespace dataplane;

namespace {

constexpr unsigned kMbufBytes = 2048 + 128 + 192;  // data room, headroom, rte_mbuf and pool overhead

bool has_any(const std::vector<std::string>& args, std::initializer_list<std::string_view> names) {
  for (const auto& a : args)
    for (auto n : names)
      if (a == n || (a.starts_with(n) && a.size() > n.size() && (a[n.size()] == '=' || n.size() == 2)))
        return true;
  return false;
}

// "10.99.0.2/24" -> address and prefix length.
bool parse_cidr(const std::string& text, Ipv4Address& ip, std::uint8_t& prefix) {
  auto slash = text.find('/');
  auto a = Ipv4Address::parse(std::string_view(text).substr(0, slash));
  if (!a) return false;
  ip = *a;
  prefix = 24;
  if (slash == std::string::npos) return true;
  unsigned p = 0;
  auto rest = std::string_view(text).substr(slash + 1);
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), p);
  if (ec != std::errc() || end != rest.data() + rest.size() || p == 0 || p > 32) return false;
  prefix = static_cast<std::uint8_t>(p);
  return true;
}

// The largest pool mxdp makes: about 10 GB of packet buffers.
constexpr std::uint64_t kMaxPoolMbufs = (1u << 22) - 1;

// What the queues need: per queue RX descriptors, packets in flight and
// receive queues; per connection a few in flight.
std::uint64_t queue_mbufs(unsigned workers, unsigned connections) {
  return std::uint64_t{workers} * 8192 + std::uint64_t{connections} * 16;
}

// 2^n - 1 (the mempool ring's best size), at least `want`.
std::uint32_t pool_size(std::uint64_t want) {
  std::uint64_t n = 1;
  while (n - 1 < want)
    n <<= 1;
  return static_cast<std::uint32_t>(std::min(n - 1, kMaxPoolMbufs));
}

void add_stack_counters(std::map<std::string, std::uint64_t>& out, const std::string& side,
                        const StackCounters& c) {
  out[side + ".rx_packets"] += c.rx_packets;
  out[side + ".tx_packets"] += c.tx_packets;
  out[side + ".rx_bytes"] += c.rx_bytes;
  out[side + ".tx_bytes"] += c.tx_bytes;
  out[side + ".drops"] += c.total_drops();
  out[side + ".tcp_active_opens"] += c.tcp_active_opens;
  out[side + ".tcp_passive_opens"] += c.tcp_passive_opens;
  out[side + ".tcp_retransmits"] += c.tcp_retransmits;
  out[side + ".tcp_rsts_sent"] += c.tcp_rsts_sent;
  out[side + ".tcp_rsts_received"] += c.tcp_rsts_received;
  out[side + ".tcp_challenge_acks_suppressed"] += c.tcp_challenge_acks_suppressed;
  out[side + ".tcp_tso_sends"] += c.tcp_tso_sends;
  for (std::size_t r = 0; r < c.drops.size(); ++r)
    if (c.drops[r] != 0)
      out[side + ".drop." + std::string(drop_reason_name(static_cast<DropReason>(r)))] += c.drops[r];
}

void add_port_counters(std::map<std::string, std::uint64_t>& out, const std::string& prefix, const Port& p) {
  PortStats s = p.stats();
  out[prefix + ".rx_packets"] += s.rx_packets;
  out[prefix + ".tx_packets"] += s.tx_packets;
  out[prefix + ".rx_bytes"] += s.rx_bytes;
  out[prefix + ".tx_bytes"] += s.tx_bytes;
  out[prefix + ".rx_missed"] += s.rx_missed;
  out[prefix + ".rx_no_mbuf"] += s.rx_no_mbuf;
  out[prefix + ".tx_errors"] += s.tx_errors;
}

// Final stack counters, collected as loops are destroyed (on any thread).
struct CounterBox {
  std::mutex mutex;
  std::map<std::string, std::uint64_t> values;
  // Sums over the side's queues, and per queue (`side.q<N>.…`) the few a
  // person compares between queues: is RSS spreading the load evenly?
  std::function<void(const StackCounters&, const LoopUsage&)> collector(std::string side, unsigned queue) {
    return [this, side, queue](const StackCounters& c, const LoopUsage& u) {
      std::lock_guard lock(mutex);
      add_stack_counters(values, side, c);
      ++values[side + ".queues"];
      values[side + ".loop_busy_us"] += u.busy_us;
      values[side + ".loop_total_us"] += u.total_us;
      values[side + ".loop_iterations"] += u.iterations;
      values[side + ".loop_busy_iterations"] += u.busy_iterations;
      values[side + ".reads_unlent"] += u.reads_unlent;
      const std::string q = side + ".q" + std::to_string(queue);
      values[q + ".rx_packets"] = c.rx_packets;
      values[q + ".tx_packets"] = c.tx_packets;
      values[q + ".drops"] = c.total_drops();
      values[q + ".loop_busy_us"] = u.busy_us;
    };
  }
};

StackConfig stack_config(const Port& port, Ipv4Address ip, std::uint8_t prefix, unsigned mtu) {
  StackConfig c;
  c.mac = port.mac();
  c.ip = ip;
  c.prefix_length = prefix;
  c.mtu = static_cast<std::uint16_t>(mtu);
  c.tx_ipv4_checksum_offload = port.caps().tx_ipv4_checksum;
  c.tx_tcp_checksum_offload = port.caps().tx_tcp_checksum;
  c.rx_checksum_offload = port.caps().rx_checksum;
  // TSO where the port does it (net_tap, most NICs): one chain of up to 64 KiB
  // per send instead of one packet per MSS (dataplane/stack.hpp).
  c.tso = port.caps().tso;
  if (port.caps().tso_max_mbufs != 0) c.tso_max_mbufs = port.caps().tso_max_mbufs;
  c.tso_max_frame = port.caps().tso_max_frame;
  return c;
}

}  // namespace

std::size_t dpdk_worker_lcores() {
  return worker_lcore_cpus().size();
}

std::uint64_t mailbox_pinned_mbufs(unsigned shards, std::uint64_t log_bytes) {
  // The lease of a lent body counts each buffer at its data room
  // (RTE_MBUF_DEFAULT_BUF_SIZE, dataplane/stack_loop.cpp), so a log within
  // its budget pins at most this many.
  return std::uint64_t{shards} * (log_bytes / PacketPoolConfig{}.data_room);
}

unsigned pool_mbufs(unsigned workers, unsigned connections, std::uint64_t pinned) {
  return pool_size(queue_mbufs(workers, connections) + pinned);
}

// A pool capped below what the mailbox logs may pin lets them hold every
// buffer: the queues starve and no delivery comes to evict. Refuse it.
std::string check_pool_mbufs(unsigned workers, unsigned connections, std::uint64_t pinned) {
  if (queue_mbufs(workers, connections) + pinned <= kMaxPoolMbufs) return "";
  return fmt::format(
      "the mailbox logs may pin {} packet buffers, too many beside the queues' {} for the largest pool "
      "mxdp makes ({}): lower --mailbox-log (it is per shard) or --shards",
      pinned, queue_mbufs(workers, connections), kMaxPoolMbufs);
}

unsigned eal_memory_for(unsigned mbufs) {
  return 256 + static_cast<unsigned>((std::uint64_t{mbufs} * kMbufBytes) >> 20);
}

std::string start_dpdk(const std::vector<std::string>& user, unsigned memory_mb) {
  if (eal_started()) return "";
  // mxdp's defaults (eal.hpp), then the user's EAL arguments; a default the
  // user set another way is left out.
  EalOptions o;
  o.memory_mb = memory_mb;
  if (has_any(user, {"--no-huge"})) o.hugepages = EalOptions::Huge::kNo;
  o.pci = has_any(user, {"-a", "--allow", "-b", "--block", "--no-pci"});
  o.extra = user;
  bool user_lcores = has_any(user, {"-l", "--lcores", "-c"});
  bool user_size = has_any(user, {"-m", "--socket-mem"});
  bool user_mode = has_any(user, {"--no-huge", "--in-memory", "--huge-dir"});
  bool user_prefix = has_any(user, {"--file-prefix"});
  std::vector<std::string> argv = eal_arguments(o), merged;
  std::size_t user_from = argv.size() - user.size();
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (i < user_from) {
      if ((user_lcores && a == "-l") || (user_size && a == "-m")) {
        ++i;  // and its value
        continue;
      }
      if (user_mode && (a == "--no-huge" || a == "--in-memory")) continue;
      if (user_prefix && a.starts_with("--file-prefix")) continue;
    }
    merged.push_back(a);
  }
  try {
    start_eal(merged);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// ---------------------------------------------------------------------------

struct DpdkPortBackend::Impl {
  DpdkConfig config;
  std::unique_ptr<PacketPool> pool;
  std::unique_ptr<Port> port;
  std::vector<std::unique_ptr<PortQueue>> queues;
  // A port without RSS and several workers: one RX queue, spread in software.
  std::unique_ptr<RedirectGroup> redirect;
  unsigned workers = 0;
  StackConfig base;
  CounterBox counters;

  ~Impl() {
    // The group's rings hold mbufs of the pool: free them before the pool goes.
    redirect.reset();
    port.reset();
  }
  PacketIo& io(unsigned index) {
    if (redirect) return redirect->io(index);
    return *queues.at(index);
  }
};

DpdkPortBackend::DpdkPortBackend() : impl_(std::make_unique<Impl>()) {}
DpdkPortBackend::~DpdkPortBackend() = default;

std::string DpdkPortBackend::open(const DpdkConfig& c, unsigned workers, std::uint64_t pinned_mbufs) {
  Impl& m = *impl_;
  m.config = c;
  Ipv4Address ip;
  std::uint8_t prefix = 24;
  if (c.ip.empty()) return "the dpdk backend needs the stack's address: --dpdk-ip A.B.C.D/PREFIX";
  if (!parse_cidr(c.ip, ip, prefix)) return "bad --dpdk-ip '" + c.ip + "': expected A.B.C.D/PREFIX";
  std::optional<Ipv4Address> gateway;
  if (!c.gateway.empty()) {
    gateway = Ipv4Address::parse(c.gateway);
    if (!gateway) return "bad --dpdk-gateway '" + c.gateway + "': expected A.B.C.D";
  }
  // A frame must fit one mbuf (the stack drops multi-segment packets) and the
  // port's MTU is left at its 1500 default: no jumbo frames yet.
  if (c.mtu < 576 || c.mtu > 1500)
    return "--dpdk-mtu must be between 576 and 1500 (jumbo frames are not supported yet)";
  if (Port::count() == 0)
    return "no DPDK port: name one in the EAL arguments (e.g. mxdp serve --vdev=net_tap0,iface=mxdp0 -- "
           "...), or bind a NIC to vfio-pci (docs/DEPLOY.md)";
  std::uint16_t port_id = 0;
  if (!c.port.empty()) {
    auto found = Port::find(c.port);
    unsigned n = 0;
    auto [end, ec] = std::from_chars(c.port.data(), c.port.data() + c.port.size(), n);
    if (found) {
      port_id = *found;
    } else if (ec == std::errc() && end == c.port.data() + c.port.size() && n < Port::count()) {
      port_id = static_cast<std::uint16_t>(n);
    } else {
      return "no DPDK port '" + c.port + "' (" + std::to_string(Port::count()) +
             " ports; name a --vdev or an -a PCI device in the EAL arguments)";
    }
  }
  if (c.mbufs == 0) {
    if (std::string e = check_pool_mbufs(workers, 1024 * workers, pinned_mbufs); !e.empty()) return e;
  }
  try {
    PacketPoolConfig pc;
    pc.name = "mxdp_serve";
    pc.mbufs = c.mbufs ? c.mbufs : pool_mbufs(workers, 1024 * workers, pinned_mbufs);
    m.pool = std::make_unique<PacketPool>(pc);
    PortConfig portc;
    portc.queues = static_cast<std::uint16_t>(workers);
    // No RSS (net_tap, net_af_packet, net_ring): one RX queue that worker 0
    // spreads in software (dataplane/redirect.hpp), and one TX queue that
    // worker 0 sends the others' packets on. Not a TX queue per worker: net_tap
    // opens a file descriptor per queue pair and the kernel steers flows over
    // all of them, so TX queues beyond the RX queue would leave the packets
    // of some flows on a file descriptor nobody reads.
    // net_tap advertises RSS but implements it with rte_flow (BPF), which it
    // disables when it cannot create its multiq qdisc (DPDK-HERE.md: the case
    // here): the kernel then spreads flows by its own hash, not the Toeplitz
    // hash active opens pick source ports by. So a tap takes the redirect.
    const PortCaps offered = Port::probe(port_id);
    const bool redirect = workers > 1 && (!offered.rss || offered.driver == "net_tap");
    const std::uint16_t tx_queues = 1;
    if (redirect) {
      portc.queues = 1;
      portc.tx_queues = tx_queues;
    }
    m.port = std::make_unique<Port>(port_id, *m.pool, portc);
    if (redirect) {
      m.redirect = std::make_unique<RedirectGroup>("mxdp_rdr" + std::to_string(port_id), port_id, tx_queues,
                                                   workers, *m.pool);
    }
  } catch (const std::exception& e) {
    return e.what();
  }
  if (workers > 1 && !m.redirect && !m.port->caps().rss)  // RSS offered, not enabled
    return "port " + std::to_string(port_id) + " (" + m.port->caps().driver +
           ") has no RSS to spread connections over " + std::to_string(workers) +
           " queues: use --cores 1, or a NIC with RSS";
  m.workers = workers;
  m.port->wait_link_up(3000);
  m.base = stack_config(*m.port, ip, prefix, c.mtu);
  m.base.gateway = gateway;
  if (!m.redirect) {
    for (unsigned q = 0; q < workers; ++q)
      m.queues.push_back(std::make_unique<PortQueue>(port_id, static_cast<std::uint16_t>(q)));
  }
  return "";
}

LoopFactory DpdkPortBackend::loops() {
  Impl* m = impl_.get();
  return [m](unsigned index) -> std::unique_ptr<transport::EventLoop> {
    StackConfig sc = m->base;
    if (m->redirect) {
      sc.rss = m->redirect->rss(index);
    } else if (m->queues.size() > 1) {
      sc.rss = m->port->rss(static_cast<std::uint16_t>(index));
    }
    StackLoopOptions lo;
    lo.idle_sleep_us = m->config.idle_sleep_us;
    // Under the software redirect worker 0 reads the port for every worker:
    // its idle sleep (opt-in) delays the others' packets by as much.
    // Worker i polls on the i-th worker lcore of -l when there are enough
    // (`-l 0-4` with --cores 4: main on 0, workers on 1..4); else the OS places it.
    auto cpus = worker_lcore_cpus();
    if (cpus.size() >= m->workers) lo.cpu = static_cast<int>(cpus[index]);
    lo.on_final_counters = m->counters.collector("stack", index);
    return std::make_unique<StackLoop>(sc, m->io(index), *m->pool, lo);
  };
}

std::string DpdkPortBackend::describe() const {
  const Impl& m = *impl_;
  const auto& caps = m.port->caps();
  if (m.redirect) {
    return fmt::format(
        "port {} ({}), 1 RX queue, software redirect to {} workers (TX {}), link {}, checksum offload tx {} "
        "rx "
        "{}",
        m.port->id(), caps.driver, m.workers,
        m.redirect->tx_serialized() ? "serialized through worker 0" : "queue per worker",
        m.port->link().to_string(), caps.tx_tcp_checksum ? "on" : "off", caps.rx_checksum ? "on" : "off");
  }
  return fmt::format("port {} ({}), {} queue(s), link {}, {} RSS, checksum offload tx {} rx {}", m.port->id(),
                     caps.driver, m.queues.size(), m.port->link().to_string(), caps.rss ? "with" : "no",
                     caps.tx_tcp_checksum ? "on" : "off", caps.rx_checksum ? "on" : "off");
}

void DpdkPortBackend::add_counters(RunReport& report) const {
  std::lock_guard lock(impl_->counters.mutex);
  for (auto& [k, v] : impl_->counters.values)
    report.transport_counters[k] += v;
  add_port_counters(report.transport_counters, "port", *impl_->port);
  if (const RedirectGroup* g = impl_->redirect.get()) {
    // Read after the workers stopped (each counter has one writer, its worker).
    auto& out = report.transport_counters;
    for (unsigned i = 0; i < g->size(); ++i) {
      const RedirectCounters& c = g->counters(i);
      out["redirect.kept"] += c.kept;
      out["redirect.redirected"] += c.redirected;
      out["redirect.arp_copies"] += c.arp_copies;
      out["redirect.rx_ring_full"] += c.rx_ring_full;
      out["redirect.copy_failed"] += c.copy_failed;
      out["redirect.tx_ring_full"] += c.tx_ring_full;
      out["redirect.tx_forwarded"] += c.tx_forwarded;
      out["redirect.q" + std::to_string(i) + ".received"] = c.received;
    }
  }
}

// ---------------------------------------------------------------------------

struct DpdkBenchWire::Impl {
  std::unique_ptr<PacketPool> pool;
  std::vector<std::unique_ptr<RingPortPair>> pairs;
  std::vector<std::unique_ptr<Port>> generator_ports, appliance_ports;
  std::vector<std::unique_ptr<PortQueue>> generator_queues, appliance_queues;
  CounterBox counters;
  bool checksum_offload = false;
  bool idle_yield = false;
};

namespace {
// Every pair is its own link, so every pair uses the same two addresses.
constexpr Ipv4Address kGeneratorIp = Ipv4Address::from_octets(10, 77, 0, 1);
constexpr Ipv4Address kApplianceIp = Ipv4Address::from_octets(10, 77, 0, 2);
}  // namespace

DpdkBenchWire::DpdkBenchWire() : impl_(std::make_unique<Impl>()) {}
DpdkBenchWire::~DpdkBenchWire() = default;

std::string DpdkBenchWire::open(unsigned pairs, unsigned connections, std::uint64_t pinned_mbufs,
                                bool checksum_offload, bool idle_yield) {
  Impl& m = *impl_;
  m.checksum_offload = checksum_offload;
  m.idle_yield = idle_yield;
  if (std::string e = check_pool_mbufs(2 * pairs, connections, pinned_mbufs); !e.empty()) return e;
  try {
    PacketPoolConfig pc;
    pc.name = "mxdp_bench";
    pc.mbufs = pool_mbufs(2 * pairs, connections, pinned_mbufs);
    m.pool = std::make_unique<PacketPool>(pc);
    for (unsigned i = 0; i < pairs; ++i) {
      m.pairs.push_back(std::make_unique<RingPortPair>("mxdpb" + std::to_string(i), 8192));
      PortConfig portc;
      portc.memory_link = checksum_offload;
      m.generator_ports.push_back(std::make_unique<Port>(m.pairs.back()->a(), *m.pool, portc));
      m.appliance_ports.push_back(std::make_unique<Port>(m.pairs.back()->b(), *m.pool, portc));
      m.generator_queues.push_back(std::make_unique<PortQueue>(*m.generator_ports.back(), 0));
      m.appliance_queues.push_back(std::make_unique<PortQueue>(*m.appliance_ports.back(), 0));
    }
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

BenchTransport DpdkBenchWire::transport() {
  Impl* m = impl_.get();
  auto side = [m](bool generator) -> LoopFactory {
    return [m, generator](unsigned index) -> std::unique_ptr<transport::EventLoop> {
      auto& ports = generator ? m->generator_ports : m->appliance_ports;
      auto& queues = generator ? m->generator_queues : m->appliance_queues;
      unsigned i = index % static_cast<unsigned>(ports.size());
      StackConfig sc = stack_config(*ports[i], generator ? kGeneratorIp : kApplianceIp, 24, 1500);
      StackLoopOptions lo;
      lo.idle_yield = m->idle_yield;
      lo.on_final_counters = m->counters.collector(generator ? "generator" : "appliance", i);
      return std::make_unique<StackLoop>(sc, *queues[i], *m->pool, lo);
    };
  };
  BenchTransport t;
  t.appliance_loops = side(false);
  t.generator_loops = side(true);
  t.appliance_listen = kApplianceIp.to_string() + ":25";
  t.sink_listen = kGeneratorIp.to_string() + ":2526";
  t.sink_on_generator = true;
  t.add_counters = [m](RunReport& r) {
    {
      std::lock_guard lock(m->counters.mutex);
      for (auto& [k, v] : m->counters.values)
        r.transport_counters[k] += v;
    }
    for (auto& p : m->appliance_ports)
      add_port_counters(r.transport_counters, "appliance_port", *p);
    for (auto& p : m->generator_ports)
      add_port_counters(r.transport_counters, "generator_port", *p);
    // Both sides have stopped: what the last loop sent (FINs of its
    // shutdown) waits in the rings with nobody to receive it. Drain it, so
    // what the pool misses now is a leak.
    std::uint64_t in_flight = 0;
    for (auto* queues : {&m->appliance_queues, &m->generator_queues}) {
      for (auto& q : *queues) {
        rte_mbuf* burst[32];
        while (std::uint16_t n = q->rx_burst(burst, 32)) {
          for (std::uint16_t i = 0; i < n; ++i)
            mbuf_free(burst[i]);
          in_flight += n;
        }
      }
    }
    r.transport_counters["wire.packets_in_flight_at_end"] = in_flight;
    r.transport_counters["wire.checksum_offload"] = m->checksum_offload ? 1 : 0;
    r.transport_counters["pool.mbufs"] = m->pool->capacity();
    r.transport_counters["pool.mbufs_missing_at_end"] = m->pool->capacity() - m->pool->available();
  };
  return t;
}

}  // namespace mxdp::cli
