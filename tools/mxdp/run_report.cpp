#include "tools/mxdp/run_report.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "mxdp/version.hpp"
#include "tools/mxdp/byte_size.hpp"

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
  if (r.mailbox_log_bytes >= 0)
    j["mailbox_log_bytes"] = r.mailbox_log_bytes;
  else
    j["mailbox_log_bytes"] = nullptr;
  j["duration_s"] = r.duration_s;
  j["messages_sent"] = r.messages_sent;
  j["messages_accepted"] = r.messages_accepted;
  j["bytes_sent"] = r.bytes_sent;
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
  // [upper_bound_ns, count] pairs: enough to redraw the distribution (the
  // bucket edges carry the histogram's < 1% error).
  nlohmann::ordered_json buckets = nlohmann::ordered_json::array();
  for (const auto& b : r.latency.buckets())
    buckets.push_back({b.upper_ns, b.count});
  j["latency_histogram"] = std::move(buckets);
  nlohmann::ordered_json timeline = nlohmann::ordered_json::array();
  for (const TimelinePoint& p : r.timeline) {
    timeline.push_back({{"t_s", p.t_s},
                        {"messages_per_s", p.messages_per_s},
                        {"gbit_per_s", p.gbit_per_s},
                        {"p50_us", us(p.p50_ns)},
                        {"p99_us", us(p.p99_ns)},
                        {"failed", p.failed}});
  }
  j["timeline"] = std::move(timeline);
  return j.dump(2) + "\n";
}

namespace {

using Json = nlohmann::json;

[[noreturn]] void bad(const std::string& what) {
  throw std::runtime_error(what);
}

const Json* find(const Json& j, const char* name) {
  auto it = j.find(name);
  return it == j.end() ? nullptr : &*it;
}

const Json& need(const Json& j, const char* name) {
  const Json* v = find(j, name);
  if (!v) bad(fmt::format("missing field '{}'", name));
  return *v;
}

double number(const Json& v, const char* name) {
  if (!v.is_number()) bad(fmt::format("field '{}' is not a number", name));
  double d = v.get<double>();
  if (!std::isfinite(d)) bad(fmt::format("field '{}' is not finite", name));
  return d;
}

std::uint64_t count(const Json& v, const char* name) {
  if (!v.is_number_unsigned()) bad(fmt::format("field '{}' is not a non-negative integer", name));
  return v.get<std::uint64_t>();
}

std::string text(const Json& v, const char* name) {
  if (!v.is_string()) bad(fmt::format("field '{}' is not a string", name));
  return v.get<std::string>();
}

unsigned small_count(const Json& v, const char* name) {
  std::uint64_t n = count(v, name);
  if (n > std::numeric_limits<unsigned>::max()) bad(fmt::format("field '{}' is out of range", name));
  return static_cast<unsigned>(n);
}

// Microseconds as written by to_json back to nanoseconds.
std::uint64_t ns_of_us(const Json& v, const char* name) {
  double d = number(v, name);
  if (d < 0 || d * 1000.0 >= 1.8e19) bad(fmt::format("field '{}' is out of range", name));
  return static_cast<std::uint64_t>(std::llround(d * 1000.0));
}

template <typename T, typename Read>
void optional(const Json& j, const char* name, T& out, Read read) {
  if (const Json* v = find(j, name)) out = read(*v, name);
}

// Null (not known) reads as -1.
std::int64_t nullable_count(const Json& v, const char* name) {
  if (v.is_null()) return -1;
  std::uint64_t n = count(v, name);
  if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    bad(fmt::format("field '{}' is out of range", name));
  return static_cast<std::int64_t>(n);
}

LatencyHistogram read_latency(const Json& j) {
  const Json& lat = need(j, "latency_us");
  if (!lat.is_object()) bad("field 'latency_us' is not an object");
  std::uint64_t n = count(need(lat, "count"), "latency_us.count");
  std::uint64_t min = ns_of_us(need(lat, "min"), "latency_us.min");
  std::uint64_t max = ns_of_us(need(lat, "max"), "latency_us.max");
  double mean_ns = number(need(lat, "mean"), "latency_us.mean") * 1000.0;
  double sum = mean_ns * static_cast<double>(n);
  if (sum < 0 || sum >= 1.8e19) bad("field 'latency_us.mean' is out of range");
  auto sum_ns = static_cast<std::uint64_t>(std::llround(sum));

  std::vector<LatencyHistogram::Bucket> buckets;
  if (const Json* hist = find(j, "latency_histogram")) {
    if (!hist->is_array()) bad("field 'latency_histogram' is not an array");
    std::uint64_t total = 0;
    for (const Json& b : *hist) {
      if (!b.is_array() || b.size() != 2)
        bad("field 'latency_histogram' holds something other than [upper_bound_ns, count] pairs");
      buckets.push_back(
          {count(b[0], "latency_histogram upper bound"), count(b[1], "latency_histogram count")});
      total += buckets.back().count;
    }
    if (total != n)
      bad(fmt::format("field 'latency_histogram' counts {} values, latency_us.count says {}", total, n));
  } else if (n != 0) {
    // An older report: a step distribution through the percentiles it has.
    const std::pair<const char*, double> quantiles[] = {
        {"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p99_9", 0.999}, {"max", 1.0}};
    std::uint64_t below = 0;
    for (const auto& [name, q] : quantiles) {
      auto upto = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n)));
      std::string full = std::string("latency_us.") + name;
      std::uint64_t at = ns_of_us(need(lat, name), full.c_str());
      if (upto > below) buckets.push_back({at, upto - below});
      below = std::max(below, upto);
    }
  }
  return LatencyHistogram::from_buckets(buckets, min, max, sum_ns);
}

