// The stack's steady state allocates nothing: this binary replaces the global
// operator new/delete with counting versions, runs two stacks over a ring port
// pair (DPDK rings and mempools, no heap) that drops one packet in a hundred
// (so reassembly, SACK recovery and retransmission timers run too), warms up,
// then counts the heap allocations made on this thread during many
// request/response exchanges, a bulk transfer and connection open/close
// cycles, and expects none. The application below keeps its state in fixed
// arrays, so any allocation counted is the stack's.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "dataplane/packet_io.hpp"
#include "dataplane/packet_pool.hpp"
#include "dataplane/port.hpp"
#include "dataplane/stack.hpp"
#include "tests/dataplane/eal_environment.hpp"
#include "tests/dataplane/stack_sim.hpp"

namespace {
// Counted only on the thread that opens the window (DPDK's own threads and
// gtest's set-up run outside it).
thread_local bool t_counting = false;
thread_local std::uint64_t t_allocations = 0;

void* counted_alloc(std::size_t n, std::size_t align = 0) noexcept {
  if (t_counting) ++t_allocations;
  if (n == 0) n = 1;
  if (align > alignof(std::max_align_t)) {
    void* p = nullptr;
    return posix_memalign(&p, align, n) == 0 ? p : nullptr;
  }
  return std::malloc(n);
}
}  // namespace

