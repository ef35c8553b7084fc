#include "dataplane/kernel/event_loop.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mxdp::dataplane::kernel {

namespace {

// epoll data tags: 0 is the wake eventfd, listeners carry the top bit, and
// connections their id (which never has the top bit set).
constexpr std::uint64_t kWakeTag = 0;
constexpr std::uint64_t kListenerTag = 1ull << 63;
constexpr std::size_t kScratchBytes = 64 * 1024;
constexpr int kMaxEvents = 256;
constexpr int kMaxAcceptsPerEvent = 64;

void set_tcp_options(int fd) noexcept {
  int one = 1;
  // Replies are small and latency is measured per message: no Nagle delay.
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

}  // namespace

EventLoop::EventLoop(LoopOptions options) : transport::EventLoop(options), scratch_(kScratchBytes) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeTag;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
}

EventLoop::~EventLoop() {
  close_all();
  reap();
  close_listeners();
  if (wake_fd_ >= 0) ::close(wake_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

std::string EventLoop::listen(const Endpoint& at, HandlerFactory factory) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_text("socket");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // One listener per loop on the same port: the kernel balances accepts.
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    std::string err = errno_text("SO_REUSEPORT");
    ::close(fd);
    return err;
  }
  sockaddr_in sa{};
  at.to_sockaddr(sa);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    std::string err = errno_text(("bind " + at.to_string()).c_str());
    ::close(fd);
    return err;
  }
  if (::listen(fd, options_.listen_backlog) != 0) {
    std::string err = errno_text("listen");
    ::close(fd);
    return err;
  }
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  bound_port_ = ntohs(sa.sin_port);
  auto l = std::make_unique<Listener>(Listener{fd, std::move(factory)});
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenerTag | listeners_.size();
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  listeners_.push_back(std::move(l));
  return "";
}

void EventLoop::close_listeners() noexcept {
  for (auto& l : listeners_) {
    if (l && l->fd >= 0) {
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, l->fd, nullptr);
      ::close(l->fd);
      l->fd = -1;
    }
  }
}

Connection* EventLoop::adopt(int fd, const Endpoint& peer, bool outbound) {
  std::uint64_t id = next_id_++;
  auto c = std::make_unique<Connection>(*this, fd, id, peer, outbound);
  Connection* raw = c.get();
  connections_.emplace(id, std::move(c));
  ++counters_.open_connections;
  return raw;
}

transport::Connection* EventLoop::connect(const Endpoint& to, std::unique_ptr<ConnectionHandler> handler) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ++counters_.connects;
  Connection* c = nullptr;
  if (fd >= 0) {
    set_tcp_options(fd);
    c = adopt(fd, to, true);
  } else {
    c = adopt(-1, to, true);
  }
  c->set_handler(std::move(handler));
  sockaddr_in sa{};
  to.to_sockaddr(sa);
  int rc = fd < 0 ? -1 : ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  if (rc == 0 || (rc < 0 && errno == EINPROGRESS)) {
    c->connecting_ = (rc != 0);
    epoll_event ev{};
    ev.events = c->connecting_ ? EPOLLOUT : EPOLLIN;
    c->epoll_events_ = ev.events;
    c->want_write_ = c->connecting_;
    ev.data.u64 = c->id();
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    if (!c->connecting_) finish_connect(*c);
  } else {
    ++counters_.connect_failures;
    close_now(*c, CloseReason::kConnectFailed);
  }
  return c;
}

void EventLoop::wake() noexcept {
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

bool EventLoop::run_once(std::chrono::milliseconds max_wait) {
  if (stopped()) return false;
  bool busy = run_pollers() | run_posted();
  auto now = Clock::now();
  auto wait = (busy || !dirty_.empty()) ? std::chrono::milliseconds(0) : idle_wait(now, max_wait);

  epoll_event events[kMaxEvents];
  int n = ::epoll_wait(epoll_fd_, events, kMaxEvents, static_cast<int>(wait.count()));
  for (int i = 0; i < n; ++i) {
    std::uint64_t tag = events[i].data.u64;
    if (tag == kWakeTag) {
      std::uint64_t drained;
      [[maybe_unused]] auto r = ::read(wake_fd_, &drained, sizeof drained);
    } else if (tag & kListenerTag) {
      auto index = tag & ~kListenerTag;
      if (index < listeners_.size() && listeners_[index]->fd >= 0) handle_listener(*listeners_[index]);
    } else {
      auto it = connections_.find(tag);
      if (it != connections_.end()) handle_connection(*it->second, events[i].events);
    }
  }

  run_posted();
  run_pollers();
  now = Clock::now();
  run_timers(now);
  scan_deadlines_if_due(now);
  // The end-of-iteration flush: every reply produced in this iteration leaves
  // in one send per connection.
  for (std::size_t i = 0; i < dirty_.size(); ++i) {
    Connection* c = dirty_[i];
    c->dirty_ = false;
    if (c->closed_) continue;
    c->deliver_buffered();
    flush(*c);
  }
  dirty_.clear();
  reap();
  return !stopped();
}

void EventLoop::handle_listener(Listener& l) noexcept {
  for (int i = 0; i < kMaxAcceptsPerEvent; ++i) {
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    int fd = ::accept4(l.fd, reinterpret_cast<sockaddr*>(&sa), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      ++counters_.accept_errors;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: a level-triggered listener would spin. Stop
        // accepting for a moment; pending clients wait in the backlog.
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, l.fd, nullptr);
        l.paused = true;
        Listener* lp = &l;
        std::uint64_t tag = kListenerTag;
        for (std::size_t k = 0; k < listeners_.size(); ++k)
          if (listeners_[k].get() == lp) tag |= k;
        run_after(std::chrono::milliseconds(100), [this, lp, tag] {
          if (lp->fd < 0 || !lp->paused) return;
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.u64 = tag;
          ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, lp->fd, &ev);
          lp->paused = false;
        });
      }
      return;
    }
    set_tcp_options(fd);
    ++counters_.accepted;
    Connection* c = adopt(fd, Endpoint::from_sockaddr(sa), false);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = c->id();
    c->epoll_events_ = ev.events;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    c->set_handler(l.factory(*c));
    if (!c->handler()) close_now(*c, CloseReason::kLocalAbort);
  }
}

