#include "tools/mxdp/run_report.hpp"

#include <gtest/gtest.h>

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
        "latency_us", "messages_live_at_end"}) {
    EXPECT_TRUE(j.contains(field)) << field;
  }
  EXPECT_DOUBLE_EQ(j["messages_per_second"].get<double>(), 500.0);
  EXPECT_EQ(j["errors_by_reply_code"]["451"], 10);
  EXPECT_EQ(j["errors"], 10);
  EXPECT_NEAR(j["latency_us"]["p50"].get<double>(), 500.0, 5.0);
  EXPECT_TRUE(j["recipients_delivered"].is_null());
  EXPECT_EQ(j["messages_live_at_end"], 0);
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

}  // namespace
}  // namespace mxdp::cli
