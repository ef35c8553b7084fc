#include "tools/mxdp/serve_config.hpp"

#include <toml++/toml.h>

#include <set>

#include "tools/mxdp/byte_size.hpp"

namespace mxdp::cli {

namespace {

template <typename T>
bool take(const toml::table& t, const char* key, T& out, std::string& err) {
  auto node = t.get(key);
  if (!node) return true;
  if constexpr (std::is_same_v<T, std::string>) {
    if (auto v = node->value<std::string>()) {
      out = *v;
      return true;
    }
  } else {
    if (auto v = node->value<std::int64_t>(); v && *v >= 0) {
      out = static_cast<T>(*v);
      return true;
    }
  }
  err = std::string("key '") + key + "' at line " + std::to_string(node->source().begin.line) +
        " has the wrong type";
  return false;
}

// A byte count within [min, max]: a string with an optional K/M/G suffix
// ("16M", as on the command line) or a plain integer.
bool take_byte_size(const toml::table& t, const char* key, std::uint64_t min, std::uint64_t max,
                    std::uint64_t& out, std::string& err) {
  auto node = t.get(key);
  if (!node) return true;
  const std::string where =
      std::string("key '") + key + "' at line " + std::to_string(node->source().begin.line);
  std::string problem;
  // Asked by type: value<std::int64_t>() would take `true` as 1 and 1.5e6 as
  // 1500000.
  if (auto* v = node->as_string()) {
    problem = parse_byte_size(v->get(), min, max, out);
  } else if (auto* n = node->as_integer()) {
    problem = parse_byte_size(std::to_string(n->get()), min, max, out);
  } else {
    err = where + " has the wrong type (a size such as \"16M\", or bytes)";
    return false;
  }
  if (!problem.empty()) err = where + ": " + problem;
  return problem.empty();
}

// Unknown keys are errors: a misspelt limit must not silently fall back.
bool only_known(const toml::table& t, const std::set<std::string>& known, const std::string& where,
                std::string& err) {
  for (const auto& [k, v] : t) {
    if (!known.count(std::string(k.str()))) {
      err = "unknown key '" + std::string(k.str()) + "' in " + where + " at line " +
            std::to_string(v.source().begin.line);
      return false;
    }
  }
  return true;
}

}  // namespace

std::string load_serve_config(const std::string& path, ServeConfig& c) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description());
  }
  std::string err;
  if (!only_known(root, {"serve", "smtp", "relay", "dpdk"}, "the top level", err)) return path + ": " + err;
  if (auto* s = root["serve"].as_table()) {
    if (!only_known(*s,
                    {"backend", "listen", "cores", "shards", "mailbox_log", "hostname", "directory",
                     "referral_target", "metrics", "control_socket"},
                    "[serve]", err))
      return path + ": " + err;
    bool ok = take(*s, "backend", c.backend, err) && take(*s, "listen", c.listen, err) &&
              take(*s, "cores", c.cores, err) && take(*s, "shards", c.shards, err) &&
              take_byte_size(*s, "mailbox_log", kMinMailboxLogBytes, kMaxMailboxLogBytes, c.mailbox_log_bytes,
                             err) &&
              take(*s, "hostname", c.hostname, err) && take(*s, "directory", c.directory, err) &&
              take(*s, "referral_target", c.referral_target, err) && take(*s, "metrics", c.metrics, err) &&
              take(*s, "control_socket", c.control_socket, err);
    if (!ok) return path + ": [serve] " + err;
  }
  if (auto* s = root["smtp"].as_table()) {
    if (!only_known(*s,
                    {"max_command_line", "max_text_line", "max_message_size", "max_recipients", "max_errors",
                     "idle_timeout_s", "session_timeout_s"},
                    "[smtp]", err))
      return path + ": " + err;
    auto& l = c.smtp;
    bool ok = take(*s, "max_command_line", l.max_command_line, err) &&
              take(*s, "max_text_line", l.max_text_line, err) &&
              take(*s, "max_message_size", l.max_message_size, err) &&
              take(*s, "max_recipients", l.max_recipients, err) &&
              take(*s, "max_errors", l.max_errors, err) &&
              take(*s, "idle_timeout_s", l.idle_timeout_s, err) &&
              take(*s, "session_timeout_s", l.session_timeout_s, err);
    if (!ok) return path + ": [smtp] " + err;
  }
  if (auto* s = root["relay"].as_table()) {
    if (!only_known(
            *s, {"connections_per_target", "retry_initial_ms", "retry_max_ms", "max_attempts", "max_waiting"},
            "[relay]", err))
      return path + ": " + err;
    auto& r = c.relay;
    bool ok = take(*s, "connections_per_target", r.connections_per_target, err) &&
              take(*s, "retry_initial_ms", r.retry_initial_ms, err) &&
              take(*s, "retry_max_ms", r.retry_max_ms, err) &&
              take(*s, "max_attempts", r.max_attempts, err) && take(*s, "max_waiting", r.max_waiting, err);
    if (!ok) return path + ": [relay] " + err;
  }
  if (auto* s = root["dpdk"].as_table()) {
    if (!only_known(*s, {"port", "ip", "gateway", "mtu", "mbufs", "idle_sleep_us"}, "[dpdk]", err))
      return path + ": " + err;
    auto& d = c.dpdk;
    bool ok = take(*s, "port", d.port, err) && take(*s, "ip", d.ip, err) &&
              take(*s, "gateway", d.gateway, err) && take(*s, "mtu", d.mtu, err) &&
              take(*s, "mbufs", d.mbufs, err) && take(*s, "idle_sleep_us", d.idle_sleep_us, err);
    if (!ok) return path + ": [dpdk] " + err;
  }
  return "";
}

}  // namespace mxdp::cli
