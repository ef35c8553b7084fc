#include "dataplane/kernel/connection.hpp"

#include <unistd.h>

#include "dataplane/kernel/event_loop.hpp"

namespace mxdp::dataplane::kernel {

const char* to_string(CloseReason reason) noexcept {
  switch (reason) {
    case CloseReason::kLocalClose:
      return "local-close";
    case CloseReason::kLocalAbort:
      return "local-abort";
    case CloseReason::kPeerClosed:
      return "peer-closed";
    case CloseReason::kReset:
      return "reset";
    case CloseReason::kTimeout:
      return "timeout";
    case CloseReason::kConnectFailed:
      return "connect-failed";
    case CloseReason::kShutdown:
      return "shutdown";
  }
  return "unknown";
}

Connection::Connection(EventLoop& loop, int fd, std::uint64_t id, Endpoint peer, bool outbound)
    : loop_(loop), fd_(fd), id_(id), peer_(peer), outbound_(outbound) {}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

void Connection::write(std::string_view bytes) noexcept {
  if (closed_ || bytes.empty()) return;
  out_.append(bytes);
  loop_.mark_dirty(*this);
}

std::string& Connection::output() noexcept {
  loop_.mark_dirty(*this);
  return out_;
}

void Connection::pause_reading() noexcept {
  if (paused_by_handler_) return;
  paused_by_handler_ = true;
  loop_.update_interest(*this);
}

void Connection::resume_reading() noexcept {
  if (!paused_by_handler_) return;
  paused_by_handler_ = false;
  loop_.update_interest(*this);
  // Input buffered while paused is offered again at the end of the iteration.
  if (!in_.empty()) loop_.mark_dirty(*this);
}

void Connection::close() noexcept {
  if (closing_ || closed_) return;
  closing_ = true;
  loop_.mark_dirty(*this);  // the flush closes once the output is gone
}

void Connection::abort() noexcept {
  if (closed_) return;
  loop_.close_now(*this, CloseReason::kLocalAbort);
}

}  // namespace mxdp::dataplane::kernel