void EventLoop::handle_connection(Connection& c, std::uint32_t events) noexcept {
  if (c.closed_) return;
  if (c.connecting_) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) finish_connect(c);
    return;
  }
  if (events & EPOLLIN) read_input(c);
  if (c.closed_) return;
  if (events & (EPOLLERR | EPOLLHUP)) {
    if (!(events & EPOLLIN)) close_now(c, CloseReason::kReset);
    return;
  }
  if (events & EPOLLOUT) flush(c);
}

void EventLoop::finish_connect(Connection& c) noexcept {
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(c.fd_, SOL_SOCKET, SO_ERROR, &err, &len);
  c.connecting_ = false;
  if (err != 0) {
    ++counters_.connect_failures;
    close_now(c, CloseReason::kConnectFailed);
    return;
  }
  c.want_write_ = false;
  update_interest(c);
  if (c.handler()) c.handler()->on_connected(c);
  if (!c.out_.empty()) mark_dirty(c);
}

void EventLoop::read_input(Connection& c) noexcept {
  ssize_t n = ::recv(c.fd_, scratch_.data(), scratch_.size(), 0);
  if (n == 0) {
    // Peer FIN: send what replies are queued (best effort), then close.
    flush(c);
    close_now(c, CloseReason::kPeerClosed);
    return;
  }
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    close_now(c, CloseReason::kReset);
    return;
  }
  counters_.bytes_in += static_cast<std::uint64_t>(n);
  c.receive(std::string_view(scratch_.data(), static_cast<std::size_t>(n)));
}

void EventLoop::mark_dirty(Connection& c) noexcept {
  if (c.dirty_ || c.closed_) return;
  c.dirty_ = true;
  dirty_.push_back(&c);
}

void EventLoop::flush(Connection& c) noexcept {
  if (c.closed_ || c.connecting_) return;
  while (c.out_sent_ < c.out_.size()) {
    ssize_t n =
        ::send(c.fd_, c.out_.data() + c.out_sent_, c.out_.size() - c.out_sent_, MSG_NOSIGNAL | MSG_DONTWAIT);
    ++counters_.sends;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      close_now(c, CloseReason::kReset);
      return;
    }
    counters_.bytes_out += static_cast<std::uint64_t>(n);
    c.out_sent_ += static_cast<std::size_t>(n);
  }
  bool was_paused = c.paused_by_output_;
  if (c.after_send(options_.output_high_water) && c.paused_by_output_) ++counters_.output_pauses;
  std::size_t pending = c.pending_output();
  bool want_write = pending > 0;
  if (want_write != c.want_write_ || was_paused != c.paused_by_output_) {
    c.want_write_ = want_write;
    update_interest(c);
  }
  if (pending == 0) {
    if (c.closing_) {
      close_now(c, CloseReason::kLocalClose);
      return;
    }
    if (c.handler()) c.handler()->on_drained(c);
  }
  if (was_paused && !c.paused_by_output_ && !c.in_.empty()) mark_dirty(c);
}

void EventLoop::update_interest(Connection& c) noexcept {
  if (c.closed_ || c.fd_ < 0 || c.connecting_) return;
  std::uint32_t want = 0;
  if (!c.reading_paused() && !c.closing_) want |= EPOLLIN;
  if (c.want_write_) want |= EPOLLOUT;
  if (want == c.epoll_events_) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = c.id();
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd_, &ev);
  c.epoll_events_ = want;
}

void EventLoop::close_now(transport::Connection& base, CloseReason reason) noexcept {
  auto& c = static_cast<Connection&>(base);
  if (c.closed_) return;
  c.closed_ = true;
  if (c.fd_ >= 0) {
    if (reason == CloseReason::kLocalAbort || reason == CloseReason::kTimeout) {
      // SO_LINGER 0: close sends RST, so no TIME_WAIT for a connection we refuse.
      linger lg{1, 0};
      ::setsockopt(c.fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd_, nullptr);
  }
  ++counters_.closed[static_cast<int>(reason)];
  --counters_.open_connections;
  if (c.handler()) c.handler()->on_closed(c, reason);
  dead_.push_back(c.id());
}

void EventLoop::close_all() noexcept {
  for (auto& [id, c] : connections_)
    close_now(*c, CloseReason::kShutdown);
}

void EventLoop::for_each_connection(const std::function<void(transport::Connection&)>& f) {
  for (auto& [id, c] : connections_)
    f(*c);
}

void EventLoop::reap() noexcept {
  // Freed at the end of the iteration, so a handler may close a connection
  // (its own or another) from any callback without a dangling pointer.
  for (std::uint64_t id : dead_)
    connections_.erase(id);
  dead_.clear();
}

}  // namespace mxdp::dataplane::kernel
