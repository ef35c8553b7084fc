// Linux as the peer over net_tap: the kernel's TCP connects to the DPDK echo
// server (a Python socket client checks every byte), and the DPDK client
// connects to a kernel echo server (Python), also with TCP segmentation
// offload (net_tap segments in the PMD). Also ICMP echo from the kernel
// (ping). Needs root; the tap interface and its 10.x address exist only while
// the test runs.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/packet_pool.hpp"
#include "dataplane/port.hpp"
#include "dataplane/stack.hpp"
#include "dataplane/tsc_clock.hpp"
#include "tests/dataplane/eal_environment.hpp"
#include "tests/dataplane/transfer_app.hpp"

namespace mxdp::dataplane::testing {
namespace {

const int kNet = 200 + static_cast<int>(getpid() % 50);  // 10.211.kNet.0/24, unique per process
const std::string kIface = "mxdptap" + std::to_string(getpid() % 100000);
const std::string kKernelIp = "10.211." + std::to_string(kNet) + ".1";
const std::string kDpdkIp = "10.211." + std::to_string(kNet) + ".2";

EalOptions tap_eal() {
  EalOptions o;
  o.vdevs.push_back("net_tap0,iface=" + kIface);
  return o;
}
const ::testing::Environment* const kEal = ::testing::AddGlobalTestEnvironment(new EalEnvironment(tap_eal()));

// The Linux side of an echo transfer, shared with the Python peer tests.
constexpr const char* kEchoClient = MXDP_TEST_DIR "/echo_client.py";

constexpr const char* kPyServer = R"(
import socket, sys
host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, port))
ls.listen(8)
open(sys.argv[4], "w").close()
for _ in range(count):
    c, _ = ls.accept()
    c.settimeout(60)
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        c.sendall(b)
    c.close()
)";

int sh(const std::string& cmd) {
  return std::system(cmd.c_str());
}

