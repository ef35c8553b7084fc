#pragma once
// What an operator keeps for `mxdp serve` (and the appliance half of `mxdp
// bench`): read from a TOML file (`--config FILE`), then overridden by flags.
// docs/mxdp.example.toml shows every key with its default.

#include <cstdint>
#include <string>

namespace mxdp::cli {

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
};

struct ServeConfig {
  std::string backend = "kernel";
  std::string listen = "127.0.0.1:2525";
  unsigned cores = 0;   // 0: every core the process may use
  unsigned shards = 0;  // 0: two per core
  std::string hostname = "mxdp.example.test";
  std::string directory;  // recipient directory file; empty: the demo directory
  std::string referral_target = "127.0.0.1:2526";
  std::string metrics = "127.0.0.1:9125";  // Prometheus; empty disables
  std::string control_socket = "/tmp/mxdp.sock";
  SmtpLimitsConfig smtp;
  RelayConfig relay;
};

// Reads a TOML file into `config` (keys absent from the file keep their
// values). Returns "" or an error naming the file, line and key.
std::string load_serve_config(const std::string& path, ServeConfig& config);

}  // namespace mxdp::cli
