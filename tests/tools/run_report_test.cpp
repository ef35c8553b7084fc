#include "tools/mxdp/run_report.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace mxdp::cli {
namespace {

TEST(RunReport, JsonHasTheDocumentedFields) {
  RunReport r;
  r.command = "bench";
  r.backend = "kernel";
  r.connections = 64;
  r.message_size = 1024;
  r.recipients_per_message = 1;
  r.duration_s = 2.0;
  r.messages_sent = 1010;
  r.messages_accepted = 1000;
  r.bytes_sent = 1000 * 1024;
  r.replies_by_code[451] = 10;
  r.messages_live_at_end = 0;
  for (int i = 1; i <= 1000; ++i)
    r.latency.record(static_cast<std::uint64_t>(i) * 1000);
  auto j = nlohmann::json::parse(to_json(r));
  for (const char* field :
       {"mxdp_version", "backend", "cores", "connections", "message_size", "recipients_per_message",
        "durability", "duration_s", "messages_accepted", "messages_per_second", "recipients_delivered",
        "recipients_referred", "recipients_relayed", "recipients_bounced", "errors_by_reply_code",
        "latency_us", "messages_live_at_end", "mailbox_log_bytes"}) {
    EXPECT_TRUE(j.contains(field)) << field;
  }
  EXPECT_DOUBLE_EQ(j["messages_per_second"].get<double>(), 500.0);
  EXPECT_EQ(j["errors_by_reply_code"]["451"], 10);
  EXPECT_EQ(j["errors"], 10);
  EXPECT_NEAR(j["latency_us"]["p50"].get<double>(), 500.0, 5.0);
  EXPECT_TRUE(j["recipients_delivered"].is_null());
  EXPECT_EQ(j["messages_live_at_end"], 0);
  EXPECT_TRUE(j["mailbox_log_bytes"].is_null());  // not known: not a bench of the appliance
}

TEST(RunReport, TableMentionsThroughputAndLatency) {
  RunReport r;
  r.command = "loadgen";
  r.backend = "kernel";
  r.duration_s = 1;
  r.messages_accepted = 42;
  auto t = to_table(r);
  EXPECT_NE(t.find("42 msg/s"), std::string::npos) << t;
  EXPECT_NE(t.find("p99"), std::string::npos);
}

RunReport sample_report() {
  RunReport r;
  r.command = "bench";
  r.backend = "kernel";
  r.target = "embedded";
  r.cores = 2;
  r.connections = 64;
  r.message_size = 1024;
  r.recipients_per_message = 3;
  r.referral_share = 0.25;
  r.move_rate_per_s = 10;
  r.mailbox_log_bytes = 256 << 10;
  r.duration_s = 2.5;
  r.messages_sent = 1010;
  r.messages_accepted = 1000;
  r.bytes_sent = 1000 * 1024 + 7;
  r.replies_by_code[0] = 2;
  r.replies_by_code[451] = 8;
  r.connect_failures = 1;
  r.recipients_delivered = 2000;
  r.recipients_referred = 900;
  r.recipients_relayed = 899;
  r.recipients_bounced = 1;
  r.recipients_moved = 25;
  r.messages_live_at_end = 0;
  for (std::uint64_t i = 1; i <= 1000; ++i)
    r.latency.record(i * i * 37);
  r.timeline = {{1.0, 400.5, 0.003, 12000, 99000, 3}, {2.0, 410.25, 0.0035, 11000, 120000, 0}};
  return r;
}

TEST(RunReport, JsonHasHistogramAndTimeline) {
  auto j = nlohmann::json::parse(to_json(sample_report()));
  ASSERT_TRUE(j["latency_histogram"].is_array());
  std::uint64_t total = 0;
  for (const auto& b : j["latency_histogram"]) {
    ASSERT_EQ(b.size(), 2u);
    EXPECT_GT(b[1].get<std::uint64_t>(), 0u);  // only non-empty buckets
    total += b[1].get<std::uint64_t>();
  }
  EXPECT_EQ(total, 1000u);
  ASSERT_EQ(j["timeline"].size(), 2u);
  EXPECT_EQ(j["timeline"][0]["t_s"], 1.0);
  EXPECT_EQ(j["timeline"][0]["p99_us"], 99.0);
  EXPECT_EQ(j["timeline"][0]["failed"], 3);
  EXPECT_EQ(j["bytes_sent"], 1000 * 1024 + 7);
  EXPECT_EQ(j["mailbox_log_bytes"], 256 << 10);
}

TEST(RunReport, TableShowsTheMailboxLogWhenKnown) {
  EXPECT_NE(to_table(sample_report()).find("mailbox log per shard      256K"), std::string::npos)
      << to_table(sample_report());
  RunReport r;
  EXPECT_EQ(to_table(r).find("mailbox log"), std::string::npos);
}

TEST(RunReport, JsonRoundTrip) {
  RunReport r = sample_report();
  RunReport back = from_json(to_json(r));
  EXPECT_EQ(back.command, r.command);
  EXPECT_EQ(back.backend, r.backend);
  EXPECT_EQ(back.target, r.target);
  EXPECT_EQ(back.cores, r.cores);
  EXPECT_EQ(back.connections, r.connections);
  EXPECT_EQ(back.message_size, r.message_size);
  EXPECT_EQ(back.recipients_per_message, r.recipients_per_message);
  EXPECT_EQ(back.durability, r.durability);
  EXPECT_EQ(back.referral_share, r.referral_share);
  EXPECT_EQ(back.move_rate_per_s, r.move_rate_per_s);
  EXPECT_EQ(back.mailbox_log_bytes, r.mailbox_log_bytes);
  EXPECT_EQ(back.duration_s, r.duration_s);
  EXPECT_EQ(back.messages_sent, r.messages_sent);
  EXPECT_EQ(back.messages_accepted, r.messages_accepted);
  EXPECT_EQ(back.bytes_sent, r.bytes_sent);
  EXPECT_EQ(back.replies_by_code, r.replies_by_code);
  EXPECT_EQ(back.connect_failures, r.connect_failures);
  EXPECT_EQ(back.recipients_delivered, r.recipients_delivered);
  EXPECT_EQ(back.recipients_referred, r.recipients_referred);
  EXPECT_EQ(back.recipients_relayed, r.recipients_relayed);
  EXPECT_EQ(back.recipients_bounced, r.recipients_bounced);
  EXPECT_EQ(back.recipients_moved, r.recipients_moved);
  EXPECT_EQ(back.messages_live_at_end, r.messages_live_at_end);
  EXPECT_EQ(back.latency.buckets(), r.latency.buckets());
  EXPECT_EQ(back.latency.min(), r.latency.min());
  EXPECT_EQ(back.latency.max(), r.latency.max());
  EXPECT_NEAR(back.latency.mean(), r.latency.mean(), 1.0);
  EXPECT_EQ(back.timeline, r.timeline);
  // Written again, the report is the same text.
  EXPECT_EQ(to_json(back), to_json(r));
}

TEST(RunReport, RoundTripOfAnEmptyReport) {
  RunReport r;
  r.command = "loadgen";
  r.backend = "kernel";
  RunReport back = from_json(to_json(r));
  EXPECT_EQ(back.latency.count(), 0u);
  EXPECT_TRUE(back.timeline.empty());
  EXPECT_EQ(back.messages_live_at_end, -1);
  EXPECT_EQ(back.mailbox_log_bytes, -1);
  EXPECT_EQ(to_json(back), to_json(r));
}

TEST(RunReport, OlderReportWithoutHistogramGetsItsPercentiles) {
  auto j = nlohmann::json::parse(to_json(sample_report()));
  j.erase("latency_histogram");
  j.erase("timeline");
  j.erase("bytes_sent");
  j.erase("mailbox_log_bytes");
  RunReport back = from_json(j.dump());
  RunReport r = sample_report();
  EXPECT_TRUE(back.timeline.empty());
  EXPECT_NEAR(static_cast<double>(back.bytes_sent), static_cast<double>(r.bytes_sent), 1.0);
  EXPECT_EQ(back.latency.count(), r.latency.count());
  for (double q : {0.5, 0.9, 0.99, 0.999, 1.0}) {
    auto want = static_cast<double>(r.latency.percentile(q));
    EXPECT_NEAR(static_cast<double>(back.latency.percentile(q)), want, want * 0.01) << q;
  }
}

std::string from_json_error(const std::string& text) {
  try {
    from_json(text);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(RunReport, FromJsonNamesTheProblem) {
  EXPECT_NE(from_json_error("").find("not JSON"), std::string::npos);
  EXPECT_NE(from_json_error("{\"command\": ").find("not JSON"), std::string::npos);
  EXPECT_NE(from_json_error("[1, 2]").find("not an object"), std::string::npos);
  EXPECT_NE(from_json_error("{}").find("'command'"), std::string::npos);

  auto with = [](const char* field, nlohmann::json value) {
    auto j = nlohmann::json::parse(to_json(sample_report()));
    if (value.is_discarded())
      j.erase(field);
    else
      j[field] = value;
    return from_json_error(j.dump());
  };
  nlohmann::json gone(nlohmann::json::value_t::discarded);
  EXPECT_NE(with("messages_accepted", gone).find("missing field 'messages_accepted'"), std::string::npos);
  EXPECT_NE(with("messages_accepted", "many").find("'messages_accepted' is not a non-negative integer"),
            std::string::npos);
  EXPECT_NE(with("messages_sent", -3).find("'messages_sent'"), std::string::npos);
  EXPECT_NE(with("duration_s", "2s").find("'duration_s' is not a number"), std::string::npos);
  EXPECT_NE(with("backend", 7).find("'backend' is not a string"), std::string::npos);
  EXPECT_NE(with("timeline", 1).find("'timeline'"), std::string::npos);
  EXPECT_NE(with("timeline", nlohmann::json::array({{{"t_s", 1}}})).find("'messages_per_s'"),
            std::string::npos);
  EXPECT_NE(with("latency_histogram", nlohmann::json::array({{1, 2, 3}})).find("'latency_histogram'"),
            std::string::npos);
  EXPECT_NE(with("latency_histogram", nlohmann::json::array({{1000, 2}})).find("latency_us.count"),
            std::string::npos);
  EXPECT_NE(with("errors_by_reply_code", {{"x451", 1}}).find("reply code"), std::string::npos);
  EXPECT_NE(with("latency_us", gone).find("'latency_us'"), std::string::npos);
  EXPECT_NE(with("mailbox_log_bytes", "16M").find("'mailbox_log_bytes'"), std::string::npos);
}

}  // namespace
}  // namespace mxdp::cli
