#pragma once
// The `dpdk` backend of mxdp serve, loadgen and bench: EAL start-up with
// mxdp's defaults, ports, packet pools, and one userspace TCP/IPv4 stack
// (dataplane/stack_loop.hpp) per worker thread. Compiled into the program only
// when DPDK is (MXDP_HAVE_DPDK); everything above it sees event loops.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tools/mxdp/bench_run.hpp"
#include "tools/mxdp/loop_factory.hpp"
#include "tools/mxdp/run_report.hpp"
#include "tools/mxdp/serve_config.hpp"

namespace mxdp::cli {

// Starts the EAL once per process: the user's EAL args (what came before
// `--`) over mxdp's defaults (-l 0, --no-huge -m N unless hugepages are
// mounted, --no-pci unless a PCI device is named). Returns "" or an error
// that names the fix.
std::string start_dpdk(const std::vector<std::string>& user_eal_args, unsigned memory_mb);

// Worker lcores of the running EAL's -l list (the main lcore excluded).
std::size_t dpdk_worker_lcores();

// One port, one RX and one TX queue per worker (RSS spreads flows over them),
// a packet pool, and a stack per queue with the configured address.
class DpdkPortBackend {
 public:
  DpdkPortBackend();
  ~DpdkPortBackend();
  // Opens and starts the port; returns "" or an error that names the fix.
  // `pinned_mbufs`: buffers the appliance may keep for lent message bodies
  // (mailbox_pinned_mbufs()), on top of what the queues need.
  // Without config.mbufs, a pool too large to make is a start-up error.
  std::string open(const DpdkConfig& config, unsigned workers, std::uint64_t pinned_mbufs = 0);
  // Worker i's loop runs the stack on queue i.
  LoopFactory loops();
  // Driver, link, offloads: one line for the start-up message.
  std::string describe() const;
  // Port and stack counters, into a report's transport_counters.
  void add_counters(RunReport& report) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The embedded benchmark's wire: per appliance core, a pair of in-memory ring
// ports; the generator's stack on one end (with the built-in referral sink),
// the appliance's on the other.
class DpdkBenchWire {
 public:
  DpdkBenchWire();
  ~DpdkBenchWire();
  // checksum_offload: the ports are in-memory links that offload checksums
  // (dataplane PortConfig::memory_link); else the stacks compute them all.
  // idle_yield: every loop yields its CPU after a poll that found nothing
  // (StackLoopOptions::idle_yield: for runs under valgrind).
  std::string open(unsigned pairs, unsigned connections, std::uint64_t pinned_mbufs, bool checksum_offload,
                   bool idle_yield = false);
  BenchTransport transport();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Memory the EAL needs for a pool of `mbufs` packet buffers, in MB.
unsigned eal_memory_for(unsigned mbufs);
// Packet buffers the mailbox logs of `shards` shards, `log_bytes` each
// (--mailbox-log), may pin with lent bodies: each log's byte budget counts a
// lent body by the buffers it pins, each at its whole data room.
std::uint64_t mailbox_pinned_mbufs(unsigned shards, std::uint64_t log_bytes);
// The pool for `workers` queues and `pinned` lent buffers (2^n - 1), capped
// at the largest pool mxdp makes.
unsigned pool_mbufs(unsigned workers, unsigned connections, std::uint64_t pinned);
// "" or the start-up error (naming --mailbox-log) when that pool would be
// capped: the mailbox logs could then pin every buffer and starve the queues.
// The ports' open() checks it too; callers check first to fail before the EAL
// reserves memory for a pool that will be refused.
std::string check_pool_mbufs(unsigned workers, unsigned connections, std::uint64_t pinned);

}  // namespace mxdp::cli
