#pragma once
// The `dpdk` transport: the event-loop interface of dataplane/transport/ over
// one lcore's userspace TCP/IPv4 stack (stack.hpp) on one port queue. The SMTP
// appliance, the load generator and the relays run on it unchanged.
//
// Per iteration (busy-polled; DPDK owns the core): RX burst and TCP input,
// stack events dispatched to the connection handlers, pollers (shard ring
// drains), timers, then every connection with queued output hands it to its
// TCP send buffer once, and the TX burst leaves. No DPDK type appears here.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/stack.hpp"
#include "dataplane/transport/event_loop.hpp"

namespace mxdp::dataplane {

class PacketIo;
class PacketPool;

// How the polling core spent its time: busy = iterations that received a
// packet or handled an event, and everything they did (TCP, SMTP, routing).
struct LoopUsage {
  TimeUs busy_us = 0;
  TimeUs total_us = 0;
  std::uint64_t iterations = 0;
  std::uint64_t busy_iterations = 0;
  // Received segments offered without a lease because the packet pool ran
  // low (handlers copied what they kept; see StackLoop::update_lending).
  std::uint64_t reads_unlent = 0;
};

struct StackLoopOptions {
  transport::LoopOptions loop;
  // After this many idle iterations the loop sleeps idle_sleep_us between
  // polls (0: pure busy polling, the benchmark default). An appliance on a
  // shared machine trades a little wake-up latency for an idle core.
  unsigned idle_spins = 20000;
  unsigned idle_sleep_us = 0;
  // Yield the CPU after every poll that found nothing. Only for running under
  // valgrind, which runs one thread at a time: a busy poll would spin through
  // its whole time slice while the peer it waits for cannot run.
  bool idle_yield = false;
  // attach_thread() pins the polling thread to this CPU (-1: leave it to the OS).
  int cpu = -1;
  // Called with the stack's counters when the loop is destroyed (reports
  // read them after the lcore stopped: nothing is shared while it runs).
  std::function<void(const StackCounters&, const LoopUsage&)> on_final_counters;
};

class StackLoop final : public transport::EventLoop {
 public:
  // `io` and `pool` must outlive the loop; the stack is built on the thread
  // that calls this (the stack reads the TSC clock, so the EAL must run).
  StackLoop(const StackConfig& config, PacketIo& io, PacketPool& pool, StackLoopOptions options = {});
  ~StackLoop() override;

  const char* backend() const noexcept override { return "dpdk"; }
  void attach_thread() override;
  std::string listen(const transport::Endpoint& at, HandlerFactory factory) override;
  std::uint16_t bound_port() const noexcept override { return bound_port_; }
  void close_listeners() noexcept override;
  transport::Connection* connect(const transport::Endpoint& to,
                                 std::unique_ptr<transport::ConnectionHandler> handler) override;
  bool run_once(std::chrono::milliseconds max_wait) override;
  void close_all() noexcept override;
  std::size_t connection_count() const noexcept override { return live_; }
  void for_each_connection(const std::function<void(transport::Connection&)>& f) override;

  Stack& stack() noexcept { return *stack_; }
  LoopUsage usage() const noexcept;
  const Stack& stack() const noexcept { return *stack_; }

 protected:
  void close_now(transport::Connection& c, transport::CloseReason reason) noexcept override;

 private:
  class Conn;
  friend class Conn;

  Conn* adopt(ConnId id, const transport::Endpoint& peer, bool outbound);
  Conn* find(ConnId id) noexcept;
  void dispatch(const Event& e) noexcept;
  // Shows each readable connection of this burst its first new bytes
  // (ConnectionHandler::on_input_ahead) before any is dispatched, and keeps
  // them for prefetch_input().
  void look_ahead() noexcept;
  // Prefetches the bytes look_ahead saw for event i (if any).
  void prefetch_input(std::size_t i) const noexcept;
  void read_all(Conn& c) noexcept;
  // Lending received buffers to handlers (Connection::lease_input) pins
  // them for as long as the handler keeps them: a body in progress, a
  // message in routing. When the pool runs low (less than 1/8 free) the loop
  // stops lending, so handlers copy and every buffer goes back once read;
  // it lends again above 1/4 free. Checked once a millisecond.
  void update_lending() noexcept;
  void flush(Conn& c) noexcept;
  void mark_dirty(Conn& c) noexcept;
  void reap() noexcept;

  StackLoopOptions loop_options_;
  PacketPool& pool_;
  bool lending_ = true;
  TimeUs lending_logged_us_ = 0;
  std::unique_ptr<Stack> stack_;
  std::unordered_map<std::uint16_t, HandlerFactory> listeners_;  // by local port
  bool listening_ = true;
  std::uint16_t bound_port_ = 0;
  std::uint64_t next_id_ = 1;
  std::vector<std::unique_ptr<Conn>> conns_;  // by ConnId::index
  std::size_t live_ = 0;
  std::vector<Conn*> dirty_;
  std::vector<std::unique_ptr<Conn>> dead_;
  std::vector<Event> events_;
  std::vector<std::span<const std::uint8_t>> ahead_bytes_;  // per event: the bytes look_ahead saw
  unsigned idle_iterations_ = 0;
  TimeUs last_clock_tsc_ = 0;
  TimeUs started_us_ = 0;
  LoopUsage usage_;
};

// The dotted quad of an endpoint, as the stack takes it.
Ipv4Address to_ipv4(const transport::Endpoint& e) noexcept;
transport::Endpoint to_endpoint(Ipv4Address ip, std::uint16_t port) noexcept;

}  // namespace mxdp::dataplane
