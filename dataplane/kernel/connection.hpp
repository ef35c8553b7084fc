#pragma once
// One TCP connection on a kernel event loop (the comparison backend): a
// socket behind the transport interface (dataplane/transport/connection.hpp).

#include <cstdint>

#include "dataplane/transport/connection.hpp"

namespace mxdp::dataplane::kernel {

using transport::Clock;
using transport::CloseReason;
using transport::ConnectionHandler;
using transport::Endpoint;

class EventLoop;

class Connection final : public transport::Connection {
 public:
  Connection(EventLoop& loop, int fd, std::uint64_t id, Endpoint peer, bool outbound);
  ~Connection() override;

  transport::EventLoop& loop() noexcept override;

 protected:
  void mark_dirty() noexcept override;
  void interest_changed() noexcept override;
  void abort_now() noexcept override;

 private:
  friend class EventLoop;

  EventLoop& loop_;
  int fd_;
  bool connecting_ = false;
  bool want_write_ = false;  // registered for EPOLLOUT
  std::uint32_t epoll_events_ = 0;
};

}  // namespace mxdp::dataplane::kernel
