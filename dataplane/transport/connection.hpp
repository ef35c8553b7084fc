#pragma once
// One TCP connection as the SMTP layers above see it, whatever carries it:
// Linux sockets (dataplane/kernel/) or the userspace stack on DPDK
// (dataplane/stack_loop.hpp). A connection belongs to exactly one event-loop
// thread; nothing here is thread-safe and nothing needs to be.
//
// Bytes written with write() leave at the end of the loop iteration (one send
// per connection per iteration), so all replies produced for one input burst
// share a segment (RFC 2920 §3.2: a pipelined group of replies should go out
// together).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "dataplane/transport/endpoint.hpp"

namespace mxdp::dataplane::transport {

class EventLoop;
class Connection;

enum class CloseReason : std::uint8_t {
  kLocalClose,     // close() after the output was flushed
  kLocalAbort,     // abort(): RST
  kPeerClosed,     // the peer sent FIN
  kReset,          // the peer reset or the connection failed
  kTimeout,        // the handler's deadline passed
  kConnectFailed,  // active open did not complete
  kShutdown,       // the loop is shutting down
};
inline constexpr int kCloseReasons = 7;
const char* to_string(CloseReason reason) noexcept;

using Clock = std::chrono::steady_clock;

// Keeps the bytes of one on_input() call alive after it returns, without a
// copy: on DPDK a reference on the packet buffer they arrived in. Move-only;
// clone() takes one more reference. Any thread may drop it (a message body
// handed to routing is released where its last reference goes).
class InputLease {
 public:
  struct Ops {
    void (*retain)(void* buffer) noexcept;
    void (*release)(void* buffer) noexcept;
    std::size_t footprint;  // bytes the buffer pins
    // Brings in what release() will touch (optional).
    void (*prefetch)(const void* buffer) noexcept = nullptr;
  };
  InputLease() noexcept = default;
  InputLease(void* buffer, const Ops* ops) noexcept : buffer_(buffer), ops_(ops) {}
  InputLease(InputLease&& o) noexcept : buffer_(o.buffer_), ops_(std::exchange(o.ops_, nullptr)) {}
  InputLease& operator=(InputLease&& o) noexcept {
    if (this != &o) {
      reset();
      buffer_ = o.buffer_;
      ops_ = std::exchange(o.ops_, nullptr);
    }
    return *this;
  }
  InputLease(const InputLease&) = delete;
  InputLease& operator=(const InputLease&) = delete;
  ~InputLease() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }
  InputLease clone() const noexcept {
    if (ops_) ops_->retain(buffer_);
    return InputLease(buffer_, ops_);
  }
  std::size_t footprint() const noexcept { return ops_ ? ops_->footprint : 0; }
  // A hint ahead of a release long after the lease was taken (the buffer is
  // out of cache by then): lets the release find it in.
  void prefetch() const noexcept {
    if (ops_ && ops_->prefetch) ops_->prefetch(buffer_);
  }
  void reset() noexcept {
    if (ops_) std::exchange(ops_, nullptr)->release(buffer_);
  }
  // Hands the reference over without releasing it: whoever takes the pair
  // gives it back exactly once, through InputLease(buffer, ops) (whose
  // destructor releases it). For holders that keep plain words (a message
  // body's lender state).
  struct Raw {
    void* buffer = nullptr;
    const Ops* ops = nullptr;
  };
  Raw detach() noexcept { return {buffer_, std::exchange(ops_, nullptr)}; }

 private:
  void* buffer_ = nullptr;
  const Ops* ops_ = nullptr;
};

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
  // A look ahead at bytes on_input() will be offered soon, before any of them
  // is processed: a loop that takes a burst of packets shows each readable
  // connection's first new bytes to its handler first, so lookups they will
  // need (a directory bucket per recipient) can be prefetched for the whole
  // burst and overlap. Nothing is consumed; ignoring it is always correct.
  virtual void on_input_ahead(Connection&, std::string_view) noexcept {}
  // Every byte written so far has been handed to the transport.
  virtual void on_drained(Connection&) noexcept {}
  // The deadline set with set_deadline() passed. Return true after handling
  // it (a goodbye reply and close(), or a new deadline); false lets the loop
  // abort the connection (RST) with kTimeout.
  virtual bool on_deadline(Connection&) noexcept { return false; }
  // The connection is gone; the handler is destroyed right after.
  virtual void on_closed(Connection&, CloseReason) noexcept {}
};

// The state every transport keeps the same way (buffers, flags, deadline,
// handler); a transport derives and implements the three hooks at the end.
class Connection {
 public:
  Connection(std::uint64_t id, Endpoint peer, bool outbound) noexcept
      : id_(id), peer_(peer), outbound_(outbound) {}
  virtual ~Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  virtual EventLoop& loop() noexcept = 0;

  std::uint64_t id() const noexcept { return id_; }
  const Endpoint& peer() const noexcept { return peer_; }
  bool outbound() const noexcept { return outbound_; }
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

  // Inside on_input(): a lease on the bytes being offered, so the handler can
  // keep them without copying. Empty when the transport cannot lend them
  // (kernel sockets; input re-offered from the connection's own buffer).
  virtual InputLease lease_input() noexcept { return {}; }
  // Whether lease_input() would lend the bytes being offered (no reference taken).
  virtual bool can_lease_input() const noexcept { return false; }

  // Graceful close: flush what is queued, then FIN. Abort: RST now.
  void close() noexcept;
  void abort() noexcept;
  bool closing() const noexcept { return closing_ || closed_; }
  bool closed() const noexcept { return closed_; }
  std::size_t in_size_for_test() const noexcept { return in_.size(); }

  // The loop closes the connection with kTimeout once this passes.
  void set_deadline(Clock::time_point t) noexcept { deadline_ = t; }
  Clock::time_point deadline() const noexcept { return deadline_; }

 protected:
  // Put the connection on the loop's end-of-iteration list (flush, input).
  virtual void mark_dirty() noexcept = 0;
  // Reading was paused or resumed (the kernel loop changes its epoll interest).
  virtual void interest_changed() noexcept {}
  // RST now and close with kLocalAbort.
  virtual void abort_now() noexcept = 0;

  // Offers `bytes` to the handler, buffering what it leaves (or all of it
  // while reading is paused). Transports call this for each received chunk.
  void receive(std::string_view bytes) noexcept;
  // Offers the buffered input again (after a resume or an output drain).
  void deliver_buffered() noexcept;
  // Output accounting after a send: compacts the buffer and pauses reading
  // above `high_water` queued bytes (a peer that does not read must not grow
  // our memory), resuming below half of it. Returns true when the pause state
  // changed.
  bool after_send(std::size_t high_water) noexcept;

  std::uint64_t id_;
  Endpoint peer_;
  bool outbound_;
  bool closing_ = false;
  bool closed_ = false;
  bool dirty_ = false;         // on the loop's end-of-iteration list
  bool input_direct_ = false;  // on_input() sees the transport's bytes, not in_
  bool paused_by_handler_ = false;
  bool paused_by_output_ = false;
  std::string in_;   // input the handler did not consume yet
  std::string out_;  // output; bytes before out_sent_ are gone
  std::size_t out_sent_ = 0;
  Clock::time_point deadline_ = Clock::time_point::max();
  std::unique_ptr<ConnectionHandler> handler_;
};

}  // namespace mxdp::dataplane::transport
