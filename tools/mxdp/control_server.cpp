#include "tools/mxdp/control_server.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mxdp::cli {

namespace {

constexpr std::size_t kMaxLine = 4096;

bool fill_address(const std::string& path, sockaddr_un& sa) {
  std::memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) return false;
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  return true;
}

// poll() and recv() that retry when a signal interrupts them: DPDK's tap
// driver, for one, has signals delivered to the process, and any thread may
// take them (an EINTR dropped a `mxdp ctl` client without an answer).
int poll_one(pollfd& p, int timeout_ms) {
  for (;;) {
    int ready = ::poll(&p, 1, timeout_ms);
    if (ready >= 0 || errno != EINTR) return ready;
  }
}

ssize_t recv_some(int fd, char* buf, std::size_t size) {
  for (;;) {
    ssize_t n = ::recv(fd, buf, size, 0);
    if (n >= 0 || errno != EINTR) return n;
  }
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

ControlServer::~ControlServer() {
  stop();
}

std::string ControlServer::start(const std::string& path, CommandHandler handler,
                                 std::function<void()> tick) {
  sockaddr_un sa;
  if (!fill_address(path, sa)) return "control socket path too long: " + path;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket: ") + std::strerror(errno);
  ::unlink(path.c_str());  // a stale socket from a previous run
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, 16) != 0) {
    std::string err = "control socket " + path + ": " + std::strerror(errno);
    ::close(fd);
    return err;
  }
  path_ = path;
  listen_fd_ = fd;
  handler_ = std::move(handler);
  tick_ = std::move(tick);
  stop_.store(false);
  thread_ = std::thread([this] { serve(); });
  return "";
}

void ControlServer::stop() {
  if (!thread_.joinable()) return;
  stop_.store(true);
  thread_.join();
  ::close(listen_fd_);
  listen_fd_ = -1;
  ::unlink(path_.c_str());
}

void ControlServer::serve() {
  while (!stop_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    int ready = poll_one(p, 100);
    if (tick_) tick_();
    if (ready <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    serve_client(fd);
    ::close(fd);
  }
}

// One client at a time: control traffic is rare and small. A client that
// stalls is dropped after 5 s of silence so it cannot wedge the thread (a
// second was too short for a client starved of CPU on a loaded machine, next
// to a busy-polling lcore).
void ControlServer::serve_client(int fd) {
  std::string buffer;
  char chunk[1024];
  while (!stop_.load()) {
    pollfd p{fd, POLLIN, 0};
    int ready = poll_one(p, 5000);
    if (ready <= 0) return;
    ssize_t n = recv_some(fd, chunk, sizeof chunk);
    if (n <= 0) return;
    buffer.append(chunk, static_cast<std::size_t>(n));
    std::size_t eol;
    while ((eol = buffer.find('\n')) != std::string::npos) {
      std::string line = buffer.substr(0, eol);
      buffer.erase(0, eol + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      std::string answer = handler_(line);
      if (!answer.empty() && answer.back() != '\n') answer += '\n';
      answer += ".\n";
      if (!write_all(fd, answer)) return;
    }
    if (buffer.size() > kMaxLine) {
      write_all(fd, "error: line too long\n.\n");
      return;
    }
  }
}

bool control_request(const std::string& path, std::string_view command, std::string& answer) {
  sockaddr_un sa;
  answer.clear();
  if (!fill_address(path, sa)) {
    answer = "control socket path too long: " + path;
    return false;
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    answer = "cannot connect to " + path + ": " + std::strerror(errno) + " (is `mxdp serve` running?)";
    if (fd >= 0) ::close(fd);
    return false;
  }
  std::string line(command);
  line += '\n';
  bool ok = write_all(fd, line);
  std::string got;
  char chunk[4096];
  while (ok) {
    ssize_t n = recv_some(fd, chunk, sizeof chunk);
    if (n <= 0) break;
    got.append(chunk, static_cast<std::size_t>(n));
    if (got.size() >= 2 && (got == ".\n" || got.ends_with("\n.\n"))) break;
  }
  ::close(fd);
  if (got.ends_with(".\n")) got.resize(got.size() - 2);
  answer = got;
  return ok && !got.empty();
}

}  // namespace mxdp::cli
