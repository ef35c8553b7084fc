#include "dataplane/transport/connection.hpp"

namespace mxdp::dataplane::transport {

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

void Connection::write(std::string_view bytes) noexcept {
  if (closed_ || bytes.empty()) return;
  out_.append(bytes);
  mark_dirty();
}

std::string& Connection::output() noexcept {
  mark_dirty();
  return out_;
}

void Connection::pause_reading() noexcept {
  if (paused_by_handler_) return;
  paused_by_handler_ = true;
  interest_changed();
}

void Connection::resume_reading() noexcept {
  if (!paused_by_handler_) return;
  paused_by_handler_ = false;
  interest_changed();
  // Input buffered while paused is offered again at the end of the iteration.
  if (!in_.empty()) mark_dirty();
}

void Connection::close() noexcept {
  if (closing_ || closed_) return;
  closing_ = true;
  mark_dirty();  // the flush closes once the output is gone
}

void Connection::abort() noexcept {
  if (closed_) return;
  abort_now();
}

void Connection::receive(std::string_view bytes) noexcept {
  if (closed_ || bytes.empty()) return;
  if (in_.empty() && !reading_paused()) {
    input_direct_ = true;
    std::size_t used = handler_->on_input(*this, bytes);
    input_direct_ = false;
    if (used < bytes.size() && !closed_) in_.append(bytes.substr(used));
  } else {
    in_.append(bytes);
    if (!reading_paused()) deliver_buffered();
  }
}

void Connection::deliver_buffered() noexcept {
  if (in_.empty() || closed_ || reading_paused()) return;
  std::string pending;
  pending.swap(in_);
  std::size_t used = handler_->on_input(*this, pending);
  if (closed_) return;
  if (used < pending.size()) in_.insert(0, pending, used, std::string::npos);
}

bool Connection::after_send(std::size_t high_water) noexcept {
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
  } else if (out_sent_ > out_.size() / 2) {
    out_.erase(0, out_sent_);
    out_sent_ = 0;
  }
  bool was_paused = paused_by_output_;
  std::size_t pending = pending_output();
  if (pending >= high_water) {
    paused_by_output_ = true;
  } else if (pending <= high_water / 2) {
    paused_by_output_ = false;
  }
  return was_paused != paused_by_output_;
}

}  // namespace mxdp::dataplane::transport