pid_t spawn(const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Echoes every byte back; closes after the peer's FIN once all is echoed.
class EchoServer {
 public:
  explicit EchoServer(Stack& s) : s_(s) {}
  void run() {
    events_.clear();
    s_.take_events(events_);
    for (const Event& e : events_) {
      if (e.type == EventType::kAccepted) conns_[e.conn.index] = Conn{e.conn, {}, false, false};
      auto it = conns_.find(e.conn.index);
      if (it == conns_.end()) continue;
      if (e.type == EventType::kPeerClosed) it->second.eof = true;
      if (e.type == EventType::kReset) it->second.failed = true;
    }
    for (auto it = conns_.begin(); it != conns_.end();) {
      Conn& c = it->second;
      for (;;) {
        RecvChain chain = s_.recv(c.id);
        if (chain.empty()) break;
        for (const auto& seg : chain.segments())
          c.pending.insert(c.pending.end(), seg.data, seg.data + seg.size);
      }
      while (!c.pending.empty()) {
        const std::size_t n = s_.send(c.id, {c.pending.data(), c.pending.size()});
        if (n == 0) break;
        c.pending.erase(c.pending.begin(), c.pending.begin() + static_cast<std::ptrdiff_t>(n));
      }
      if (c.failed || (c.eof && c.pending.empty())) {
        s_.close(c.id);
        ++finished_;
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
  }
  unsigned finished() const { return finished_; }

 private:
  struct Conn {
    ConnId id;
    std::vector<std::uint8_t> pending;
    bool eof = false;
    bool failed = false;
  };
  Stack& s_;
  std::unordered_map<std::uint32_t, Conn> conns_;
  std::vector<Event> events_;
  unsigned finished_ = 0;
};

class TapTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PacketPoolConfig pc;
    pc.name = "tap_pool";
    pc.mbufs = 16383;
    pc.cache = 0;
    pool_ = new PacketPool(pc);
    const auto id = Port::find("net_tap0");
    ASSERT_TRUE(id.has_value()) << "net_tap0 missing";
    port_ = new Port(*id, *pool_, PortConfig{});
    ASSERT_EQ(sh("ip addr add " + kKernelIp + "/24 dev " + kIface + " && ip link set " + kIface + " up"), 0);
    // No IPv6 chatter on the test interface.
    sh("sysctl -qw net.ipv6.conf." + kIface + ".disable_ipv6=1");
    port_->wait_link_up(2000);
    io_ = new PortQueue(*id, 0);
    make_stack(false);
  }

  // The stack on the port's queue: software segmentation, or TSO as the port
  // offers it. Replacing it drops the old one's connections.
  // The DPDK client echoes each size through a Linux echo server (kPyServer)
  // on `port`, byte-exact, each transfer within `timeout_s`.
  static void echo_through_kernel_server(const std::string& port, const std::vector<std::uint64_t>& sizes,
                                         int timeout_s);
  static void make_stack(bool tso) {
    delete stack_;
    StackConfig c;
    c.mac = port_->mac();
    c.ip = *Ipv4Address::parse(kDpdkIp);
    c.tx_ipv4_checksum_offload = port_->caps().tx_ipv4_checksum;
    c.tx_tcp_checksum_offload = port_->caps().tx_tcp_checksum;
    c.rx_checksum_offload = port_->caps().rx_checksum;
    c.tso = tso && port_->caps().tso;
    c.tso_max_mbufs = port_->caps().tso_max_mbufs;
    c.tso_max_frame = port_->caps().tso_max_frame;
    c.receive_buffer = 256 * 1024;
    c.send_buffer = 256 * 1024;
    c.time_wait = 1'000'000;
    stack_ = new Stack(c, *io_, *pool_, tsc_now_us());
    stack_->listen(7);
    stack_->announce();
  }
  static void TearDownTestSuite() {
    delete stack_;
    delete io_;
    delete port_;
    if (pool_ != nullptr) {
      EXPECT_EQ(pool_->available(), pool_->capacity()) << "mbufs lost";
    }
    delete pool_;
  }

  // Polls the stack (and `app`) until the child exits; returns its status.
  template <typename App>
  static int run_with(pid_t child, App& app, int timeout_s = 240) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    int status = -1;
    for (;;) {
      stack_->poll(tsc_now_us());
      app.run();
      if (waitpid(child, &status, WNOHANG) == child) break;
      if (std::chrono::steady_clock::now() > end) {
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
        return -1;
      }
    }
    // Let the stack finish its side (final ACKs, FIN).
    const auto drain = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    while (std::chrono::steady_clock::now() < drain) {
      stack_->poll(tsc_now_us());
      app.run();
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  static PacketPool* pool_;
  static Port* port_;
  static PortQueue* io_;
  static Stack* stack_;
};
PacketPool* TapTest::pool_ = nullptr;
Port* TapTest::port_ = nullptr;
PortQueue* TapTest::io_ = nullptr;
Stack* TapTest::stack_ = nullptr;

struct NoApp {
  void run() {}
};

TEST_F(TapTest, KernelPingsTheStack) {
  // A raw-socket ping from Python (iputils-ping is not installed everywhere).
  constexpr const char* kPy = R"(
import socket, struct, sys
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(2)
for seq in range(3):
    payload = b"mxdp-ping-%d" % seq
    hdr = struct.pack("!BBHHH", 8, 0, 0, 0x4d58, seq)
    pkt = struct.pack("!BBHHH", 8, 0, csum(hdr + payload), 0x4d58, seq) + payload
    s.sendto(pkt, (sys.argv[1], 0))
    while True:
        data, addr = s.recvfrom(2048)
        icmp = data[(data[0] & 0xf) * 4:]
        if addr[0] == sys.argv[1] and icmp[0] == 0 and icmp[8:] == payload and csum(icmp) == 0:
            break
)";
  NoApp app;
  const pid_t p = spawn({"/usr/bin/python3", "-c", kPy, kDpdkIp});
  EXPECT_EQ(run_with(p, app, 30), 0) << "ping failed";
  EXPECT_GE(stack_->counters().icmp_echo_replies, 3u);
}

TEST_F(TapTest, KernelClientsEchoThroughTheDpdkServerByteExact) {
  EchoServer app(*stack_);
  const std::vector<std::string> sizes = {"1", "1460", "100000", "4000000"};
  for (const auto& size : sizes) {
    const pid_t p = spawn({"/usr/bin/python3", kEchoClient, kDpdkIp, size});
    EXPECT_EQ(run_with(p, app), 0) << "echo of " << size << " bytes";
  }
  EXPECT_EQ(app.finished(), sizes.size());
}

TEST_F(TapTest, LongKernelClient100MB) {
  EchoServer app(*stack_);
  const pid_t p = spawn({"/usr/bin/python3", kEchoClient, kDpdkIp, "100000000"});
  EXPECT_EQ(run_with(p, app, 1200), 0) << "echo of 100 MB";
}

// DPDK client: sends a pattern, half-closes, reads the echo back and checks it.
class EchoClient {
 public:
  EchoClient(Stack& s, Ipv4Address ip, std::uint16_t port, std::uint64_t size)
      : s_(s), ip_(ip), port_(port), size_(size) {}
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
        // The kernel server may not listen yet: try again.
        s_.close(id_);
        if (++retries_ > 50) {
          done_ = true;
          error_ = "reset";
          return;
        }
        sent_ = received_ = 0;
        shut_ = eof_ = false;
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
        buf[i] = pattern_byte(7, sent_ + i);
      const std::size_t n = s_.send(id_, {buf, chunk});
      sent_ += n;
      if (n < chunk) break;
    }
    if (sent_ == size_ && !shut_) {
      shut_ = s_.shutdown(id_) == Status::kOk;
    }
    for (;;) {
      RecvChain chain = s_.recv(id_);
      if (chain.empty()) break;
      for (const auto& seg : chain.segments()) {
        for (std::uint32_t i = 0; i < seg.size; ++i) {
          if (seg.data[i] != pattern_byte(7, received_ + i) && error_.empty()) {
            error_ = "mismatch at " + std::to_string(received_ + i);
          }
        }
        received_ += seg.size;
      }
    }
    if (eof_) {
      auto info = s_.info(id_);
      if (info && info->readable_bytes == 0) {
        if (received_ != size_ && error_.empty()) error_ = "short: " + std::to_string(received_);
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
  ConnId id_;
  bool started_ = false, shut_ = false, eof_ = false, done_ = false;
  unsigned retries_ = 0;
  std::uint64_t sent_ = 0, received_ = 0;
  std::string error_;
  std::vector<Event> events_;
};

void TapTest::echo_through_kernel_server(const std::string& port, const std::vector<std::uint64_t>& sizes,
                                         int timeout_s) {
  const std::string ready = "/tmp/mxdp_tap_ready_" + port + "_" + std::to_string(getpid());
  std::remove(ready.c_str());
  const pid_t server =
      spawn({"/usr/bin/python3", "-c", kPyServer, kKernelIp, port, std::to_string(sizes.size()), ready});
  for (int i = 0; i < 500 && access(ready.c_str(), F_OK) != 0; ++i)
    usleep(10'000);
  for (const std::uint64_t size : sizes) {
    EchoClient client(*stack_, *Ipv4Address::parse(kKernelIp), static_cast<std::uint16_t>(std::stoi(port)),
                      size);
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (!client.done() && std::chrono::steady_clock::now() < end) {
      stack_->poll(tsc_now_us());
      client.run();
    }
    EXPECT_TRUE(client.done()) << "timed out at size " << size;
    EXPECT_EQ(client.error(), "") << "size " << size;
  }
  NoApp app;
  EXPECT_EQ(run_with(server, app, 30), 0);
  std::remove(ready.c_str());
}

TEST_F(TapTest, DpdkClientEchoesThroughAKernelServerByteExact) {
  echo_through_kernel_server("9007", {1, 65536, 3'000'000}, 120);
}

TEST_F(TapTest, KernelGetsRstForAClosedPort) {
  constexpr const char* kPy = R"(
import socket, sys
try:
    socket.create_connection((sys.argv[1], 4444), timeout=5)
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)
)";
  NoApp app;
  const pid_t p = spawn({"/usr/bin/python3", "-c", kPy, kDpdkIp});
  EXPECT_EQ(run_with(p, app, 30), 0) << "expected ECONNREFUSED";
}

TEST_F(TapTest, TimeWaitDrainsAndCountersAddUp) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (stack_->connection_count() > 0 && std::chrono::steady_clock::now() < end) {
    stack_->poll(tsc_now_us());
  }
  EXPECT_EQ(stack_->connection_count(), 0u);
  EXPECT_GE(stack_->counters().tcp_passive_opens, 4u);
  EXPECT_GE(stack_->counters().tcp_active_opens, 3u);
  std::printf("port %s: driver %s, tx cksum offload ip %d tcp %d, rx cksum %d, tso %d, link %s\n",
              port_->mac().to_string().c_str(), port_->caps().driver.c_str(), port_->caps().tx_ipv4_checksum,
              port_->caps().tx_tcp_checksum, port_->caps().rx_checksum, port_->caps().tso,
              port_->link().to_string().c_str());
}

