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

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/kernel/connection.hpp"
#include "dataplane/transport/event_loop.hpp"

namespace mxdp::dataplane::kernel {

using transport::LoopCounters;
using transport::LoopOptions;

class EventLoop final : public transport::EventLoop {
 public:
  explicit EventLoop(LoopOptions options = {});
  ~EventLoop() override;

  const char* backend() const noexcept override { return "kernel"; }
  std::string listen(const Endpoint& at, HandlerFactory factory) override;
  std::uint16_t bound_port() const noexcept override { return bound_port_; }
  void close_listeners() noexcept override;
  transport::Connection* connect(const Endpoint& to, std::unique_ptr<ConnectionHandler> handler) override;
  bool run_once(std::chrono::milliseconds max_wait) override;
  void wake() noexcept override;
  void close_all() noexcept override;
  std::size_t connection_count() const noexcept override { return connections_.size(); }
  void for_each_connection(const std::function<void(transport::Connection&)>& f) override;

 protected:
  void close_now(transport::Connection& c, CloseReason reason) noexcept override;

 private:
  friend class Connection;
  struct Listener {
    int fd;
    HandlerFactory factory;
    bool paused = false;
  };

  void handle_listener(Listener& l) noexcept;
  void handle_connection(Connection& c, std::uint32_t events) noexcept;
  void read_input(Connection& c) noexcept;
  void finish_connect(Connection& c) noexcept;
  void flush(Connection& c) noexcept;
  void mark_dirty(Connection& c) noexcept;
  void update_interest(Connection& c) noexcept;
  void reap() noexcept;
  Connection* adopt(int fd, const Endpoint& peer, bool outbound);

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::uint16_t bound_port_ = 0;
  std::uint64_t next_id_ = 1;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections_;
  std::vector<Connection*> dirty_;
  std::vector<std::uint64_t> dead_;
  std::vector<char> scratch_;
};

}  // namespace mxdp::dataplane::kernel
