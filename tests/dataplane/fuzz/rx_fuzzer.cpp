// libFuzzer target for the receive path: packets built from the input go into
// a stack that has live connections (one accepted, one opened, data in
// flight). Each input runs in a fresh pair of stacks, and at the end every
// mbuf must be back in the pool: no crash, no leak, no mbuf lost.
//
// Input: records of [mode:1][len:1][bytes:len].
//   mode even: a raw frame of `bytes` into stack B.
//   mode odd:  a TCP segment to one of B's live connections, with correct
//              addresses, ports and checksums; bytes = [flags:1][seq delta:4]
//              [ack delta:4][window:2][option length:1][options][payload],
//              deltas relative to B's RCV.NXT / SND.UNA (so they hit the window).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dataplane/checksum.hpp"
#include "dataplane/eal.hpp"
#include "dataplane/packet_pool.hpp"
#include "dataplane/stack.hpp"
#include "dataplane/test_link.hpp"
#include "dataplane/wire.hpp"

using namespace mxdp::dataplane;

namespace {

PacketPool& pool() {
  static PacketPool* p = [] {
    EalOptions o;
    o.memory_mb = 256;
    start_eal(o);
    PacketPoolConfig pc;
    pc.name = "fuzz_pool";
    pc.mbufs = 4095;
    pc.cache = 0;  // exact accounting
    return new PacketPool(pc);
  }();
  return *p;
}

StackConfig config(int which) {
  StackConfig c;
  c.mac = MacAddress{{0x02, 0, 0, 0, 0, static_cast<std::uint8_t>(which)}};
  c.ip = Ipv4Address::from_octets(10, 0, 0, static_cast<std::uint8_t>(which));
  c.time_wait = 100'000;
  c.max_connections = 64;
  c.syn_backlog = 8;
  return c;
}

std::uint32_t get32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

std::vector<std::uint8_t> tcp_frame(const Stack& b, const ConnInfo& ci, const std::uint8_t* d,
                                    std::size_t n) {
  std::vector<std::uint8_t> f;
  if (n < 12) return f;
  const std::uint8_t flags = d[0];
  const std::uint32_t seq = ci.rcv_nxt + get32(d + 1);
  const std::uint32_t ack = ci.snd_una + get32(d + 5);
  const std::uint16_t window = static_cast<std::uint16_t>((d[9] << 8) | d[10]);
  std::size_t optlen = std::min<std::size_t>(d[11] & 0x3c, n - 12);  // multiple of 4, <= 60
  optlen &= ~std::size_t{3};
  const std::size_t payload = n - 12 - optlen;
  const std::size_t tcp_len = 20 + optlen + payload;
  f.resize(14 + 20 + tcp_len);
  auto* eth = reinterpret_cast<wire::EthernetHeader*>(f.data());
  std::memcpy(eth->dst, b.config().mac.bytes.data(), 6);
  const MacAddress peer{{0x02, 0, 0, 0, 0, 1}};
  std::memcpy(eth->src, peer.bytes.data(), 6);
  eth->ether_type.set(wire::kEtherTypeIpv4);
  auto* ip = reinterpret_cast<wire::Ipv4Header*>(f.data() + 14);
  ip->version_ihl = 0x45;
  ip->total_length.set(static_cast<std::uint16_t>(20 + tcp_len));
  ip->ttl = 64;
  ip->protocol = wire::kIpProtoTcp;
  ip->src.set(ci.remote_ip.value);
  ip->dst.set(b.config().ip.value);
  ip->checksum.set(ipv4_header_checksum({f.data() + 14, 20}));
  auto* t = reinterpret_cast<wire::TcpHeader*>(f.data() + 34);
  t->src_port.set(ci.remote_port);
  t->dst_port.set(ci.local_port);
  t->seq.set(seq);
  t->ack.set(ack);
  t->data_offset = static_cast<std::uint8_t>(((20 + optlen) / 4) << 4);
  t->flags = flags;
  t->window.set(window);
  std::memcpy(f.data() + 54, d + 12, optlen + payload);
  t->checksum.set(tcp_checksum(ci.remote_ip, b.config().ip, {f.data() + 34, tcp_len}));
  return f;
}

void run(const std::uint8_t* data, std::size_t size) {
  PacketPool& p = pool();
  TestLink link(p, LinkImpairments{});
  TimeUs now = 1'000'000;
  Stack a(config(1), link.a(), p, now);
  Stack b(config(2), link.b(), p, now);
  auto step = [&](int n) {
    for (int i = 0; i < n; ++i) {
      link.set_now(now);
      a.poll(now);
      b.poll(now);
      now += 100;
    }
  };
  a.listen(80);
  b.listen(80);
  a.announce();
  b.announce();
  step(2);
  ConnId a_to_b, b_to_a;
  a.connect(b.config().ip, 80, a_to_b);
  b.connect(a.config().ip, 80, b_to_a);
  step(6);
  std::vector<Event> ev;
  std::vector<ConnId> b_conns{b_to_a};
  b.take_events(ev);
  for (const Event& e : ev) {
    if (e.type == EventType::kAccepted) b_conns.push_back(e.conn);
  }
  if (b_conns.size() != 2 || !b.info(b_to_a) || b.info(b_to_a)->state != TcpState::kEstablished) {
    std::fprintf(stderr, "fuzz harness: connections did not come up\n");
    std::abort();
  }
  const std::uint8_t hello[300] = {1, 2, 3};
  a.send(a_to_b, hello);
  b.send(b_to_a, hello);
  step(1);

  std::size_t i = 0;
  while (i + 2 <= size) {
    const std::uint8_t mode = data[i];
    const std::size_t n = std::min<std::size_t>(data[i + 1], size - i - 2);
    const std::uint8_t* d = data + i + 2;
    i += 2 + n;
    std::vector<std::uint8_t> frame;
    if (mode % 2 == 0) {
      frame.assign(d, d + n);
    } else {
      const ConnId c = b_conns[(mode / 2) % b_conns.size()];
      const auto ci = b.info(c);
      if (!ci) continue;
      frame = tcp_frame(b, *ci, d, n);
    }
    if (frame.empty()) continue;
    rte_mbuf* m = mbuf_from_bytes(p, frame);
    if (m == nullptr) continue;
    b.input(m);
    // Let the application read, as a live consumer would.
    for (const ConnId& c : b_conns)
      b.recv(c).release();
    step(1);
  }
  // Run the connections out: close everything, pass timers.
  ev.clear();
  b.take_events(ev);
  a.take_events(ev);
  for (const ConnId& c : b_conns)
    b.close(c);
  a.close(a_to_b);
  step(20);
  now += 200'000'000;
  step(3);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  run(data, size);
  // Everything (stacks, link) is gone: every mbuf must be home.
  if (pool().available() != pool().capacity()) {
    std::fprintf(stderr, "mbuf leak: %u of %u in the pool\n", pool().available(), pool().capacity());
    std::abort();
  }
  return 0;
}
