// The dataplane stack against Linux loopback sockets, side by side in one
// binary: request/response (64-byte messages, one connection), bulk transfer
// (one connection, Gbit/s) and connection setup + teardown (connections/s).
// DPDK: two stacks over the in-process ring port pair, both polled by this one
// thread (so "per core" covers both ends). Kernel: the same workloads over
// 127.0.0.1 sockets in one thread. Needs root (EAL with --no-huge).
//
//   build/release/bench/dataplane_stack_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true

#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "dataplane/eal.hpp"
#include "dataplane/packet_pool.hpp"
#include "dataplane/port.hpp"
#include "dataplane/stack.hpp"
#include "dataplane/tsc_clock.hpp"

namespace mxdp::dataplane {
namespace {

constexpr std::size_t kMsg = 64;

// EAL, pool, ring ports and two stacks, created once for the process.
struct DpdkPair {
  explicit DpdkPair(std::uint16_t mtu, const std::string& name) {
    if (!eal_started()) {
      EalOptions eal;
      eal.memory_mb = 1024;
      start_eal(eal);
    }
    PacketPoolConfig pc;
    pc.name = name + "_pool";
    pc.mbufs = mtu > 1500 ? 16383 : 65535;
    pc.data_room = static_cast<std::uint16_t>(std::max(2048, mtu + 64) + 128);
    pool = std::make_unique<PacketPool>(pc);
    ring = std::make_unique<RingPortPair>(name, 8192);
    pa = std::make_unique<Port>(ring->a(), *pool, PortConfig{});
    pb = std::make_unique<Port>(ring->b(), *pool, PortConfig{});
    qa = std::make_unique<PortQueue>(pa->id(), 0);
    qb = std::make_unique<PortQueue>(pb->id(), 0);
    StackConfig ca, cb;
    ca.mac = pa->mac();
    cb.mac = pb->mac();
    ca.ip = Ipv4Address::from_octets(10, 0, 0, 1);
    cb.ip = Ipv4Address::from_octets(10, 0, 0, 2);
    for (StackConfig* c : {&ca, &cb}) {
      c->send_buffer = 1 << 20;
      c->receive_buffer = 1 << 20;
      c->time_wait = 1'000;  // connection-rate runs recycle ports quickly
      c->delayed_ack = 1'000;
      c->mtu = mtu;
    }
    a = std::make_unique<Stack>(ca, *qa, *pool, tsc_now_us());
    b = std::make_unique<Stack>(cb, *qb, *pool, tsc_now_us());
    b->listen(80);
    a->announce();
    b->announce();
    for (int i = 0; i < 100; ++i)
      poll();
  }
  void poll() {
    const TimeUs now = tsc_now_us();
    a->poll(now);
    b->poll(now);
  }
  // Connects a to b:80 and returns both handles.
  std::pair<ConnId, ConnId> connect() {
    ConnId c;
    if (a->connect(b->config().ip, 80, c) != Status::kOk) throw std::runtime_error("connect");
    ConnId s;
    bool accepted = false, connected = false;
    std::vector<Event> ev;
    while (!accepted || !connected) {
      poll();
      ev.clear();
      b->take_events(ev);
      for (auto& e : ev) {
        if (e.type == EventType::kAccepted) {
          s = e.conn;
          accepted = true;
        }
      }
      ev.clear();
      a->take_events(ev);
      for (auto& e : ev)
        connected |= e.type == EventType::kConnected && e.conn == c;
    }
    return {c, s};
  }
  void close(ConnId c, ConnId s) {
    a->close(c);
    b->close(s);
    std::vector<Event> ev;
    for (int i = 0; i < 20; ++i) {
      poll();
      ev.clear();
      a->take_events(ev);
      b->take_events(ev);
    }
  }