std::vector<TimelinePoint> read_timeline(const Json& j) {
  std::vector<TimelinePoint> out;
  const Json* timeline = find(j, "timeline");
  if (!timeline) return out;
  if (!timeline->is_array()) bad("field 'timeline' is not an array");
  for (const Json& p : *timeline) {
    if (!p.is_object()) bad("field 'timeline' holds something other than objects");
    TimelinePoint t;
    t.t_s = number(need(p, "t_s"), "timeline.t_s");
    t.messages_per_s = number(need(p, "messages_per_s"), "timeline.messages_per_s");
    t.gbit_per_s = number(need(p, "gbit_per_s"), "timeline.gbit_per_s");
    t.p50_ns = ns_of_us(need(p, "p50_us"), "timeline.p50_us");
    t.p99_ns = ns_of_us(need(p, "p99_us"), "timeline.p99_us");
    t.failed = count(need(p, "failed"), "timeline.failed");
    out.push_back(t);
  }
  return out;
}

}  // namespace

RunReport from_json(std::string_view input) {
  Json j;
  try {
    j = Json::parse(input.begin(), input.end());
  } catch (const Json::parse_error& e) {
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix.
    std::string_view what = e.what();
    if (auto end = what.find("] "); what.starts_with("[json.exception") && end != what.npos)
      what.remove_prefix(end + 2);
    bad(fmt::format("not JSON ({})", what));
  }
  if (!j.is_object()) bad("not an mxdp report (the JSON is not an object)");

  RunReport r;
  r.command = text(need(j, "command"), "command");
  r.backend = text(need(j, "backend"), "backend");
  optional(j, "target", r.target, text);
  optional(j, "cores", r.cores, small_count);
  optional(j, "connections", r.connections, small_count);
  optional(j, "message_size", r.message_size, small_count);
  optional(j, "recipients_per_message", r.recipients_per_message, small_count);
  optional(j, "durability", r.durability, text);
  optional(j, "referral_share", r.referral_share, number);
  optional(j, "move_rate_per_s", r.move_rate_per_s, number);
  optional(j, "mailbox_log_bytes", r.mailbox_log_bytes, nullable_count);
  r.duration_s = number(need(j, "duration_s"), "duration_s");
  if (r.duration_s < 0) bad("field 'duration_s' is negative");
  r.messages_sent = count(need(j, "messages_sent"), "messages_sent");
  r.messages_accepted = count(need(j, "messages_accepted"), "messages_accepted");
  if (const Json* bytes = find(j, "bytes_sent")) {
    r.bytes_sent = count(*bytes, "bytes_sent");
  } else if (const Json* gbit = find(j, "gbit_per_second")) {
    // Older reports: the byte count is only there as a rate.
    double b = number(*gbit, "gbit_per_second") * 1e9 / 8 * r.duration_s;
    if (b < 0 || b >= 1.8e19) bad("field 'gbit_per_second' is out of range");
    r.bytes_sent = static_cast<std::uint64_t>(std::llround(b));
  }
  if (const Json* codes = find(j, "errors_by_reply_code")) {
    if (!codes->is_object()) bad("field 'errors_by_reply_code' is not an object");
    for (const auto& [key, value] : codes->items()) {
      int code = 0;
      auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), code);
      if (ec != std::errc{} || end != key.data() + key.size())
        bad(fmt::format("field 'errors_by_reply_code' has a key that is not a reply code: '{}'", key));
      r.replies_by_code[code] = count(value, "errors_by_reply_code");
    }
  }
  optional(j, "connect_failures", r.connect_failures, count);
  optional(j, "recipients_delivered", r.recipients_delivered, nullable_count);
  optional(j, "recipients_referred", r.recipients_referred, nullable_count);
  optional(j, "recipients_relayed", r.recipients_relayed, nullable_count);
  optional(j, "recipients_bounced", r.recipients_bounced, nullable_count);
  optional(j, "recipients_moved", r.recipients_moved, nullable_count);
  optional(j, "messages_live_at_end", r.messages_live_at_end, nullable_count);
  if (const Json* tc = find(j, "transport_counters")) {
    if (!tc->is_object()) bad("field 'transport_counters' is not an object");
    for (const auto& [key, value] : tc->items())
      r.transport_counters[key] = count(value, "transport_counters");
  }
  r.latency = read_latency(j);
  r.timeline = read_timeline(j);
  return r;
}

std::string to_table(const RunReport& r) {
  std::string s;
  auto row = [&](const std::string& k, const std::string& v) { s += fmt::format("  {:<26} {}\n", k, v); };
  s += fmt::format("mxdp {} — {} ({} backend)\n", kVersion, r.command, r.backend);
  row("target", r.target);
  row("cores / connections", fmt::format("{} / {}", r.cores, r.connections));
  row("message size / rcpts", fmt::format("{} B / {}", r.message_size, r.recipients_per_message));
  row("durability", r.durability);
  if (r.mailbox_log_bytes >= 0)
    row("mailbox log per shard", format_byte_size(static_cast<std::uint64_t>(r.mailbox_log_bytes)));
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
