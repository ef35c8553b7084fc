#include "dataplane/stack_loop.hpp"

#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <cstdio>
#include <thread>

#include "dataplane/eal.hpp"
#include "dataplane/packet_pool.hpp"
#include "dataplane/tsc_clock.hpp"

namespace mxdp::dataplane {

using transport::CloseReason;
using transport::Endpoint;

Ipv4Address to_ipv4(const Endpoint& e) noexcept {
  // Endpoint keeps the address in network byte order (as a socket would).
  const auto* b = reinterpret_cast<const std::uint8_t*>(&e.address_be);
  return Ipv4Address::from_octets(b[0], b[1], b[2], b[3]);
}

Endpoint to_endpoint(Ipv4Address ip, std::uint16_t port) noexcept {
  Endpoint e;
  auto* b = reinterpret_cast<std::uint8_t*>(&e.address_be);
  b[0] = static_cast<std::uint8_t>(ip.value >> 24);
  b[1] = static_cast<std::uint8_t>(ip.value >> 16);
  b[2] = static_cast<std::uint8_t>(ip.value >> 8);
  b[3] = static_cast<std::uint8_t>(ip.value);
  e.port = port;
  return e;
}

namespace {
// An input lease is a reference on the mbuf (rte_mbuf_refcnt_update is
// atomic; rte_pktmbuf_free may run on any thread).
void mbuf_retain(void* m) noexcept {
  rte_mbuf_refcnt_update(static_cast<rte_mbuf*>(m), 1);
}
void mbuf_release(void* m) noexcept {
  rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
}
// rte_pktmbuf_free() reads both cache lines of the mbuf header.
void mbuf_prefetch(const void* m) noexcept {
  rte_prefetch0(m);
  rte_prefetch0(static_cast<const char*>(m) + RTE_CACHE_LINE_SIZE);
}
const transport::InputLease::Ops kMbufLease{mbuf_retain, mbuf_release, RTE_MBUF_DEFAULT_BUF_SIZE,
                                            mbuf_prefetch};
}  // namespace

// A stack connection behind the transport interface.
class StackLoop::Conn final : public transport::Connection {
 public:
  Conn(StackLoop& loop, ConnId conn, std::uint64_t id, Endpoint peer, bool outbound)
      : transport::Connection(id, peer, outbound), loop_(loop), conn_(conn) {}
  transport::EventLoop& loop() noexcept override { return loop_; }
  transport::InputLease lease_input() noexcept override {
    if (!can_lease_input()) return {};
    mbuf_retain(current_);
    return transport::InputLease(current_, &kMbufLease);
  }
  bool can_lease_input() const noexcept override {
    return loop_.lending_ && input_direct_ && current_ != nullptr;
  }

 protected:
  void mark_dirty() noexcept override { loop_.mark_dirty(*this); }
  void abort_now() noexcept override { loop_.close_now(*this, CloseReason::kLocalAbort); }

