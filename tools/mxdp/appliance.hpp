#pragma once
// The SMTP appliance: `mxdp serve` and the server half of `mxdp bench`, on
// either transport (kernel sockets or the DPDK stack; loop_factory.hpp).
//
//   workers   one event-loop thread per core, each with its own listener
//             (SO_REUSEPORT, or its own port queue on DPDK), SMTP sessions,
//             routing shards (shard s runs on worker s % cores), SMTP relay
//             pools and Owner (routing/owner.hpp).
//   admin     the control-socket thread (`mxdp ctl`): moves recipients while
//             traffic flows and reclaims retired directory entries.
//   metrics   Prometheus text on its own address, served by a kernel-socket
//             loop on its own thread (operators scrape it over the host's
//             network, whatever carries the mail).
//
// The 250 reply to end-of-data goes out once the router has accepted the
// message in memory (durability mode "memory": no spool).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "routing/counters.hpp"
#include "tools/mxdp/loop_factory.hpp"
#include "tools/mxdp/serve_config.hpp"

namespace mxdp::routing {
class Directory;
}

namespace mxdp::cli {

struct ApplianceTotals {
  routing::ShardStats shards{};
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_open = 0;
  std::uint64_t smtp_commands = 0;
  std::uint64_t smtp_messages_accepted = 0;
  std::uint64_t smtp_messages_rejected = 0;
  std::uint64_t smtp_errors = 0;
  std::uint64_t relay_jobs = 0;
  std::uint64_t relay_connects = 0;
  std::uint64_t bounces = 0;
  // Message bodies handed to routing as the received packet buffers (DPDK)
  // or as one copy (kernel sockets, or input the transport could not lend).
  std::uint64_t bodies_lent = 0;
  std::uint64_t bodies_copied = 0;
  // Recipients answered 4yz at RCPT because their relay target had
  // RelayConfig::max_waiting jobs waiting.
  std::uint64_t rcpts_deferred_relay_full = 0;
  // Messages accepted and dropped (ServeConfig::discard).
  std::uint64_t messages_discarded = 0;
  // CPU time of the worker threads, kernel time included (known after wait()).
  std::uint64_t worker_cpu_us = 0;
};

class Appliance {
 public:
  // `loops` gives each worker its event loop (empty: kernel sockets).
  explicit Appliance(ServeConfig config, LoopFactory loops = {});
  ~Appliance();
  Appliance(const Appliance&) = delete;
  Appliance& operator=(const Appliance&) = delete;

  // Builds the directory, router and workers and starts listening. Returns ""
  // or a start-up error that names the fix.
  std::string start();
  // Thread-safe: begins the clean shutdown (stop accepting, 421 to sessions,
  // let relays finish for a grace period).
  void request_stop() noexcept;
  // Joins every thread and releases every message reference. After it,
  // totals().shards.live is 0 unless something leaked.
  void wait();

  std::uint16_t port() const noexcept;
  routing::Directory& directory() noexcept;
  ApplianceTotals totals() const;
  std::string metrics_text() const;
  // Answers one control command (the `mxdp ctl` protocol; see ctl_command.cpp).
  std::string control(std::string_view line);
  // Admin thread, periodically: frees retired directory entries no reader
  // protects any more (hazard pointers), off the lcores.
  void admin_tick();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The demo directory of the README: user<N>@example.test (N < users) spread
// over the shards, pf<N>@public.example.test (N < referrals) as referrals to
// referral_target.
void add_demo_directory(routing::Directory& dir, unsigned shards, const std::string& referral_target,
                        unsigned users = 100000, unsigned referrals = 1000);

}  // namespace mxdp::cli
