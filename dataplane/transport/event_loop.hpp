#pragma once
// The event loop the SMTP appliance runs on, whatever carries its bytes:
//
//   kernel  dataplane/kernel/event_loop.hpp: epoll over Linux sockets, the
//           comparison baseline (and what runs under ThreadSanitizer);
//   dpdk    dataplane/stack_loop.hpp: the userspace TCP/IPv4 stack on one
//           port queue, busy-polled on its lcore.
//
// One loop per core; loops share nothing. This base keeps what both do alike:
// pollers (shard ring drains), timers, functions posted from other threads,
// deadline scans and the counters. A transport implements the rest.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dataplane/transport/connection.hpp"
#include "dataplane/transport/endpoint.hpp"

namespace mxdp::dataplane::transport {

struct LoopCounters {
  std::uint64_t accepted = 0;
  std::uint64_t accept_errors = 0;
  std::uint64_t connects = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t closed[kCloseReasons] = {};  // indexed by CloseReason
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

  explicit EventLoop(LoopOptions options) noexcept : options_(options) {}
  virtual ~EventLoop() = default;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // "kernel" or "dpdk" (reports name the transport they measured).
  virtual const char* backend() const noexcept = 0;
  // Call on the thread that runs the loop, before run_once (DPDK registers
  // the thread as an lcore there, for the mempool cache).
  virtual void attach_thread() {}

  // Listens on `at`. The kernel loop binds a SO_REUSEPORT socket (every loop
  // may listen on the same endpoint); the DPDK loop listens on its stack's
  // address and ignores at's address. Returns an error text or "".
  virtual std::string listen(const Endpoint& at, HandlerFactory factory) = 0;
  // The port actually bound by the last listen() (for port 0).
  virtual std::uint16_t bound_port() const noexcept = 0;
  // Stops accepting (clean shutdown, first step).
  virtual void close_listeners() noexcept = 0;
  // Active open; the handler gets on_connected or on_closed(kConnectFailed).
  virtual Connection* connect(const Endpoint& to, std::unique_ptr<ConnectionHandler> handler) = 0;

  // One iteration; blocks at most `max_wait` when idle. Returns false once stopped.
  virtual bool run_once(std::chrono::milliseconds max_wait) = 0;
  // Thread-safe: interrupts a sleeping run_once (e.g. after a ring push).
  virtual void wake() noexcept {}
  // Closes every connection with kShutdown (their handlers see on_closed).
  virtual void close_all() noexcept = 0;
  virtual std::size_t connection_count() const noexcept = 0;
  virtual void for_each_connection(const std::function<void(Connection&)>& f) = 0;

  void add_poller(Poller p) { pollers_.push_back(std::move(p)); }
  // Runs fn once after delay, on the loop thread.
  void run_after(std::chrono::milliseconds delay, std::function<void()> fn);
  // Thread-safe: runs fn on the loop thread soon (control path, not data path).
  void post(std::function<void()> fn);
  // Runs until stop() is called (from any thread).
  void run();
  void stop() noexcept;
  bool stopped() const noexcept { return stop_.load(std::memory_order_acquire); }
  const LoopCounters& counters() const noexcept { return counters_; }
  const LoopOptions& options() const noexcept { return options_; }

 protected:
  // Closes `c` now for `reason`: the transport's part, the handler's
  // on_closed, and freeing at the end of the iteration.
  virtual void close_now(Connection& c, CloseReason reason) noexcept = 0;

  // Returns true when a poller did work.
  bool run_pollers();
  bool run_timers(Clock::time_point now);
  // Runs functions posted from other threads; cheap when there are none.
  bool run_posted();
  // How long an idle loop may sleep: up to max_wait, less if a timer or the
  // deadline scan is due sooner.
  std::chrono::milliseconds idle_wait(Clock::time_point now, std::chrono::milliseconds max_wait) const;
  // Every deadline_scan_interval: connections whose deadline passed get
  // on_deadline, or are closed with kTimeout.
  void scan_deadlines_if_due(Clock::time_point now) noexcept;

  LoopOptions options_;
  LoopCounters counters_;

 private:
  struct Timer {
    Clock::time_point due;
    std::function<void()> fn;
  };
  std::atomic<bool> stop_{false};
  std::vector<Poller> pollers_;
  std::vector<Timer> timers_;
  std::mutex posted_mutex_;  // control path only
  std::vector<std::function<void()>> posted_;
  std::atomic<bool> have_posted_{false};
  Clock::time_point next_scan_ = Clock::now();
};

}  // namespace mxdp::dataplane::transport