  std::unique_ptr<PacketPool> pool;
  std::unique_ptr<RingPortPair> ring;
  std::unique_ptr<Port> pa, pb;
  std::unique_ptr<PortQueue> qa, qb;
  std::unique_ptr<Stack> a, b;
};

DpdkPair& dpdk() {
  static DpdkPair pair(1500, "bench");
  return pair;
}

// The ring pair is memory, not a wire: it carries 9000-byte frames as well.
DpdkPair& dpdk_jumbo() {
  static DpdkPair pair(9000, "jumbo");
  return pair;
}

std::size_t drain(Stack& s, ConnId c) {
  std::size_t n = 0;
  for (;;) {
    RecvChain chain = s.recv(c);
    if (chain.empty()) return n;
    n += chain.size_bytes();
  }
}

void BM_DpdkRequestResponse(benchmark::State& state) {
  DpdkPair& p = dpdk();
  auto [c, s] = p.connect();
  std::uint8_t msg[kMsg] = {};
  for (auto _ : state) {
    p.a->send(c, msg);
    std::size_t got = 0;
    while (got < kMsg) {
      p.poll();
      got += drain(*p.b, s);
    }
    p.b->send(s, msg);
    got = 0;
    while (got < kMsg) {
      p.poll();
      got += drain(*p.a, c);
    }
  }
  state.counters["req/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  p.close(c, s);
}
BENCHMARK(BM_DpdkRequestResponse)->UseRealTime()->MinTime(1.0);

void bulk(benchmark::State& state, DpdkPair& p) {
  auto [c, s] = p.connect();
  std::vector<std::uint8_t> chunk(256 * 1024, 0x5a);
  std::uint64_t received = 0;
  for (auto _ : state) {
    p.a->send(c, chunk);
    p.poll();
    received += drain(*p.b, s);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(received));
  state.counters["Gbit/s"] =
      benchmark::Counter(static_cast<double>(received) * 8 / 1e9, benchmark::Counter::kIsRate);
  p.close(c, s);
}
void BM_DpdkBulk(benchmark::State& state) {
  bulk(state, dpdk());
}
BENCHMARK(BM_DpdkBulk)->UseRealTime()->MinTime(1.0);
void BM_DpdkBulkJumbo(benchmark::State& state) {
  bulk(state, dpdk_jumbo());
}
BENCHMARK(BM_DpdkBulkJumbo)->UseRealTime()->MinTime(1.0);

void BM_DpdkConnectClose(benchmark::State& state) {
  DpdkPair& p = dpdk();
  for (auto _ : state) {
    auto [c, s] = p.connect();
    p.a->close(c);
    p.b->close(s);
    for (int i = 0; i < 4; ++i)
      p.poll();
  }
  state.counters["conn/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  std::vector<Event> ev;
  for (int i = 0; i < 2000; ++i) {
    p.poll();
    ev.clear();
    p.a->take_events(ev);
    p.b->take_events(ev);
  }
}
BENCHMARK(BM_DpdkConnectClose)->UseRealTime()->MinTime(1.0);

// ---- Linux loopback, same workloads ----

struct KernelPair {
  int client = -1, server = -1;
  KernelPair(int sndbuf = 0) {
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(ls, reinterpret_cast<sockaddr*>(&addr), &len);
    listen(ls, 16);
    client = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (sndbuf != 0) setsockopt(client, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    if (::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("connect");
    server = accept(ls, nullptr, nullptr);
    setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::close(ls);
  }
  ~KernelPair() {
    ::close(client);
    ::close(server);
  }
};

void read_exact(int fd, std::uint8_t* buf, std::size_t n) {
  while (n > 0) {
    const ssize_t r = read(fd, buf, n);
    if (r <= 0) throw std::runtime_error("read");
    n -= static_cast<std::size_t>(r);
    buf += r;
  }
}

void BM_KernelRequestResponse(benchmark::State& state) {
  KernelPair k;
  std::uint8_t msg[kMsg] = {};
  for (auto _ : state) {
    if (write(k.client, msg, kMsg) != kMsg) throw std::runtime_error("write");
    read_exact(k.server, msg, kMsg);
    if (write(k.server, msg, kMsg) != kMsg) throw std::runtime_error("write");
    read_exact(k.client, msg, kMsg);
  }
  state.counters["req/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_KernelRequestResponse)->UseRealTime()->MinTime(1.0);

void BM_KernelBulk(benchmark::State& state) {
  KernelPair k(4 << 20);
  std::vector<std::uint8_t> chunk(256 * 1024, 0x5a);
  std::vector<std::uint8_t> sink(1 << 20);
  fcntl(k.client, F_SETFL, O_NONBLOCK);
  fcntl(k.server, F_SETFL, O_NONBLOCK);
  std::uint64_t received = 0;
  for (auto _ : state) {
    (void)write(k.client, chunk.data(), chunk.size());
    for (;;) {
      const ssize_t r = read(k.server, sink.data(), sink.size());
      if (r <= 0) break;
      received += static_cast<std::uint64_t>(r);
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(received));
  state.counters["Gbit/s"] =
      benchmark::Counter(static_cast<double>(received) * 8 / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_KernelBulk)->UseRealTime()->MinTime(1.0);

void BM_KernelConnectClose(benchmark::State& state) {
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(ls, reinterpret_cast<sockaddr*>(&addr), &len);
  listen(ls, 128);
  for (auto _ : state) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    // RST on close (SO_LINGER 0) keeps TIME-WAIT from exhausting ports, as
    // the DPDK side's 1 ms TIME-WAIT does.
    linger lg{1, 0};
    setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    if (::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("connect");
    int s = accept(ls, nullptr, nullptr);
    ::close(c);
    ::close(s);
  }
  ::close(ls);
  state.counters["conn/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_KernelConnectClose)->UseRealTime()->MinTime(1.0);

}  // namespace
}  // namespace mxdp::dataplane
