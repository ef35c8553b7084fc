#include "tools/mxdp/run_report.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "mxdp/version.hpp"

namespace mxdp::cli {

double RunReport::messages_per_second() const noexcept {
  return duration_s > 0 ? static_cast<double>(messages_accepted) / duration_s : 0;
}

double RunReport::gbit_per_second() const noexcept {
  return duration_s > 0 ? static_cast<double>(bytes_sent) * 8 / duration_s / 1e9 : 0;
}

std::uint64_t RunReport::errors() const noexcept {
  std::uint64_t n = 0;
  for (const auto& [code, count] : replies_by_code)
    n += count;
  return n;
}

namespace {
double us(std::uint64_t ns) {
  return static_cast<double>(ns) / 1000.0;
}
}  // namespace

std::string to_json(const RunReport& r) {
  nlohmann::ordered_json j;
  j["mxdp_version"] = kVersion;
  j["command"] = r.command;
  j["backend"] = r.backend;
  j["target"] = r.target;
  j["cores"] = r.cores;
  j["connections"] = r.connections;
  j["message_size"] = r.message_size;
  j["recipients_per_message"] = r.recipients_per_message;
  j["durability"] = r.durability;
  j["referral_share"] = r.referral_share;
  j["move_rate_per_s"] = r.move_rate_per_s;
  j["duration_s"] = r.duration_s;
  j["messages_sent"] = r.messages_sent;
  j["messages_accepted"] = r.messages_accepted;
  j["messages_per_second"] = r.messages_per_second();
  j["gbit_per_second"] = r.gbit_per_second();
  j["errors"] = r.errors();
  nlohmann::ordered_json codes = nlohmann::ordered_json::object();
  for (const auto& [code, count] : r.replies_by_code)
    codes[std::to_string(code)] = count;
  j["errors_by_reply_code"] = codes;
  j["connect_failures"] = r.connect_failures;
  auto opt = [&](const char* name, std::int64_t v) {
    if (v >= 0)
      j[name] = v;
    else
      j[name] = nullptr;
  };
  opt("recipients_delivered", r.recipients_delivered);
  opt("recipients_referred", r.recipients_referred);
  opt("recipients_relayed", r.recipients_relayed);
  opt("recipients_bounced", r.recipients_bounced);
  opt("recipients_moved", r.recipients_moved);
  opt("messages_live_at_end", r.messages_live_at_end);
  j["latency_us"] = {
      {"count", r.latency.count()},
      {"min", us(r.latency.min())},
      {"mean", r.latency.mean() / 1000.0},
      {"p50", us(r.latency.percentile(0.50))},
      {"p90", us(r.latency.percentile(0.90))},
      {"p99", us(r.latency.percentile(0.99))},
      {"p99_9", us(r.latency.percentile(0.999))},
      {"max", us(r.latency.max())},
  };
  j["transport_counters"] = nlohmann::ordered_json::object();
  for (const auto& [name, value] : r.transport_counters)
    j["transport_counters"][name] = value;
  return j.dump(2) + "\n";
}

std::string to_table(const RunReport& r) {
  std::string s;
  auto row = [&](const std::string& k, const std::string& v) { s += fmt::format("  {:<26} {}\n", k, v); };
  s += fmt::format("mxdp {} — {} ({} backend)\n", kVersion, r.command, r.backend);
  row("target", r.target);
  row("cores / connections", fmt::format("{} / {}", r.cores, r.connections));
  row("message size / rcpts", fmt::format("{} B / {}", r.message_size, r.recipients_per_message));
  row("durability", r.durability);
  row("duration", fmt::format("{:.2f} s", r.duration_s));
  row("messages accepted", fmt::format("{} of {} sent", r.messages_accepted, r.messages_sent));
  row("throughput", fmt::format("{:.0f} msg/s, {:.3f} Gbit/s", r.messages_per_second(), r.gbit_per_second()));
  row("latency p50/p90/p99/p99.9",
      fmt::format("{:.0f} / {:.0f} / {:.0f} / {:.0f} us", us(r.latency.percentile(0.5)),
                  us(r.latency.percentile(0.9)), us(r.latency.percentile(0.99)),
                  us(r.latency.percentile(0.999))));
  std::string errs = fmt::format("{}", r.errors());
  for (const auto& [code, count] : r.replies_by_code)
    errs += fmt::format("  [{}: {}]", code, count);
  row("errors", errs);
  if (r.connect_failures) row("connect failures", fmt::format("{}", r.connect_failures));
  if (r.recipients_delivered >= 0) {
    row("rcpts delivered/referred", fmt::format("{} / {}", r.recipients_delivered, r.recipients_referred));
    row("rcpts relayed/bounced", fmt::format("{} / {}", r.recipients_relayed, r.recipients_bounced));
    row("messages live at end", fmt::format("{}", r.messages_live_at_end));
  }
  // The few transport counters a person checks first; the JSON has them all.
  for (const char* key :
       {"appliance_port.rx_packets", "appliance_port.tx_packets", "appliance.tcp_retransmits",
        "appliance.drops", "port.rx_packets", "port.tx_packets", "stack.tcp_retransmits", "stack.drops",
        "pool.mbufs_missing_at_end"}) {
    if (auto it = r.transport_counters.find(key); it != r.transport_counters.end())
      row(key, fmt::format("{}", it->second));
  }
  return s;
}

}  // namespace mxdp::cli
