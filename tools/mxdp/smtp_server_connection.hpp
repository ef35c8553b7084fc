#pragma once
// Glue between a transport and the SMTP server engine: one ServerSession per
// accepted connection. It keeps the input spans the session still references
// (body segments point into them, smtp/sink.hpp): as leases on the packet
// buffers when the transport lends them (DPDK), as copies when not (kernel
// sockets). It moves replies to the connection once per loop iteration, turns
// the session's deadline into the loop's, and stops reading while the session
// cannot take input.

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/transport/connection.hpp"
#include "smtp/server_session.hpp"

namespace mxdp::cli {

// The transport's monotonic clock as the SMTP engine reads it, and back.
smtp::Time smtp_now() noexcept;
// The same, read precisely, for deadline checks (see the .cpp).
smtp::Time smtp_deadline_now() noexcept;
dataplane::transport::Clock::time_point clock_from_smtp(smtp::Time t) noexcept;

class SmtpServerConnection : public dataplane::transport::ConnectionHandler {
 public:
  SmtpServerConnection(const smtp::ServerConfig& config, smtp::MessageSink& sink);

  // Queues the greeting; call once the connection is accepted.
  void start(dataplane::transport::Connection& c) noexcept;
  // Clean shutdown (RFC 5321 §3.8): 421 4.3.2 and close; a message waiting
  // for its sink answer gets that answer first.
  bool shut_down(dataplane::transport::Connection& c) noexcept;

  std::size_t on_input(dataplane::transport::Connection& c, std::string_view bytes) noexcept override;
  bool on_deadline(dataplane::transport::Connection& c) noexcept override;
  void on_drained(dataplane::transport::Connection& c) noexcept override;

  smtp::ServerSession& session() noexcept { return session_; }
  // Inside the sink's on_message: leases on the input of feeds first..last
  // (a body's smtp::Body::first_feed..last_feed), so the body can outlive
  // this connection without a copy. False when some of it was copied.
  bool lease_feeds(std::uint64_t first, std::uint64_t last,
                   std::vector<dataplane::transport::InputLease>& out) const;

 private:
  void pump(dataplane::transport::Connection& c) noexcept;
  // Releases the kept input the session no longer references.
  void drop_released() noexcept;

  smtp::ServerSession session_;
  struct Chunk {
    std::uint64_t seq;
    std::string bytes;                       // a copy, or empty with a lease
    dataplane::transport::InputLease lease;  // the transport's buffer
  };
  std::deque<Chunk> retained_;  // input the session may still reference
  // Inside on_input() with input the transport lends: that connection, and
  // the feed the input is (lease_feeds() leases it directly).
  dataplane::transport::Connection* leasable_ = nullptr;
  std::uint64_t leasable_seq_ = 0;
};

}  // namespace mxdp::cli
