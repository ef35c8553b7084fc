#pragma once
// The result of a loadgen or bench run: what `--json FILE` writes for machines
// and the table printed for people. Every report names what produced it
// (version, backend, cores, durability) so two reports can be compared.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tools/mxdp/latency_histogram.hpp"

namespace mxdp::cli {

// One second of a run, as the live progress line saw it.
struct TimelinePoint {
  double t_s = 0;  // seconds since the start, at the end of the interval
  double messages_per_s = 0;
  double gbit_per_s = 0;
  std::uint64_t p50_ns = 0;
  std::uint64_t p99_ns = 0;
  std::uint64_t failed = 0;  // final replies other than 2xx in this interval
  friend bool operator==(const TimelinePoint&, const TimelinePoint&) = default;
};

struct RunReport {
  // What ran.
  std::string command;  // "bench" or "loadgen"
  std::string backend;  // "kernel" or "dpdk"
  std::string target;   // server address (loadgen), "embedded" (bench)
  unsigned cores = 1;
  unsigned connections = 0;
  unsigned message_size = 0;
  unsigned recipients_per_message = 0;
  std::string durability = "memory";  // accepted = routed in memory; no spool
  double referral_share = 0;
  double move_rate_per_s = 0;
  // Each routing shard's mailbox log (--mailbox-log); bench only, -1 when
  // unknown (loadgen, older reports).
  std::int64_t mailbox_log_bytes = -1;
  double duration_s = 0;

  // What happened (generator side).
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_accepted = 0;  // final reply 250
  std::uint64_t bytes_sent = 0;
  std::map<int, std::uint64_t>
      replies_by_code;  // final replies other than 2xx; 0: no reply (connection lost)
  std::uint64_t connect_failures = 0;
  LatencyHistogram latency;             // end of message sent -> final reply
  std::vector<TimelinePoint> timeline;  // one point per second (the progress line's)

  // What happened (appliance side; bench only, -1 when unknown).
  std::int64_t recipients_delivered = -1;
  std::int64_t recipients_referred = -1;
  std::int64_t recipients_relayed = -1;
  std::int64_t recipients_bounced = -1;
  std::int64_t recipients_moved = -1;
  std::int64_t messages_live_at_end = -1;

  // Transport counters (dpdk: port, queue and stack counters, e.g.
  // "appliance_port.rx_packets", "appliance.tcp_retransmits"); empty on kernel.
  std::map<std::string, std::uint64_t> transport_counters;

  double messages_per_second() const noexcept;
  double gbit_per_second() const noexcept;
  std::uint64_t errors() const noexcept;
};

// JSON with stable field names (documented in README, "Reports").
std::string to_json(const RunReport& r);
// Reads a report written by to_json back. Throws std::runtime_error naming the
// first problem (not JSON, a missing field, a field of the wrong type). Reports
// without `latency_histogram` (older mxdp) get a histogram approximated from
// their `latency_us` percentiles; without `timeline`, an empty timeline.
RunReport from_json(std::string_view text);
// A human table, for stdout.
std::string to_table(const RunReport& r);

}  // namespace mxdp::cli
