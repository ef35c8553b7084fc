#pragma once
// Two stacks in one process joined by a PacketIo pair (ring ports or the
// impairing TestLink), driven in virtual time: each step polls both; when
// nothing moves, time jumps to the next timer or link delivery. Deterministic
// for a given seed, and fast under sanitizers because no timer is waited for.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "dataplane/counters.hpp"
#include "dataplane/packet_io.hpp"
#include "dataplane/packet_pool.hpp"
#include "dataplane/stack.hpp"
#include "dataplane/test_link.hpp"
#include "tests/dataplane/transfer_app.hpp"

namespace mxdp::dataplane::testing {

inline StackConfig sim_config(int which) {
  StackConfig c;
  c.mac = MacAddress{{0x02, 0, 0, 0, 0, static_cast<std::uint8_t>(which)}};
  c.ip = Ipv4Address::from_octets(10, 0, 0, static_cast<std::uint8_t>(which));
  c.time_wait = 2'000'000;
  return c;
}

// A pool with exact accounting: no per-lcore cache, so available() counts
// every mbuf and a test can check that all came back.
inline PacketPoolConfig pool_config(const char* name) {
  PacketPoolConfig c;
  c.name = name;
  c.mbufs = 65535;
  c.cache = 0;
  return c;
}

// One line of what a stack sent, retransmitted and threw away (by reason),
// to read a failure by.
inline void print_stack_counters(const std::string& who, const StackCounters& k) {
  std::printf("%s: rsts sent %llu, retransmits %llu, rto expiries %llu, drops:", who.c_str(),
              static_cast<unsigned long long>(k.tcp_rsts_sent),
              static_cast<unsigned long long>(k.tcp_retransmits),
              static_cast<unsigned long long>(k.tcp_rto_expiries));
  for (std::size_t r = 0; r < k.drops.size(); ++r)
    if (k.drops[r] != 0)
      std::printf(" %s=%llu", std::string(drop_reason_name(static_cast<DropReason>(r))).c_str(),
                  static_cast<unsigned long long>(k.drops[r]));
  std::printf("\n");
}

struct SimResult {
  TransferApp::Stats client;
  TransferApp::Stats server;
  TimeUs virtual_time = 0;
  std::uint64_t steps = 0;
  bool hung = false;
};

struct TransferPlan {
  unsigned connections = 100;
  unsigned concurrency = 64;
  std::uint32_t max_size = 64 * 1024;
  std::uint32_t large_every = 50;  // every Nth connection carries up to large_size
  std::uint32_t large_size = 1 << 20;
  std::uint64_t seed = 42;
  TimeUs time_limit = 3'600'000'000;                                        // virtual
  std::function<void(Stack& client, Stack& server, TimeUs now)> each_step;  // e.g. inject a SYN flood
};

class StackSim {
 public:
  StackSim(PacketIo& io_a, PacketIo& io_b, PacketPool& pool, TestLink* link, const StackConfig& ca,
           const StackConfig& cb)
      : link_(link),
        a_(std::make_unique<Stack>(ca, io_a, pool, now_)),
        b_(std::make_unique<Stack>(cb, io_b, pool, now_)) {}

  Stack& a() { return *a_; }
  Stack& b() { return *b_; }
  TimeUs now() const { return now_; }

  // One step: poll both; returns packets received.
  unsigned step() {
    if (link_ != nullptr) link_->set_now(now_);
    unsigned n = a_->poll(now_);
    if (link_ != nullptr) link_->set_now(now_);
    n += b_->poll(now_);
    return n;
  }

  // Advances time: a microsecond when busy, to the next event when idle.
  // Returns false when nothing at all is pending (no timers, empty wire).
  bool advance(bool idle) {
    if (!idle) {
      now_ += 1;
      return true;
    }
    TimeUs next = std::min(a_->next_deadline(), b_->next_deadline());
    if (link_ != nullptr) next = std::min(next, link_->next_delivery());
    if (next == kNever) return false;
    now_ = std::max(now_ + 1, next);
    return true;
  }

  SimResult transfer(const TransferPlan& plan) {
    SimResult r;
    a_->listen(80);
    b_->listen(80);
    a_->announce();
    b_->announce();
    TransferApp client(*a_);
    TransferApp server(*b_);
    std::mt19937_64 rng(plan.seed);
    unsigned opened = 0;
    unsigned quiet = 0;
    const Ipv4Address server_ip = b_->config().ip;
    while (true) {
      while (opened < plan.connections && client.live() < plan.concurrency) {
        const std::uint32_t cap =
            (opened % plan.large_every == plan.large_every - 1) ? plan.large_size : plan.max_size;
        std::uniform_int_distribution<std::uint32_t> size(0, cap);
        if (!client.open(server_ip, 80, size(rng), size(rng), static_cast<std::uint32_t>(rng()))) break;
        ++opened;
      }
      if (plan.each_step) plan.each_step(*a_, *b_, now_);
      const unsigned n = step();
      client.run();
      server.run();
      ++r.steps;
      if (opened == plan.connections && client.live() == 0 && server.live() == 0) break;
      quiet = n == 0 ? quiet + 1 : 0;
      if (!advance(quiet >= 2) || now_ > plan.time_limit) {
        r.hung = true;
        break;
      }
    }
    r.client = client.stats();
    r.server = server.stats();
    r.virtual_time = now_;
    return r;
  }

  // Runs timers until both stacks hold no connection (TIME-WAIT expired).
  bool drain(TimeUs limit = 400'000'000) {
    const TimeUs end = now_ + limit;
    unsigned quiet = 0;
    while (a_->connection_count() + b_->connection_count() > 0 && now_ < end) {
      quiet = step() == 0 ? quiet + 1 : 0;
      if (!advance(quiet >= 2)) break;
    }
    // Let the last packets (final ACKs) land.
    for (int i = 0; i < 4; ++i)
      step();
    return a_->connection_count() + b_->connection_count() == 0;
  }

  void destroy() {
    a_.reset();
    b_.reset();
  }

 private:
  TestLink* link_;
  TimeUs now_ = 1'000'000;
  std::unique_ptr<Stack> a_;
  std::unique_ptr<Stack> b_;
};

}  // namespace mxdp::dataplane::testing