void* operator new(std::size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return counted_alloc(n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return counted_alloc(n);
}
void* operator new(std::size_t n, std::align_val_t a) {
  if (void* p = counted_alloc(n, static_cast<std::size_t>(a))) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) {
  if (void* p = counted_alloc(n, static_cast<std::size_t>(a))) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_alloc(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_alloc(n, static_cast<std::size_t>(a));
}
// These replacements pair malloc with free by design; inlined across an
// allocation site GCC would see new paired with free and warn.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

namespace mxdp::dataplane::testing {
namespace {

const ::testing::Environment* const kEal = ::testing::AddGlobalTestEnvironment(new EalEnvironment());

constexpr std::uint16_t kPort = 80;
constexpr std::size_t kRequest = 64;    // bytes per request
constexpr std::size_t kResponse = 700;  // bytes per response
constexpr std::size_t kMaxConns = 64;   // application table size (not the stack's)

// Drops every `every`-th packet sent, without allocating.
class LossyIo final : public PacketIo {
 public:
  LossyIo(PacketIo& inner, unsigned every) : inner_(inner), every_(every) {}
  std::uint16_t rx_burst(rte_mbuf** pkts, std::uint16_t n) noexcept override {
    return inner_.rx_burst(pkts, n);
  }
  std::uint16_t tx_burst(rte_mbuf** pkts, std::uint16_t n) noexcept override {
    std::uint16_t kept = 0;
    for (std::uint16_t i = 0; i < n; ++i) {
      if (++count_ % every_ == 0) {
        mbuf_free(pkts[i]);
        ++dropped;
      } else {
        pkts[kept++] = pkts[i];
      }
    }
    // PacketIo's contract: the caller frees pkts[ret..n), so the unsent tail
    // of the kept ones moves to the end.
    const std::uint16_t sent = inner_.tx_burst(pkts, kept);
    const std::uint16_t unsent = static_cast<std::uint16_t>(kept - sent);
    std::copy_backward(pkts + sent, pkts + kept, pkts + n);
    return static_cast<std::uint16_t>(n - unsent);
  }
  std::uint64_t dropped = 0;

 private:
  PacketIo& inner_;
  unsigned every_;
  std::uint64_t count_ = 0;
};

std::array<std::uint8_t, 16384> make_fill() {
  std::array<std::uint8_t, 16384> a{};
  for (std::size_t i = 0; i < a.size(); ++i)
    a[i] = static_cast<std::uint8_t>(i * 7 + 1);
  return a;
}
const std::array<std::uint8_t, 16384> kFill = make_fill();

// Each connection's first byte picks the server's behaviour: 'R' answers
// every kRequest bytes after it with kResponse bytes; 'B' swallows a stream.
class Server {
 public:
  explicit Server(Stack& s) : s_(s) { events_.reserve(1024); }

  void run() noexcept {
    events_.clear();
    s_.take_events(events_);
    for (const Event& e : events_) {
      Conn* c = find(e.conn);
      if (e.type == EventType::kAccepted && c == nullptr) c = add(e.conn);
      if (c == nullptr) continue;
      if (e.type == EventType::kPeerClosed || e.type == EventType::kReset) c->peer_closed = true;
    }
    for (Conn& c : conns_) {
      if (!c.used) continue;
      for (;;) {
        RecvChain chain = s_.recv(c.id);
        if (chain.empty()) break;
        for (const RecvSegment& seg : chain.segments()) {
          std::uint32_t first = 0;
          if (c.mode == 0 && seg.size > 0) c.mode = seg.data[first++];
          const std::size_t n = seg.size - first;
          bytes_received += n;
          if (c.mode == 'R') {
            c.owed += (c.partial + n) / kRequest * kResponse;
            c.partial = (c.partial + n) % kRequest;
          }
        }
      }
      while (c.owed > 0) {
        const std::size_t n = s_.send(c.id, {kFill.data(), std::min(c.owed, kFill.size())});
        if (n == 0) break;
        c.owed -= n;
      }
      if (c.peer_closed && c.owed == 0) {
        s_.close(c.id);
        c = Conn{};
        ++closed;
      }
    }
  }

  std::uint64_t bytes_received = 0;
  std::uint64_t closed = 0;

 private:
  struct Conn {
    bool used = false;
    ConnId id;
    std::uint8_t mode = 0;
    std::size_t partial = 0;
    std::size_t owed = 0;
    bool peer_closed = false;
  };
  Conn* find(ConnId id) noexcept {
    for (Conn& c : conns_) {
      if (c.used && c.id == id) return &c;
    }
    return nullptr;
  }
  Conn* add(ConnId id) noexcept {
    for (Conn& c : conns_) {
      if (!c.used) {
        c = Conn{};
        c.used = true;
        c.id = id;
        return &c;
      }
    }
    return nullptr;
  }
  Stack& s_;
  std::vector<Event> events_;
  std::array<Conn, kMaxConns> conns_{};
};

class Client {
 public:
  struct Conn {
    bool used = false;
    ConnId id;
    std::uint8_t mode = 0;
    bool mode_sent = false;
    bool connected = false;
    bool peer_closed = false;
    bool reset = false;
    std::size_t to_send = 0;   // bytes after the mode byte not yet taken by send()
    std::size_t received = 0;  // response bytes
  };

  explicit Client(Stack& s) : s_(s) { events_.reserve(1024); }

  Conn* open(Ipv4Address ip, std::uint8_t mode) noexcept {
    for (Conn& c : conns_) {
      if (c.used) continue;
      c = Conn{};
      if (s_.connect(ip, kPort, c.id) != Status::kOk) return nullptr;
      c.used = true;
      c.mode = mode;
      return &c;
    }
    return nullptr;
  }

  void run() noexcept {
    events_.clear();
    s_.take_events(events_);
    for (const Event& e : events_) {
      for (Conn& c : conns_) {
        if (!c.used || !(c.id == e.conn)) continue;
        if (e.type == EventType::kConnected) c.connected = true;
        if (e.type == EventType::kPeerClosed) c.peer_closed = true;
        if (e.type == EventType::kReset) c.reset = true;
      }
    }
    for (Conn& c : conns_) {
      if (!c.used) continue;
      for (;;) {
        RecvChain chain = s_.recv(c.id);
        if (chain.empty()) break;
        c.received += chain.size_bytes();
      }
      if (!c.connected) continue;
      if (!c.mode_sent) {
        c.mode_sent = s_.send(c.id, {&c.mode, 1}) == 1;
        if (!c.mode_sent) continue;
      }
      while (c.to_send > 0) {
        const std::size_t n = s_.send(c.id, {kFill.data(), std::min(c.to_send, kFill.size())});
        if (n == 0) break;
        c.to_send -= n;
      }
    }
  }

  void close(Conn& c) noexcept {
    s_.close(c.id);
    c = Conn{};
  }

 private:
  Stack& s_;
  std::vector<Event> events_;
  std::array<Conn, kMaxConns> conns_{};
};

// Two stacks on a ring port pair, driven in virtual time as StackSim does.
class NoAllocTest : public ::testing::Test {
 protected:
  static constexpr unsigned kPersistent = 8;

  void SetUp() override {
    PacketPoolConfig pc;
    pc.name = "no_alloc_pool";
    pc.mbufs = 16383;
    pc.cache = 0;
    pool_ = std::make_unique<PacketPool>(pc);
    static int instance = 0;
    pair_ = std::make_unique<RingPortPair>("noalloc" + std::to_string(instance++), 4096);
    pa_ = std::make_unique<Port>(pair_->a(), *pool_, PortConfig{});
    pb_ = std::make_unique<Port>(pair_->b(), *pool_, PortConfig{});
    qa_ = std::make_unique<PortQueue>(pa_->id(), 0);
    qb_ = std::make_unique<PortQueue>(pb_->id(), 0);
    la_ = std::make_unique<LossyIo>(*qa_, 101);
    lb_ = std::make_unique<LossyIo>(*qb_, 103);
    StackConfig ca = sim_config(1), cb = sim_config(2);
    ca.mac = pa_->mac();
    cb.mac = pb_->mac();
    a_ = std::make_unique<Stack>(ca, *la_, *pool_, now_);
    b_ = std::make_unique<Stack>(cb, *lb_, *pool_, now_);
    ASSERT_EQ(b_->listen(kPort), Status::kOk);
    a_->announce();
    b_->announce();
    client_ = std::make_unique<Client>(*a_);
    server_ = std::make_unique<Server>(*b_);
  }

  void TearDown() override {
    for (int i = 0; i < 4; ++i)
      pump([] { return false; }, 10);  // what is still in the rings
    server_.reset();
    client_.reset();
    a_.reset();
    b_.reset();
    la_.reset();
    lb_.reset();
    qa_.reset();
    qb_.reset();
    pa_.reset();
    pb_.reset();
    pair_.reset();
    EXPECT_EQ(pool_->available(), pool_->capacity()) << "mbufs lost";
    pool_.reset();
  }

  // Polls both stacks and both applications until done() or a virtual-time
  // limit; idle stretches jump to the next timer. False on the limit.
  template <typename Done>
  bool pump(Done done, TimeUs limit = 30'000'000) noexcept {
    const TimeUs end = now_ + limit;
    unsigned quiet = 0;
    while (!done()) {
      const unsigned n = a_->poll(now_) + b_->poll(now_);
      client_->run();
      server_->run();
      quiet = n == 0 ? quiet + 1 : 0;
      if (quiet < 2) {
        now_ += 1;
      } else {
        const TimeUs next = std::min(a_->next_deadline(), b_->next_deadline());
        now_ = std::max(now_ + 1, next == kNever ? now_ + 1000 : next);
      }
      if (now_ > end) return false;
    }
    return true;
  }

  // One round of the workload: requests on the persistent connections, a
  // bulk stream, then short connections opened, used once and closed.
  // Returns false (and the step) on the first thing that did not complete.
  bool workload(unsigned rounds, std::size_t bulk_bytes, unsigned cycles, const char*& failed) noexcept {
    const Ipv4Address server_ip = b_->config().ip;
    for (unsigned r = 0; r < rounds; ++r) {
      for (Client::Conn* c : persistent_) {
        c->to_send += kRequest;
        c->received = 0;
      }
      if (!pump([&] {
            for (Client::Conn* c : persistent_) {
              if (c->received < kResponse) return false;
            }
            return true;
          })) {
        failed = "request/response";
        return false;
      }
    }
    Client::Conn* bulk = client_->open(server_ip, 'B');
    if (bulk == nullptr) {
      failed = "bulk connect";
      return false;
    }
    const std::uint64_t before = server_->bytes_received;
    bulk->to_send = bulk_bytes;
    if (!pump([&] { return server_->bytes_received - before == bulk_bytes; })) {
      failed = "bulk transfer";
      return false;
    }
    client_->close(*bulk);
    for (unsigned i = 0; i < cycles; ++i) {
      Client::Conn* c = client_->open(server_ip, 'R');
      if (c == nullptr) {
        failed = "cycle connect";
        return false;
      }
      c->to_send = kRequest;
      if (!pump([&] { return c->received >= kResponse; })) {
        failed = "cycle exchange";
        return false;
      }
      client_->close(*c);
    }
    // The server closes each short connection after the client's FIN.
    if (!pump([&] { return b_->connection_count() == kPersistent; })) {
      failed = "cycle close";
      return false;
    }
    return true;
  }

  TimeUs now_ = 1'000'000;
  std::unique_ptr<PacketPool> pool_;
  std::unique_ptr<RingPortPair> pair_;
  std::unique_ptr<Port> pa_, pb_;
  std::unique_ptr<PortQueue> qa_, qb_;
  std::unique_ptr<LossyIo> la_, lb_;
  std::unique_ptr<Stack> a_, b_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<Server> server_;
  std::array<Client::Conn*, kPersistent> persistent_{};
};

TEST(NoAlloc, CountingOperatorNewCounts) {
  t_allocations = 0;
  t_counting = true;
  // Through volatile pointers: an optimiser may elide a new/delete pair it
  // can see whole ([expr.new]), which would leave nothing to count.
  int* volatile one = new int(1);
  delete one;
  char* volatile ten = new char[10];
  delete[] ten;
  t_counting = false;
  EXPECT_EQ(t_allocations, 2u);
}

TEST_F(NoAllocTest, SteadyStateExchangesTransfersAndConnectionCyclesAllocateNothing) {
  for (auto& c : persistent_) {
    c = client_->open(b_->config().ip, 'R');
    ASSERT_NE(c, nullptr);
  }
  ASSERT_TRUE(pump([&] {
    for (Client::Conn* c : persistent_) {
      if (!c->connected) return false;
    }
    return true;
  }));
  // Warm-up: the same mix, so every pool reaches its high-water mark (send
  // buffers) and every vector the application reuses reaches its size.
  const char* failed = "";
  ASSERT_TRUE(workload(20, 1 << 20, 20, failed)) << "warm-up: " << failed;

  const StackCounters before_a = a_->counters(), before_b = b_->counters();
  t_allocations = 0;
  t_counting = true;
  const bool ok = workload(500, 8 << 20, 300, failed);
  t_counting = false;
  const std::uint64_t allocations = t_allocations;
  ASSERT_TRUE(ok) << "steady state: " << failed;

  const StackCounters& ca = a_->counters();
  const StackCounters& cb = b_->counters();
  std::printf(
      "steady state: %llu allocations; client sent %llu packets, server %llu; opens %llu; link dropped "
      "%llu+%llu; retransmits %llu+%llu (rto %llu+%llu), out-of-order segments %llu+%llu\n",
      static_cast<unsigned long long>(allocations),
      static_cast<unsigned long long>(ca.tx_packets - before_a.tx_packets),
      static_cast<unsigned long long>(cb.tx_packets - before_b.tx_packets),
      static_cast<unsigned long long>(ca.tcp_active_opens - before_a.tcp_active_opens),
      static_cast<unsigned long long>(la_->dropped), static_cast<unsigned long long>(lb_->dropped),
      static_cast<unsigned long long>(ca.tcp_retransmits - before_a.tcp_retransmits),
      static_cast<unsigned long long>(cb.tcp_retransmits - before_b.tcp_retransmits),
      static_cast<unsigned long long>(ca.tcp_rto_expiries - before_a.tcp_rto_expiries),
      static_cast<unsigned long long>(cb.tcp_rto_expiries - before_b.tcp_rto_expiries),
      static_cast<unsigned long long>(ca.tcp_ooo_segments - before_a.tcp_ooo_segments),
      static_cast<unsigned long long>(cb.tcp_ooo_segments - before_b.tcp_ooo_segments));
  EXPECT_EQ(allocations, 0u);
  EXPECT_GT(cb.tcp_ooo_segments - before_b.tcp_ooo_segments, 0u) << "the loss exercised reassembly";
  EXPECT_EQ(ca.tcp_active_opens - before_a.tcp_active_opens, 301u);
  EXPECT_GE(cb.rx_bytes - before_b.rx_bytes, std::uint64_t{8} << 20);

  // The persistent connections close too; TIME-WAIT drains; every mbuf returns.
  for (Client::Conn* c : persistent_)
    client_->close(*c);
  EXPECT_TRUE(pump([&] { return a_->connection_count() + b_->connection_count() == 0; }, 400'000'000));
}

}  // namespace
}  // namespace mxdp::dataplane::testing
