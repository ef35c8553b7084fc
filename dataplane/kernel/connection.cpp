#include "dataplane/kernel/connection.hpp"

#include <unistd.h>

#include "dataplane/kernel/event_loop.hpp"

namespace mxdp::dataplane::kernel {

Connection::Connection(EventLoop& loop, int fd, std::uint64_t id, Endpoint peer, bool outbound)
    : transport::Connection(id, peer, outbound), loop_(loop), fd_(fd) {}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

transport::EventLoop& Connection::loop() noexcept {
  return loop_;
}

void Connection::mark_dirty() noexcept {
  loop_.mark_dirty(*this);
}

void Connection::interest_changed() noexcept {
  loop_.update_interest(*this);
}

void Connection::abort_now() noexcept {
  loop_.close_now(*this, CloseReason::kLocalAbort);
}

}  // namespace mxdp::dataplane::kernel
