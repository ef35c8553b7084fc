// A Stack on one virtual port as a process of its own, for test scripts that
// need Linux (scapy, Python sockets, network namespaces) as the peer:
//
//   dataplane_stack_peer [EAL args] -- serve  --port net_tap0 --ip 10.1.2.2 [options]
//   dataplane_stack_peer [EAL args] -- client --port net_af_packet0 --ip 10.1.2.2
//                                             --connect 10.1.2.1:9007 --size N [--count K]
//
// serve listens on 7 (echo), 9 (discard), 13 (hold: reads and discards, never
// closes, so CLOSE-WAIT lasts) and 19 (chargen: sends --chargen-bytes, then
// closes). It prints "READY <mac>" once the port runs; a "counters" line on
// stdin prints "COUNTERS {json}"; end of stdin (or SIGTERM) stops it, and the
// exit status is 0 only when every mbuf went back to the pool.
//
// client runs echo transfers against a kernel echo server: sends a pattern of
// --size bytes, half-closes, checks the echo byte for byte; exits 0 when all
// --count transfers were exact.

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/eal.hpp"
#include "dataplane/packet_pool.hpp"
#include "dataplane/port.hpp"
#include "dataplane/stack.hpp"
#include "dataplane/tsc_clock.hpp"
#include "tests/dataplane/transfer_app.hpp"

namespace mxdp::dataplane::testing {
namespace {

volatile std::sig_atomic_t g_stop = 0;

struct Options {
  std::string mode;
  std::string port = "net_tap0";
  std::string ip;
  std::uint32_t syn_backlog = 1024;
  std::uint32_t receive_buffer = 256 * 1024;
  std::uint64_t chargen_bytes = 100'000;
  std::string connect_ip;
  std::uint16_t connect_port = 0;
  std::uint64_t size = 0;
  unsigned count = 1;
  int timeout_s = 60;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "stack_peer: %s\n", why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  if (argc < 1) usage("no mode: serve or client");
  o.mode = argv[0];
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + a).c_str());
    const std::string v = argv[++i];
    if (a == "--port") {
      o.port = v;
    } else if (a == "--ip") {
      o.ip = v;
    } else if (a == "--syn-backlog") {
      o.syn_backlog = static_cast<std::uint32_t>(std::stoul(v));
    } else if (a == "--receive-buffer") {
      o.receive_buffer = static_cast<std::uint32_t>(std::stoul(v));
    } else if (a == "--chargen-bytes") {
      o.chargen_bytes = std::stoull(v);
    } else if (a == "--connect") {
      const auto colon = v.find(':');
      if (colon == std::string::npos) usage("--connect IP:PORT");
      o.connect_ip = v.substr(0, colon);
      o.connect_port = static_cast<std::uint16_t>(std::stoul(v.substr(colon + 1)));
    } else if (a == "--size") {
      o.size = std::stoull(v);
    } else if (a == "--count") {
      o.count = static_cast<unsigned>(std::stoul(v));
    } else if (a == "--timeout") {
      o.timeout_s = std::stoi(v);
    } else {
      usage(("unknown option " + a).c_str());
    }
  }
  if (o.mode != "serve" && o.mode != "client") usage("mode is serve or client");
  if (!Ipv4Address::parse(o.ip)) usage("--ip A.B.C.D is required");
  if (o.mode == "client" && !Ipv4Address::parse(o.connect_ip)) usage("client needs --connect IP:PORT");
  return o;
}

void print_counters(const Stack& s) {
  const StackCounters& c = s.counters();
  std::printf(
      "COUNTERS {\"connections\": %zu, \"passive_opens\": %llu, \"active_opens\": %llu, "
      "\"challenge_acks\": %llu, \"challenge_acks_suppressed\": %llu, \"zero_window_probes\": %llu, "
      "\"syn_cookies_sent\": %llu, "
      "\"syn_cookies_accepted\": %llu, \"rsts_sent\": %llu, \"rsts_received\": %llu, "
      "\"retransmits\": %llu, \"drops_out_of_window\": %llu, \"drops_no_connection\": %llu, "
      "\"drops_backlog_full\": %llu}\n",
      s.connection_count(), static_cast<unsigned long long>(c.tcp_passive_opens),
      static_cast<unsigned long long>(c.tcp_active_opens),
      static_cast<unsigned long long>(c.tcp_challenge_acks),
      static_cast<unsigned long long>(c.tcp_challenge_acks_suppressed),
      static_cast<unsigned long long>(c.tcp_zero_window_probes),
      static_cast<unsigned long long>(c.tcp_syn_cookies_sent),
      static_cast<unsigned long long>(c.tcp_syn_cookies_accepted),
      static_cast<unsigned long long>(c.tcp_rsts_sent), static_cast<unsigned long long>(c.tcp_rsts_received),
      static_cast<unsigned long long>(c.tcp_retransmits),
      static_cast<unsigned long long>(c.drop(DropReason::kTcpOutOfWindow)),
      static_cast<unsigned long long>(c.drop(DropReason::kTcpNoConnection)),
      static_cast<unsigned long long>(c.drop(DropReason::kTcpBacklogFull)));
  std::fflush(stdout);
}

