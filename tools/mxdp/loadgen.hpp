#pragma once
// The load generator: C SMTP connections from one or more event-loop threads,
// aimed at any server (mxdp, Postfix smtp-sink, anything). It measures each
// message's latency from the moment its last byte is queued on the
// connection (it leaves in that loop iteration) to its final reply.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tools/mxdp/loop_factory.hpp"
#include "tools/mxdp/run_report.hpp"

namespace mxdp::cli {

struct LoadgenOptions {
  std::string target = "127.0.0.1:2525";
  unsigned threads = 1;
  unsigned connections = 64;
  std::uint64_t messages = 0;  // 0: run for duration_s
  double duration_s = 10;
  unsigned message_size = 1024;
  unsigned recipients = 1;                  // per message
  unsigned in_flight = 1;                   // messages per connection awaiting their final reply
  double rate = 0;                          // messages/s over all connections; 0: as fast as possible
  std::vector<std::string> recipient_list;  // empty: user0..99999@example.test
  std::string sender = "loadgen@mxdp.test";
  std::string helo = "loadgen.mxdp.test";
  bool chunking = true;  // BDAT when the server offers CHUNKING
  bool progress = true;  // a live line per second on stderr
  std::uint64_t seed = 1;
  // The transport: one loop per generator thread (empty: kernel sockets).
  LoopFactory loops;
  // Called on each generator thread with its loop before the first
  // connection (mxdp bench attaches the referral sink to thread 0's loop).
  std::function<void(dataplane::transport::EventLoop&, unsigned thread)> on_loop_ready;
  // After the load, every thread keeps running its loop while this returns
  // true (mxdp bench: until the appliance is quiescent; called from every
  // generator thread). Not part of the duration.
  std::function<bool()> linger;
};

// Counters a caller (mxdp bench) can read while the run goes on.
struct LoadgenLive {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> bytes{0};
};

// The default recipient list: the demo directory's mailboxes.
std::vector<std::string> demo_recipients(unsigned count = 100000);

// Runs to completion; `stop` (if given) ends the run early. Fills `report`'s
// generator-side fields. Returns "" or a start-up error.
std::string run_loadgen(const LoadgenOptions& options, RunReport& report,
                        const std::atomic<bool>* stop = nullptr, LoadgenLive* live = nullptr);

}  // namespace mxdp::cli