 private:
  friend class StackLoop;
  StackLoop& loop_;
  ConnId conn_;
  bool connecting_ = false;
  rte_mbuf* current_ = nullptr;  // the buffer of the bytes being offered
};

StackLoop::StackLoop(const StackConfig& config, PacketIo& io, PacketPool& pool, StackLoopOptions options)
    : transport::EventLoop(options.loop),
      loop_options_(options),
      pool_(pool),
      stack_(std::make_unique<Stack>(config, io, pool, tsc_now_us())) {
  stack_->announce();
}

StackLoop::~StackLoop() {
  close_all();
  reap();
  stack_->flush();
  if (loop_options_.on_final_counters) loop_options_.on_final_counters(stack_->counters(), usage());
}

LoopUsage StackLoop::usage() const noexcept {
  LoopUsage u = usage_;
  u.total_us = started_us_ ? tsc_now_us() - started_us_ : 0;
  return u;
}

void StackLoop::attach_thread() {
  // A thread the EAL did not start has no lcore id, so every mbuf alloc and
  // free would go to the shared mempool ring; registered, it gets its own
  // per-lcore cache. Failing (more threads than RTE_MAX_LCORE) only costs speed.
  if (rte_lcore_id() == LCORE_ID_ANY) (void)rte_thread_register();
  if (loop_options_.cpu >= 0) pin_this_thread(static_cast<unsigned>(loop_options_.cpu));
}

std::string StackLoop::listen(const Endpoint& at, HandlerFactory factory) {
  if (at.port == 0) return "the dpdk transport listens on a given port (port 0 is the kernel's choice)";
  switch (stack_->listen(at.port)) {
    case Status::kOk:
      break;
    case Status::kInUse:
      return "port " + std::to_string(at.port) + " is already listening on this stack";
    default:
      return "listen on port " + std::to_string(at.port) + " failed";
  }
  listeners_[at.port] = std::move(factory);
  bound_port_ = at.port;
  return "";
}

void StackLoop::close_listeners() noexcept {
  // The stack keeps answering SYNs for the port; connections that complete
  // from now on are reset at once (a refused client retries elsewhere).
  listening_ = false;
}

StackLoop::Conn* StackLoop::adopt(ConnId id, const Endpoint& peer, bool outbound) {
  if (conns_.size() <= id.index) conns_.resize(std::max<std::size_t>(id.index + 1, conns_.size() * 2));
  auto c = std::make_unique<Conn>(*this, id, next_id_++, peer, outbound);
  Conn* raw = c.get();
  conns_[id.index] = std::move(c);
  ++live_;
  ++counters_.open_connections;
  return raw;
}

StackLoop::Conn* StackLoop::find(ConnId id) noexcept {
  if (id.index >= conns_.size()) return nullptr;
  Conn* c = conns_[id.index].get();
  return (c != nullptr && c->conn_ == id) ? c : nullptr;
}

transport::Connection* StackLoop::connect(const Endpoint& to,
                                          std::unique_ptr<transport::ConnectionHandler> handler) {
  ++counters_.connects;
  ConnId id;
  Status st = stack_->connect(to_ipv4(to), to.port, id);
  if (st != Status::kOk) {
    // No TCB: report the failure through a connection object all the same,
    // so callers handle one path (the kernel loop does the same).
    ++counters_.connect_failures;
    auto c = std::make_unique<Conn>(*this, ConnId{}, next_id_++, to, true);
    c->set_handler(std::move(handler));
    Conn* raw = c.get();
    ++counters_.open_connections;
    ++live_;
    dead_.push_back(std::move(c));
    close_now(*raw, CloseReason::kConnectFailed);
    return raw;
  }
  Conn* c = adopt(id, to, true);
  c->connecting_ = true;
  c->set_handler(std::move(handler));
  return c;
}

void StackLoop::dispatch(const Event& e) noexcept {
  if (e.type == EventType::kAccepted) {
    auto it = listeners_.find(e.port);
    if (!listening_ || it == listeners_.end()) {
      stack_->abort(e.conn);
      return;
    }
    auto info = stack_->info(e.conn);
    Endpoint peer = info ? to_endpoint(info->remote_ip, info->remote_port) : Endpoint{};
    Conn* c = adopt(e.conn, peer, false);
    ++counters_.accepted;
    c->set_handler(it->second(*c));
    if (!c->handler()) close_now(*c, CloseReason::kLocalAbort);
    return;
  }
  Conn* c = find(e.conn);
  if (c == nullptr || c->closed_) return;
  switch (e.type) {
    case EventType::kConnected:
      c->connecting_ = false;
      if (c->handler()) c->handler()->on_connected(*c);
      if (!c->out_.empty()) mark_dirty(*c);
      break;
    case EventType::kReadable:
      read_all(*c);
      break;
    case EventType::kWritable:
      mark_dirty(*c);
      break;
    case EventType::kPeerClosed:
      // After the buffered bytes, end of stream: answer what is queued, then
      // close (the kernel loop does the same on a FIN).
      read_all(*c);
      if (c->closed_) break;
      flush(*c);
      if (!c->closed_) close_now(*c, CloseReason::kPeerClosed);
      break;
    case EventType::kClosed:
      if (!c->closed_) close_now(*c, CloseReason::kPeerClosed);
      break;
    case EventType::kReset:
      if (c->connecting_) ++counters_.connect_failures;
      close_now(*c, c->connecting_ ? CloseReason::kConnectFailed : CloseReason::kReset);
      break;
    default:
      break;
  }
}

void StackLoop::look_ahead() noexcept {
  ahead_bytes_.assign(events_.size(), {});
  for (std::size_t i = 0; i < events_.size(); ++i) {
    const Event& e = events_[i];
    if (e.type != EventType::kReadable) continue;
    Conn* c = find(e.conn);
    if (c == nullptr || c->closed_ || c->handler() == nullptr) continue;
    const auto bytes = stack_->peek(e.conn);
    if (bytes.empty()) continue;
    ahead_bytes_[i] = bytes;
    c->handler()->on_input_ahead(*c, {reinterpret_cast<const char*>(bytes.data()), bytes.size()});
  }
}

void StackLoop::prefetch_input(std::size_t i) const noexcept {
  if (i >= ahead_bytes_.size()) return;
  // The payload was written by another core (the sender, or a NIC's DMA):
  // asking for all its lines one connection ahead overlaps their misses with
  // this connection's work, and they arrive in L1 just before the handler
  // parses them (a whole burst's worth at once would not fit there).
  const auto bytes = ahead_bytes_[i];
  for (std::size_t off = 0; off < bytes.size(); off += RTE_CACHE_LINE_SIZE)
    rte_prefetch0(bytes.data() + off);
}

void StackLoop::read_all(Conn& c) noexcept {
  while (!c.closed_) {
    RecvChain chain = stack_->recv(c.conn_);
    if (chain.empty()) return;
    counters_.bytes_in += chain.size_bytes();
    auto segments = chain.segments();
    if (!lending_) usage_.reads_unlent += segments.size();
    for (std::size_t i = 0; i < segments.size(); ++i) {
      c.current_ = chain.buffer(i);
      c.receive(std::string_view(reinterpret_cast<const char*>(segments[i].data), segments[i].size));
    }
    c.current_ = nullptr;
    // A chain short of full took every in-order byte; nothing more arrives
    // before the next poll.
    if (!chain.full()) return;
  }
}

void StackLoop::mark_dirty(Conn& c) noexcept {
  if (c.dirty_ || c.closed_) return;
  c.dirty_ = true;
  dirty_.push_back(&c);
}

void StackLoop::flush(Conn& c) noexcept {
  if (c.closed_ || c.connecting_) return;
  if (c.out_sent_ < c.out_.size()) {
    std::span<const std::uint8_t> rest(reinterpret_cast<const std::uint8_t*>(c.out_.data()) + c.out_sent_,
                                       c.out_.size() - c.out_sent_);
    std::size_t n = stack_->send(c.conn_, rest);
    ++counters_.sends;
    counters_.bytes_out += n;
    c.out_sent_ += n;
  }
  bool was_paused = c.paused_by_output_;
  if (c.after_send(options_.output_high_water) && c.paused_by_output_) ++counters_.output_pauses;
  if (c.pending_output() == 0) {
    if (c.closing_) {
      close_now(c, CloseReason::kLocalClose);
      return;
    }
    if (c.handler()) c.handler()->on_drained(c);
  }
  // The rest leaves when the stack reports kWritable.
  if (was_paused && !c.paused_by_output_ && !c.in_.empty()) mark_dirty(c);
}

void StackLoop::close_now(transport::Connection& base, CloseReason reason) noexcept {
  auto& c = static_cast<Conn&>(base);
  if (c.closed_) return;
  c.closed_ = true;
  if (c.conn_.valid()) {
    if (reason == CloseReason::kLocalAbort || reason == CloseReason::kTimeout) {
      stack_->abort(c.conn_);  // RST: no TIME_WAIT for a connection we refuse
    } else {
      stack_->close(c.conn_);  // queued bytes still leave, then FIN (or releases a reset husk)
    }
  }
  ++counters_.closed[static_cast<int>(reason)];
  --counters_.open_connections;
  if (c.handler()) c.handler()->on_closed(c, reason);
  if (c.conn_.valid() && c.conn_.index < conns_.size() && conns_[c.conn_.index].get() == &c)
    dead_.push_back(std::move(conns_[c.conn_.index]));
}

void StackLoop::close_all() noexcept {
  for (auto& c : conns_)
    if (c && !c->closed_) close_now(*c, CloseReason::kShutdown);
}

void StackLoop::for_each_connection(const std::function<void(transport::Connection&)>& f) {
  for (auto& c : conns_)
    if (c && !c->closed_) f(*c);
}

void StackLoop::reap() noexcept {
  // Freed at the end of the iteration, so a handler may close a connection
  // (its own or another) from any callback without a dangling pointer.
  live_ -= dead_.size();
  dead_.clear();
}

void StackLoop::update_lending() noexcept {
  // rte_mempool_avail_count() sums every lcore's cache: fine once a millisecond.
  const std::uint32_t free = pool_.available();
  const std::uint32_t capacity = pool_.capacity();
  const bool was = lending_;
  if (lending_ && free < capacity / 8) lending_ = false;
  if (!lending_ && free > capacity / 4) lending_ = true;
  if (lending_ == was) return;
  // At most one line a second per lcore, however often the pool crosses.
  const TimeUs now = tsc_now_us();
  if (lending_logged_us_ != 0 && now - lending_logged_us_ < 1'000'000) return;
  lending_logged_us_ = now;
  std::fprintf(stderr,
               lending_
                   ? "mxdp: packet pool recovered (%u of %u buffers free): lending received buffers again\n"
                   : "mxdp: packet pool low (%u of %u buffers free): received data is copied, not lent, "
                     "until a quarter is free (something holds buffers: slow bodies, relays, a large "
                     "mailbox log)\n",
               free, capacity);
}

bool StackLoop::run_once(std::chrono::milliseconds max_wait) {
  if (stopped()) return false;
  const TimeUs tsc = tsc_now_us();
  if (started_us_ == 0) started_us_ = tsc;
  ++usage_.iterations;
  unsigned packets = stack_->poll(tsc);
  events_.clear();
  stack_->take_events(events_);
  look_ahead();
  prefetch_input(0);
  for (std::size_t i = 0; i < events_.size(); ++i) {
    prefetch_input(i + 1);
    dispatch(events_[i]);
  }
  bool busy = run_posted() | run_pollers();
  // Loop timers and deadlines have millisecond resolution: the system clock
  // (a vDSO call) is read once a millisecond of TSC time, not per poll.
  if (tsc - last_clock_tsc_ >= 1000) {
    last_clock_tsc_ = tsc;
    auto now = transport::Clock::now();
    run_timers(now);
    scan_deadlines_if_due(now);
    update_lending();
  }
  // The end-of-iteration flush: every reply produced in this iteration goes
  // into its connection's send buffer at once, and leaves in one TX burst.
  for (std::size_t i = 0; i < dirty_.size(); ++i) {
    Conn* c = dirty_[i];
    c->dirty_ = false;
    if (c->closed_) continue;
    c->deliver_buffered();
    flush(*c);
  }
  dirty_.clear();
  stack_->flush();
  reap();

  if (packets > 0 || busy || !events_.empty()) {
    idle_iterations_ = 0;
    ++usage_.busy_iterations;
    usage_.busy_us += tsc_now_us() - tsc;
  } else if (loop_options_.idle_yield) {
    std::this_thread::yield();
  } else if (loop_options_.idle_sleep_us > 0 && ++idle_iterations_ > loop_options_.idle_spins &&
             max_wait.count() > 0) {
    std::this_thread::sleep_for(std::chrono::microseconds(loop_options_.idle_sleep_us));
  }
  return !stopped();
}

}  // namespace mxdp::dataplane
