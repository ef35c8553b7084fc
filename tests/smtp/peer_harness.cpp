// A test-only kernel-socket transport for the smtp engines, so real peers can
// talk to them (label "peers"): swaks, Python smtplib and Postfix smtp-source
// against the server session, and the client session against Postfix
// smtp-sink. It lives in tests/: the smtp library itself has no sockets.
//
//   smtp_peer_harness serve CONNECTIONS     listen on 127.0.0.1:<ephemeral>,
//       print "port N", serve CONNECTIONS connections one after another, then
//       print "delivered M messages=... rejected R" and exit
//   smtp_peer_harness send PORT MESSAGES [bdat|data]
//       send MESSAGES messages over one connection; print the outcome counts;
//       exit 0 when every message was accepted

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "smtp/client_session.hpp"
#include "smtp/server_session.hpp"

namespace {

using namespace mxdp::smtp;

class CountingSink : public MessageSink {
 public:
  std::size_t delivered = 0;
  std::size_t bad_bodies = 0;
  RecipientVerdict check_recipient(std::string_view mailbox, const Envelope&) noexcept override {
    return mailbox.substr(0, 6) == "reject" ? RecipientVerdict::kReject : RecipientVerdict::kAccept;
  }
  SinkAnswer on_message(const Envelope&, const Body& body, std::uint64_t) noexcept override {
    bool after_cr = false;
    for (auto s : body.segments) {
      for (const char c : s) {
        if ((c == '\n' && !after_cr) || (after_cr && c != '\n')) ++bad_bodies;
        after_cr = c == '\r';
      }
    }
    ++delivered;
    return {};
  }
};

Time now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return Time{static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec};
}

bool write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(fd, s.data(), s.size());
    if (n <= 0) return false;
    s.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void serve_connection(int fd, CountingSink& sink) {
  ServerConfig config;
  config.hostname = "mxdp.test";
  config.idle_timeout = std::chrono::seconds(20);
  ServerSession s(config, sink);
  s.start(now());
  // Input chunks by feed sequence, released once retain_from() passes them.
  std::deque<std::pair<std::uint64_t, std::unique_ptr<std::string>>> held;
  std::string pending;  // bytes the session did not take yet
  while (true) {
    if (!write_all(fd, s.output())) break;
    s.consume_output(s.output().size());
    if (s.wants_close()) break;
    pollfd p{fd, POLLIN, 0};
    const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(s.deadline() - now()).count();
    if (poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, wait_ms))) == 0) {
      s.on_tick(now());
      continue;
    }
    char buf[16384];
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    pending.append(buf, static_cast<std::size_t>(n));
    while (!pending.empty() && s.wants_input()) {
      auto chunk = std::make_unique<std::string>(std::move(pending));
      pending.clear();
      const std::uint64_t seq = s.feed_seq();
      const std::size_t used = s.feed(*chunk, now());
      pending = chunk->substr(used);
      held.emplace_back(seq, std::move(chunk));
      if (!write_all(fd, s.output())) break;
      s.consume_output(s.output().size());
      if (used == 0) break;
    }
    while (!held.empty() && held.front().first < s.retain_from())
      held.pop_front();
  }
  ::close(fd);
}

int serve(int connections) {
  const int ls = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  if (ls < 0 || ::bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(ls, 64) != 0 ||
      ::getsockname(ls, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    std::perror("listen");
    return 1;
  }
  std::printf("port %d\n", ntohs(a.sin_port));
  std::fflush(stdout);
  CountingSink sink;
  for (int i = 0; i < connections; ++i) {
    const int fd = ::accept(ls, nullptr, nullptr);
    if (fd < 0) return 1;
    serve_connection(fd, sink);
  }
  std::printf("delivered %zu bad_bodies %zu\n", sink.delivered, sink.bad_bodies);
  return sink.bad_bodies == 0 ? 0 : 1;
}

class Tally : public ClientObserver {
 public:
  std::size_t accepted = 0, failed = 0;
  void on_result(const MessageResult& r) noexcept override {
    if (r.outcome == Outcome::kAccepted) {
      ++accepted;
    } else {
      ++failed;
      std::printf("message %llu failed: %u %.*s\n", static_cast<unsigned long long>(r.cookie), r.code,
                  static_cast<int>(r.text.size()), r.text.data());
    }
  }
};

int send(int port, int messages, bool bdat) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    std::perror("connect");
    return 1;
  }
  Tally tally;
  ClientConfig config;
  config.prefer_chunking = bdat;
  ClientSession c(config, tally);
  const std::string body =
      "Subject: from mxdp\r\n\r\n.leading dot\r\n" + std::string(900, 'x') + "\r\nend\r\n";
  const std::string_view parts[] = {body};
  const std::string_view rcpts[] = {"one@example.org", "two@example.org"};
  int submitted = 0;
  while (!c.wants_close()) {
    while (submitted < messages) {
      OutgoingMessage m;
      m.reverse_path = "mxdp@example.org";
      m.recipients = rcpts;
      m.body = parts;
      m.cookie = static_cast<std::uint64_t>(submitted);
      if (!c.submit(m)) break;
      ++submitted;
    }
    if (submitted == messages) c.quit();
    if (!write_all(fd, c.output())) break;
    c.consume_output(c.output().size());
    if (!c.output().empty()) continue;
    char buf[16384];
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) {
      c.connection_lost();
      break;
    }
    c.feed(std::string_view(buf, static_cast<std::size_t>(n)));
  }
  ::close(fd);
  std::printf("accepted %zu failed %zu pipelining %d chunking %d\n", tally.accepted, tally.failed,
              c.capabilities().pipelining, c.capabilities().chunking);
  return tally.accepted == static_cast<std::size_t>(messages) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "serve") == 0) return serve(std::atoi(argv[2]));
  if (argc >= 4 && std::strcmp(argv[1], "send") == 0) {
    return send(std::atoi(argv[2]), std::atoi(argv[3]), argc < 5 || std::strcmp(argv[4], "data") != 0);
  }
  std::fprintf(stderr, "usage: smtp_peer_harness serve CONNECTIONS | send PORT MESSAGES [bdat|data]\n");
  return 2;
}