// TSO (last: it replaces the suite's stack): the DPDK client's bulk data
// leaves as super-segments of up to 64 KiB that net_tap cuts into MSS-sized
// segments (rte_gso in the PMD); the kernel echo server returns every byte
// and the client checks them. No super-segment may be refused by the port.
TEST_F(TapTest, TsoDpdkClientSendsMegabytesToAKernelServerByteExact) {
  ASSERT_TRUE(port_->caps().tso) << "net_tap offers TSO (DPDK 22.11)";
  EXPECT_EQ(port_->caps().tso_max_frame, 1500) << "net_tap counts the Ethernet header against the MTU";
  make_stack(true);
  ASSERT_TRUE(stack_->config().tso);
  const PortStats port_before = port_->stats();
  echo_through_kernel_server("9008", {1, 100'000, 8'000'000}, 180);
  const StackCounters& c = stack_->counters();
  const PortStats port_after = port_->stats();
  std::printf(
      "tso: %llu super-segments, %llu packets and %llu bytes sent, %llu retransmits; port: %llu packets out, "
      "%llu errors\n",
      static_cast<unsigned long long>(c.tcp_tso_sends), static_cast<unsigned long long>(c.tx_packets),
      static_cast<unsigned long long>(c.tx_bytes), static_cast<unsigned long long>(c.tcp_retransmits),
      static_cast<unsigned long long>(port_after.tx_packets - port_before.tx_packets),
      static_cast<unsigned long long>(port_after.tx_errors - port_before.tx_errors));
  EXPECT_GT(c.tcp_tso_sends, 0u);
  EXPECT_EQ(c.drop(DropReason::kTxFull), 0u) << "the port refused packets";
  EXPECT_EQ(port_after.tx_errors, port_before.tx_errors);
  // The port made more packets than the stack handed it: it segmented.
  EXPECT_GT(port_after.tx_packets - port_before.tx_packets, c.tx_packets);
}

}  // namespace
}  // namespace mxdp::dataplane::testing