// The four services of `serve`.
class Services {
 public:
  Services(Stack& s, std::uint64_t chargen_bytes) : s_(s), chargen_bytes_(chargen_bytes) {
    for (std::uint16_t p : {7, 9, 13, 19})
      s_.listen(p);
  }

  void run() {
    events_.clear();
    s_.take_events(events_);
    for (const Event& e : events_) {
      if (e.type == EventType::kAccepted) {
        Conn c;
        c.id = e.conn;
        c.service = e.port;
        if (e.port == 19) c.to_send = chargen_bytes_;
        conns_[e.conn.index] = std::move(c);
      }
      auto it = conns_.find(e.conn.index);
      if (it == conns_.end() || !(it->second.id == e.conn)) continue;
      if (e.type == EventType::kPeerClosed) it->second.eof = true;
      if (e.type == EventType::kReset || e.type == EventType::kClosed) it->second.dead = true;
    }
    for (auto it = conns_.begin(); it != conns_.end();) {
      Conn& c = it->second;
      for (;;) {
        RecvChain chain = s_.recv(c.id);
        if (chain.empty()) break;
        if (c.service == 7) {
          for (const auto& seg : chain.segments())
            c.pending.insert(c.pending.end(), seg.data, seg.data + seg.size);
        }
      }
      while (!c.pending.empty()) {
        const std::size_t n = s_.send(c.id, {c.pending.data(), c.pending.size()});
        if (n == 0) break;
        c.pending.erase(c.pending.begin(), c.pending.begin() + static_cast<std::ptrdiff_t>(n));
      }
      while (c.sent < c.to_send) {
        std::uint8_t buf[4096];
        const std::size_t chunk = std::min<std::uint64_t>(sizeof buf, c.to_send - c.sent);
        for (std::size_t i = 0; i < chunk; ++i)
          buf[i] = static_cast<std::uint8_t>('A' + (c.sent + i) % 26);
        const std::size_t n = s_.send(c.id, {buf, chunk});
        c.sent += n;
        if (n < chunk) break;
      }
      const bool chargen_done = c.service == 19 && c.sent == c.to_send;
      const bool echo_done = (c.service == 7 || c.service == 9) && c.eof && c.pending.empty();
      if (c.dead || chargen_done || echo_done) {
        s_.close(c.id);
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
  }

 private:
  struct Conn {
    ConnId id;
    std::uint16_t service = 0;
    std::vector<std::uint8_t> pending;
    std::uint64_t to_send = 0, sent = 0;
    bool eof = false, dead = false;
  };
  Stack& s_;
  std::uint64_t chargen_bytes_;
  std::unordered_map<std::uint32_t, Conn> conns_;
  std::vector<Event> events_;
};

// One echo transfer as a client; retries a refused connect (the kernel server
// may not listen yet).
class EchoClient {
 public:
  EchoClient(Stack& s, Ipv4Address ip, std::uint16_t port, std::uint64_t size, std::uint32_t seed)
      : s_(s), ip_(ip), port_(port), size_(size), seed_(seed) {}

  void run() {
    if (!started_) {
      started_ = true;
      s_.connect(ip_, port_, id_);
    }
    events_.clear();
    s_.take_events(events_);
    for (const Event& e : events_) {
      if (!(e.conn == id_)) continue;
      if (e.type == EventType::kReset) {
        s_.close(id_);
        if (++retries_ > 50 || sent_ > 0) {
          done_ = true;
          error_ = "reset";
          return;
        }
        s_.connect(ip_, port_, id_);
        return;
      }
      if (e.type == EventType::kPeerClosed) eof_ = true;
    }
    if (done_) return;
    while (sent_ < size_) {
      std::uint8_t buf[8192];
      const std::size_t chunk = std::min<std::uint64_t>(sizeof buf, size_ - sent_);
      for (std::size_t i = 0; i < chunk; ++i)
        buf[i] = pattern_byte(seed_, sent_ + i);
      const std::size_t n = s_.send(id_, {buf, chunk});
      sent_ += n;
      if (n < chunk) break;
    }
    if (sent_ == size_ && !shut_) shut_ = s_.shutdown(id_) == Status::kOk;
    for (;;) {
      RecvChain chain = s_.recv(id_);
      if (chain.empty()) break;
      for (const auto& seg : chain.segments()) {
        for (std::uint32_t i = 0; i < seg.size; ++i) {
          if (seg.data[i] != pattern_byte(seed_, received_ + i) && error_.empty())
            error_ = "mismatch at byte " + std::to_string(received_ + i);
        }
        received_ += seg.size;
      }
    }
    if (eof_) {
      const auto info = s_.info(id_);
      if (info && info->readable_bytes == 0) {
        if (received_ != size_ && error_.empty()) error_ = "short echo: " + std::to_string(received_);
        s_.close(id_);
        done_ = true;
      }
    }
  }
  bool done() const { return done_; }
  const std::string& error() const { return error_; }

 private:
  Stack& s_;
  Ipv4Address ip_;
  std::uint16_t port_;
  std::uint64_t size_;
  std::uint32_t seed_;
  ConnId id_;
  bool started_ = false, shut_ = false, eof_ = false, done_ = false;
  unsigned retries_ = 0;
  std::uint64_t sent_ = 0, received_ = 0;
  std::string error_;
  std::vector<Event> events_;
};

// Reads whole lines from stdin without blocking; returns false at EOF.
bool poll_stdin(std::string& buffer, std::vector<std::string>& lines) {
  char buf[256];
  for (;;) {
    const ssize_t n = read(0, buf, sizeof buf);
    if (n == 0) return false;
    if (n < 0) return true;  // EAGAIN: nothing now
    buffer.append(buf, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      lines.push_back(buffer.substr(0, nl));
      buffer.erase(0, nl + 1);
    }
  }
}

int run(const Options& o) {
  int rc = 0;
  PacketPoolConfig pc;
  pc.name = "peer_pool";
  pc.mbufs = 16383;
  pc.cache = 0;
  PacketPool pool(pc);
  {
    const auto id = Port::find(o.port);
    if (!id) usage(("no port " + o.port + ": pass --vdev=" + o.port + ",iface=NAME").c_str());
    Port port(*id, pool, PortConfig{});
    PortQueue io(*id, 0);
    StackConfig c;
    c.mac = port.mac();
    c.ip = *Ipv4Address::parse(o.ip);
    c.tx_ipv4_checksum_offload = port.caps().tx_ipv4_checksum;
    c.tx_tcp_checksum_offload = port.caps().tx_tcp_checksum;
    c.rx_checksum_offload = port.caps().rx_checksum;
    c.receive_buffer = o.receive_buffer;
    c.send_buffer = 256 * 1024;
    c.syn_backlog = o.syn_backlog;
    c.time_wait = 1'000'000;
    {
      Stack stack(c, io, pool, tsc_now_us());
      std::printf("READY %s\n", port.mac().to_string().c_str());
      std::fflush(stdout);
      fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
      std::string in;
      std::vector<std::string> lines;
      auto last_announce = std::chrono::steady_clock::now() - std::chrono::seconds(10);
      if (o.mode == "serve") {
        Services app(stack, o.chargen_bytes);
        while (g_stop == 0) {
          // Announce every second: the interface may come up after READY.
          if (std::chrono::steady_clock::now() - last_announce > std::chrono::seconds(1)) {
            stack.announce();
            last_announce = std::chrono::steady_clock::now();
          }
          stack.poll(tsc_now_us());
          app.run();
          lines.clear();
          if (!poll_stdin(in, lines)) break;
          for (const auto& l : lines) {
            if (l == "counters") print_counters(stack);
          }
        }
      } else {
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s);
        for (unsigned k = 0; k < o.count && rc == 0; ++k) {
          EchoClient client(stack, *Ipv4Address::parse(o.connect_ip), o.connect_port, o.size, 7 + k);
          while (!client.done() && g_stop == 0 && std::chrono::steady_clock::now() < end) {
            if (std::chrono::steady_clock::now() - last_announce > std::chrono::seconds(1)) {
              stack.announce();
              last_announce = std::chrono::steady_clock::now();
            }
            stack.poll(tsc_now_us());
            client.run();
          }
          if (!client.done()) {
            std::fprintf(stderr, "stack_peer: transfer %u timed out\n", k);
            rc = 1;
          } else if (!client.error().empty()) {
            std::fprintf(stderr, "stack_peer: transfer %u: %s\n", k, client.error().c_str());
            rc = 1;
          } else {
            std::printf("TRANSFER %u OK %llu bytes\n", k, static_cast<unsigned long long>(o.size));
            std::fflush(stdout);
          }
        }
      }
      // Let the last ACKs and FINs go out.
      const auto drain = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
      while (std::chrono::steady_clock::now() < drain)
        stack.poll(tsc_now_us());
      print_counters(stack);
    }
  }
  if (pool.available() != pool.capacity()) {
    std::fprintf(stderr, "stack_peer: %u mbufs lost\n", pool.capacity() - pool.available());
    rc = 1;
  }
  return rc;
}

}  // namespace
}  // namespace mxdp::dataplane::testing

int main(int argc, char** argv) {
  using namespace mxdp::dataplane;
  std::signal(SIGTERM, [](int) { testing::g_stop = 1; });
  std::signal(SIGINT, [](int) { testing::g_stop = 1; });
  int sep = 1;
  while (sep < argc && std::strcmp(argv[sep], "--") != 0)
    ++sep;
  if (sep >= argc)
    testing::usage("usage: stack_peer [EAL args] -- serve|client --port NAME --ip A.B.C.D ...");
  const testing::Options o = testing::parse(argc - sep - 1, argv + sep + 1);
  // The EAL arguments given (the --vdev) go on top of the test defaults:
  // --no-huge unless hugepages are free, --no-pci, a per-process file prefix.
  EalOptions eal;
  eal.program = "stack_peer";
  for (int i = 1; i < sep; ++i)
    eal.extra.emplace_back(argv[i]);
  try {
    start_eal(eal);
    return testing::run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stack_peer: %s\n", e.what());
    return 1;
  }
}
