#pragma once
// One TCP connection on a kernel event loop (the comparison backend).
//
// A connection belongs to exactly one EventLoop thread; nothing here is
// thread-safe and nothing needs to be. Bytes written with write() leave at the
// end of the loop iteration (one send per connection per iteration), so all
// replies produced for one input burst share a segment (RFC 2920 §3.2: a
// pipelined group of replies should go out together).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "dataplane/kernel/endpoint.hpp"

namespace mxdp::dataplane::kernel {

class EventLoop;
class Connection;

enum class CloseReason : std::uint8_t {
  kLocalClose,     // close() after the output was flushed
  kLocalAbort,     // abort(): RST
  kPeerClosed,     // the peer sent FIN
  kReset,          // the peer reset or the socket failed
  kTimeout,        // the handler's deadline passed
  kConnectFailed,  // active open did not complete
  kShutdown,       // the loop is shutting down
};
const char* to_string(CloseReason reason) noexcept;

using Clock = std::chrono::steady_clock;

// What the application attaches to a connection (an SMTP server or client
// session, an echo handler in tests). All callbacks run on the loop thread.
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  // Active open completed (outbound connections only).
  virtual void on_connected(Connection&) noexcept {}
  // Bytes arrived. Returns how many were consumed; the rest stay buffered and
  // are offered again, after resume_reading() if the handler paused.
  virtual std::size_t on_input(Connection& c, std::string_view bytes) noexcept = 0;
  // Every byte written so far has been handed to the kernel.
  virtual void on_drained(Connection&) noexcept {}
  // The deadline set with set_deadline() passed. Return true after handling
  // it (a goodbye reply and close(), or a new deadline); false lets the loop
  // abort the connection (RST) with kTimeout.
  virtual bool on_deadline(Connection&) noexcept { return false; }
  // The connection is gone; the handler is destroyed right after.
  virtual void on_closed(Connection&, CloseReason) noexcept {}
};

class Connection {
 public:
  Connection(EventLoop& loop, int fd, std::uint64_t id, Endpoint peer, bool outbound);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  std::uint64_t id() const noexcept { return id_; }
  const Endpoint& peer() const noexcept { return peer_; }
  bool outbound() const noexcept { return outbound_; }
  EventLoop& loop() noexcept { return loop_; }
  ConnectionHandler* handler() noexcept { return handler_.get(); }
  void set_handler(std::unique_ptr<ConnectionHandler> h) noexcept { handler_ = std::move(h); }

  // Queues bytes; they leave at the end of this loop iteration.
  void write(std::string_view bytes) noexcept;
  // Direct access to the output buffer for appending without a copy.
  std::string& output() noexcept;
  std::size_t pending_output() const noexcept { return out_.size() - out_sent_; }

  // Backpressure from the handler (e.g. an SMTP session waiting on its sink).
  void pause_reading() noexcept;
  void resume_reading() noexcept;
  bool reading_paused() const noexcept { return paused_by_handler_ || paused_by_output_; }

  // Graceful close: flush what is queued, then FIN. Abort: RST now.
  void close() noexcept;
  void abort() noexcept;
  bool closing() const noexcept { return closing_ || closed_; }
  std::size_t in_size_for_test() const noexcept { return in_.size(); }

  // The loop closes the connection with kTimeout once this passes.
  void set_deadline(Clock::time_point t) noexcept { deadline_ = t; }
  Clock::time_point deadline() const noexcept { return deadline_; }

 private:
  friend class EventLoop;

  EventLoop& loop_;
  int fd_;
  std::uint64_t id_;
  Endpoint peer_;
  bool outbound_;
  bool connecting_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool dirty_ = false;  // has output queued for the end-of-iteration flush
  bool paused_by_handler_ = false;
  bool paused_by_output_ = false;
  bool want_write_ = false;  // registered for EPOLLOUT
  std::uint32_t epoll_events_ = 0;
  std::string in_;   // input the handler did not consume yet
  std::string out_;  // output; bytes before out_sent_ are gone
  std::size_t out_sent_ = 0;
  Clock::time_point deadline_ = Clock::time_point::max();
  std::unique_ptr<ConnectionHandler> handler_;
};

}  // namespace mxdp::dataplane::kernel
