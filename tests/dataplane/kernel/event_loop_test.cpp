// The kernel transport over loopback: echo with many connections, pipelined
// output coalescing, backpressure against a peer that never reads, deadlines,
// connect failures, pause/resume with buffered input.
#include "dataplane/kernel/event_loop.hpp"

#include <gtest/gtest.h>

#include <random>
#include <thread>

namespace mxdp::dataplane::kernel {
namespace {

using namespace std::chrono_literals;
using transport::Connection;

const Endpoint kAny = *Endpoint::parse("127.0.0.1:0");

struct EchoHandler : ConnectionHandler {
  std::size_t on_input(Connection& c, std::string_view bytes) noexcept override {
    c.write(bytes);
    return bytes.size();
  }
};

// Sends `payload` and collects the echo; closes once it has it all.
struct EchoClient : ConnectionHandler {
  std::string payload, received;
  int* done;
  bool* ok;
  EchoClient(std::string p, int* d, bool* o) : payload(std::move(p)), done(d), ok(o) {}
  void on_connected(Connection& c) noexcept override { c.write(payload); }
  std::size_t on_input(Connection& c, std::string_view bytes) noexcept override {
    received.append(bytes);
    if (received.size() >= payload.size()) c.close();
    return bytes.size();
  }
  void on_closed(Connection&, CloseReason) noexcept override {
    if (received != payload) *ok = false;
    ++*done;
  }
};

void run_until(EventLoop& loop, const std::function<bool()>& done, std::chrono::seconds limit = 30s) {
  auto until = Clock::now() + limit;
  while (!done() && Clock::now() < until)
    loop.run_once(10ms);
  ASSERT_TRUE(done()) << "timed out";
}

TEST(EventLoop, EchoManyConnectionsByteExact) {
  EventLoop loop;
  ASSERT_EQ(loop.listen(kAny, [](Connection&) { return std::make_unique<EchoHandler>(); }), "");
  Endpoint server = kAny;
  server.port = loop.bound_port();
  std::mt19937 rng(7);
  int done = 0;
  bool ok = true;
  constexpr int kConnections = 200;
  for (int i = 0; i < kConnections; ++i) {
    std::string payload(1 + rng() % 200000, '\0');
    for (auto& ch : payload)
      ch = static_cast<char>(rng());
    loop.connect(server, std::make_unique<EchoClient>(std::move(payload), &done, &ok));
  }
  run_until(loop, [&] { return done == kConnections && loop.connection_count() == 0; });
  EXPECT_TRUE(ok);
  EXPECT_EQ(loop.counters().accepted, static_cast<std::uint64_t>(kConnections));
  EXPECT_EQ(loop.counters().open_connections, 0u);
}

TEST(EventLoop, ConnectToClosedPortFails) {
  EventLoop loop;
  // Bind then close a listener to get a port nobody listens on.
  std::uint16_t port;
  {
    EventLoop probe;
    ASSERT_EQ(probe.listen(kAny, [](Connection&) { return std::make_unique<EchoHandler>(); }), "");
    port = probe.bound_port();
  }
  Endpoint to = kAny;
  to.port = port;
  struct Watch : ConnectionHandler {
    CloseReason* out;
    explicit Watch(CloseReason* o) : out(o) {}
    std::size_t on_input(Connection&, std::string_view b) noexcept override { return b.size(); }
    void on_closed(Connection&, CloseReason r) noexcept override { *out = r; }
  };
  CloseReason reason = CloseReason::kShutdown;
  loop.connect(to, std::make_unique<Watch>(&reason));
  run_until(loop, [&] { return loop.connection_count() == 0; });
  EXPECT_EQ(reason, CloseReason::kConnectFailed);
  EXPECT_EQ(loop.counters().connect_failures, 1u);
}

// A server that answers every input byte with 16 bytes: a client that never
// reads must not make it buffer without bound.
struct Amplifier : ConnectionHandler {
  std::size_t on_input(Connection& c, std::string_view bytes) noexcept override {
    for (std::size_t i = 0; i < bytes.size(); ++i)
      c.write("0123456789abcdef");
    return bytes.size();
  }
};

TEST(EventLoop, PeerThatNeverReadsKeepsMemoryBounded) {
  LoopOptions opts;
  opts.output_high_water = 64 * 1024;
  EventLoop server(opts);
  ASSERT_EQ(server.listen(kAny, [](Connection&) { return std::make_unique<Amplifier>(); }), "");
  Endpoint to = kAny;
  to.port = server.bound_port();

  struct Flooder : ConnectionHandler {
    void on_connected(Connection& c) noexcept override {
      c.pause_reading();
      on_drained(c);
    }
    void on_drained(Connection& c) noexcept override {
      if (sent < 8 * 1024 * 1024) {
        c.write(std::string(64 * 1024, 'q'));
        sent += 64 * 1024;
      }
    }
    std::size_t on_input(Connection&, std::string_view) noexcept override { return 0; }
    std::size_t sent = 0;
  };
  EventLoop client;
  client.connect(to, std::make_unique<Flooder>());
  std::size_t max_pending = 0;
  for (int i = 0; i < 400; ++i) {
    client.run_once(1ms);
    server.run_once(1ms);
    server.for_each_connection(
        [&](Connection& c) { max_pending = std::max(max_pending, c.pending_output()); });
  }
  EXPECT_GT(server.counters().output_pauses, 0u);
  // At most one read's worth (64 KiB of input x 16) beyond the mark.
  EXPECT_LE(max_pending, opts.output_high_water + 16 * 64 * 1024u);
  std::size_t buffered_input = 0;
  server.for_each_connection([&](Connection& c) { buffered_input += c.in_size_for_test(); });
  EXPECT_EQ(buffered_input, 0u);
}

TEST(EventLoop, DeadlineClosesIdleConnections) {
  LoopOptions opts;
  opts.deadline_scan_interval = 10ms;
  EventLoop loop(opts);
  struct Idle : ConnectionHandler {
    std::size_t on_input(Connection&, std::string_view b) noexcept override { return b.size(); }
  };
  ASSERT_EQ(loop.listen(kAny,
                        [](Connection& c) {
                          c.set_deadline(Clock::now() + 50ms);
                          return std::make_unique<Idle>();
                        }),
            "");
  Endpoint to = kAny;
  to.port = loop.bound_port();
  for (int i = 0; i < 50; ++i)
    loop.connect(to, std::make_unique<Idle>());
  run_until(loop, [&] { return loop.connection_count() == 0; });
  EXPECT_EQ(loop.counters().closed[static_cast<int>(CloseReason::kTimeout)], 50u);
}

TEST(EventLoop, PausedInputIsRedeliveredOnResume) {
  EventLoop loop;
  struct Gate : ConnectionHandler {
    std::string got;
    std::size_t on_input(Connection& c, std::string_view b) noexcept override {
      if (got.empty()) {
        got.append(b.substr(0, 1));
        c.pause_reading();
        c.loop().run_after(20ms, [&c] { c.resume_reading(); });
        return 1;
      }
      got.append(b);
      if (got == "hello world") c.write("ok");
      return b.size();
    }
  };
  ASSERT_EQ(loop.listen(kAny, [](Connection&) { return std::make_unique<Gate>(); }), "");
  Endpoint to = kAny;
  to.port = loop.bound_port();
  int done = 0;
  bool ok = true;
  struct Client : ConnectionHandler {
    std::string got;
    int* done;
    explicit Client(int* d) : done(d) {}
    void on_connected(Connection& c) noexcept override { c.write("hello world"); }
    std::size_t on_input(Connection& c, std::string_view b) noexcept override {
      got.append(b);
      if (got == "ok") {
        ++*done;
        c.close();
      }
      return b.size();
    }
  };
  loop.connect(to, std::make_unique<Client>(&done));
  run_until(loop, [&] { return done == 1; });
  EXPECT_TRUE(ok);
}

TEST(EventLoop, PostAndStopFromAnotherThread) {
  EventLoop loop;
  std::atomic<int> ran{0};
  std::thread t([&] {
    loop.post([&] { ran.fetch_add(1); });
    std::this_thread::sleep_for(20ms);
    loop.stop();
  });
  loop.run();
  t.join();
  EXPECT_EQ(ran.load(), 1);
}

}  // namespace
}  // namespace mxdp::dataplane::kernel
