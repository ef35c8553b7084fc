#pragma once
// What an operator keeps for `mxdp serve` (and the appliance half of `mxdp
// bench`): read from a TOML file (`--config FILE`), then overridden by flags.
// docs/mxdp.example.toml shows every key with its default.

#include <cstdint>
#include <string>

namespace mxdp::cli {

// Each routing shard's mailbox log (routing::RouterConfig::mailbox_log_bytes):
// `--mailbox-log SIZE`, `mailbox_log` in [serve]. The default is the router's
// (tests/tools/serve_config_test.cpp checks). Below the minimum a log would
// keep under thirty packet buffers' worth, and such a value, like one above the
// maximum, is more likely a slip of the suffix than a wish.
inline constexpr std::uint64_t kDefaultMailboxLogBytes = std::uint64_t{16} << 20;
inline constexpr std::uint64_t kMinMailboxLogBytes = std::uint64_t{64} << 10;
inline constexpr std::uint64_t kMaxMailboxLogBytes = std::uint64_t{64} << 30;

struct SmtpLimitsConfig {
  unsigned max_command_line = 512;            // RFC 5321 §4.5.3.1.4
  unsigned max_text_line = 1000;              // RFC 5321 §4.5.3.1.6
  std::uint64_t max_message_size = 64 << 20;  // announced in EHLO SIZE (RFC 1870)
  unsigned max_recipients = 1000;             // RFC 5321 §4.5.3.1.8 asks for at least 100
  unsigned max_errors = 10;                   // then 421 4.7.0 and close
  unsigned idle_timeout_s = 300;              // RFC 5321 §4.5.3.2.7: server timeout 5 minutes
  unsigned session_timeout_s = 3600;
};

struct RelayConfig {
  unsigned connections_per_target = 4;
  unsigned retry_initial_ms = 100;
  unsigned retry_max_ms = 30000;
  unsigned max_attempts = 8;  // then a bounce record
  // Jobs that may wait for one target (for a busy relay or a retry); past it
  // its recipients get 450 at RCPT until it catches up (0: no limit).
  unsigned max_waiting = 50000;
};

// The DPDK transport (`backend = "dpdk"`): which port and what the userspace
// stack on it calls itself. docs/DEPLOY.md explains each.
struct DpdkConfig {
  std::string port;     // device name (net_tap0, 0000:03:00.0) or port id; empty: the first port
  std::string ip;       // the stack's address with prefix, e.g. 10.99.0.2/24
  std::string gateway;  // next hop for addresses off the subnet; empty: none
  unsigned mtu = 1500;
  unsigned mbufs = 0;          // packet buffers in the pool; 0: sized from cores
  unsigned idle_sleep_us = 0;  // sleep between polls after a long idle stretch; 0: pure busy polling
};

struct ServeConfig {
  std::string backend = "kernel";
  std::string listen = "127.0.0.1:2525";
  unsigned cores = 0;   // 0: every core the process may use
  unsigned shards = 0;  // 0: two per core
  // Each routing shard's mailbox log, in bytes (--mailbox-log).
  std::uint64_t mailbox_log_bytes = kDefaultMailboxLogBytes;
  // Accept every recipient and message and keep none, as Postfix's smtp-sink
  // does: the SMTP front end alone (TCP, sessions, replies), no directory,
  // routing or delivery. For benchmarks of mxdp's front end, or as a fast
  // sink for another MTA's output.
  bool discard = false;
  std::string hostname = "mxdp.example.test";
  std::string directory;  // recipient directory file; empty: the demo directory
  std::string referral_target = "127.0.0.1:2526";
  std::string metrics = "127.0.0.1:9125";  // Prometheus; empty disables
  std::string control_socket = "/tmp/mxdp.sock";
  SmtpLimitsConfig smtp;
  RelayConfig relay;
  DpdkConfig dpdk;
};

// Reads a TOML file into `config` (keys absent from the file keep their
// values). Returns "" or an error naming the file, line and key.
std::string load_serve_config(const std::string& path, ServeConfig& config);

}  // namespace mxdp::cli
