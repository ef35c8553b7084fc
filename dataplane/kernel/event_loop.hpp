#pragma once
// A single-threaded epoll event loop: the `kernel` transport of DESIGN.md.
//
// One loop per core, each with its own SO_REUSEPORT listener, connections,
// timers and pollers; loops share nothing. It exists so the same SMTP and
// routing engine can run over Linux sockets, for the "what does kernel bypass
// buy" comparison, and so real clients can drive the engine without DPDK.
//
// Per iteration: epoll_wait, read and dispatch input, run pollers (shard ring
// drains), run due timers, then flush every connection with queued output
// exactly once, then free closed connections.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/kernel/connection.hpp"
#include "dataplane/kernel/endpoint.hpp"

namespace mxdp::dataplane::kernel {

struct LoopCounters {
  std::uint64_t accepted = 0;
  std::uint64_t accept_errors = 0;
  std::uint64_t connects = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t closed[7] = {};  // indexed by CloseReason
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t sends = 0;
  std::uint64_t output_pauses = 0;  // reading stopped because the peer does not read
  std::uint64_t open_connections = 0;
};

struct LoopOptions {
  // Reading stops when this much output is queued for a peer that does not
  // read, and resumes below half of it: memory per connection stays bounded.
  std::size_t output_high_water = 256 * 1024;
  // How often deadlines are scanned (a linear scan: 5000 idle connections cost
  // microseconds at this rate).
  std::chrono::milliseconds deadline_scan_interval{100};
  int listen_backlog = 4096;
};

class EventLoop {
 public:
  using HandlerFactory = std::function<std::unique_ptr<ConnectionHandler>(Connection&)>;
  // A poller returns true when it did work (the loop then does not sleep).
  using Poller = std::function<bool()>;

  explicit EventLoop(LoopOptions options = {});
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Binds a SO_REUSEPORT listener; every loop may listen on the same endpoint
  // and the kernel spreads connections over them. Returns an error text or "".
  std::string listen(const Endpoint& at, HandlerFactory factory);
  // The port actually bound by the last listen() (for port 0).
  std::uint16_t bound_port() const noexcept { return bound_port_; }
  // Stops accepting: closes every listener (clean shutdown, first step).
  void close_listeners() noexcept;

  // Active open; the handler gets on_connected or on_closed(kConnectFailed).
  Connection* connect(const Endpoint& to, std::unique_ptr<ConnectionHandler> handler);

  void add_poller(Poller p) { pollers_.push_back(std::move(p)); }
  // Runs fn once after delay, on the loop thread.
  void run_after(std::chrono::milliseconds delay, std::function<void()> fn);
  // Thread-safe: runs fn on the loop thread soon (control path, not data path).
  void post(std::function<void()> fn);
  // Thread-safe: interrupts a sleeping epoll_wait (e.g. after a ring push).
  void wake() noexcept;

  // Runs until stop() is called (from any thread).
  void run();
  // One iteration; blocks at most `max_wait`. Returns false once stopped.
  bool run_once(std::chrono::milliseconds max_wait);
  void stop() noexcept;
  bool stopped() const noexcept { return stop_.load(std::memory_order_acquire); }

  // Closes every connection with kShutdown (their handlers see on_closed).
  void close_all() noexcept;

  const LoopCounters& counters() const noexcept { return counters_; }
  std::size_t connection_count() const noexcept { return connections_.size(); }
  template <typename F>
  void for_each_connection(F&& f) {
    for (auto& [id, c] : connections_)
      f(*c);
  }

 private:
  friend class Connection;
  struct Listener {
    int fd;
    HandlerFactory factory;
    bool paused = false;
  };
  struct Timer {
    Clock::time_point due;
    std::function<void()> fn;
  };

  void handle_listener(Listener& l) noexcept;
  void handle_connection(Connection& c, std::uint32_t events) noexcept;
  void read_input(Connection& c) noexcept;
  void deliver_input(Connection& c) noexcept;
  void finish_connect(Connection& c) noexcept;
  void flush(Connection& c) noexcept;
  void mark_dirty(Connection& c) noexcept;
  void update_interest(Connection& c) noexcept;
  void close_now(Connection& c, CloseReason reason) noexcept;
  void scan_deadlines(Clock::time_point now) noexcept;
  bool run_timers(Clock::time_point now);
  void reap() noexcept;
  Connection* adopt(int fd, const Endpoint& peer, bool outbound);

  LoopOptions options_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::uint16_t bound_port_ = 0;
  std::atomic<bool> stop_{false};
  std::uint64_t next_id_ = 1;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections_;
  std::vector<Connection*> dirty_;
  std::vector<std::uint64_t> dead_;
  std::vector<Poller> pollers_;
  std::vector<Timer> timers_;
  std::mutex posted_mutex_;  // control path only
  std::vector<std::function<void()>> posted_;
  Clock::time_point next_scan_;
  std::vector<char> scratch_;
  LoopCounters counters_;
};

}  // namespace mxdp::dataplane::kernel
