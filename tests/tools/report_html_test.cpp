#include "tools/mxdp/report_html.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mxdp::cli {
namespace {

ReportRun make_run(std::string file, std::string backend, unsigned cores, unsigned size, double mps,
                   bool with_timeline) {
  ReportRun run;
  run.file = std::move(file);
  RunReport& r = run.report;
  r.command = "bench";
  r.backend = std::move(backend);
  r.cores = cores;
  r.connections = 4;
  r.message_size = size;
  r.recipients_per_message = 1;
  r.duration_s = 2;
  r.messages_accepted = static_cast<std::uint64_t>(mps * 2);
  r.messages_sent = r.messages_accepted;
  r.bytes_sent = r.messages_accepted * size;
  r.messages_live_at_end = 0;
  for (std::uint64_t i = 1; i <= 500; ++i)
    r.latency.record(20'000 + i * 100);
  if (with_timeline)
    r.timeline = {{1.0, mps * 0.9, 0.1, 30'000, 60'000, 0}, {2.0, mps * 1.1, 0.1, 31'000, 62'000, 0}};
  return run;
}

bool has_external_reference(const std::string& html) {
  for (const char* needle : {"http://", "https://", "src=", "href=", "url(", "<script", "@import"})
    if (html.find(needle) != std::string::npos) return true;
  return false;
}

TEST(ReportHtml, LabelNamesTheSetupAndTheFile) {
  EXPECT_EQ(run_label(make_run("/tmp/x/a.json", "kernel", 2, 1024, 1000, false)),
            "kernel 2c 1024B 1rcpt 4conn a.json");
}

TEST(ReportHtml, OneRun) {
  std::string html = render_html({make_run("a.json", "kernel", 2, 1024, 1000, true)}, "My runs");
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<title>My runs</title>"), std::string::npos);
  EXPECT_NE(html.find("1 run,"), std::string::npos);
  EXPECT_NE(html.find("kernel 2c 1024B 1rcpt 4conn a.json"), std::string::npos);
  EXPECT_NE(html.find("<td>1000</td><td>1.00x</td>"), std::string::npos);
  EXPECT_NE(html.find("<svg "), std::string::npos);
  EXPECT_NE(html.find("<style>"), std::string::npos);
  EXPECT_FALSE(has_external_reference(html));
  EXPECT_EQ(html.find("nan"), std::string::npos);
}

TEST(ReportHtml, SeveralRunsSideBySide) {
  std::vector<ReportRun> runs = {make_run("a.json", "kernel", 2, 1024, 1000, true),
                                 make_run("b.json", "dpdk", 4, 4096, 2500, true),
                                 make_run("c.json", "kernel", 1, 64, 500, false)};
  std::string html = render_html(runs, "mxdp report");
  for (const char* label : {"kernel 2c 1024B 1rcpt 4conn a.json", "dpdk 4c 4096B 1rcpt 4conn b.json",
                            "kernel 1c 64B 1rcpt 4conn c.json"})
    EXPECT_NE(html.find(label), std::string::npos) << label;
  EXPECT_NE(html.find("<td>2500</td><td>2.50x</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>500</td><td>0.50x</td>"), std::string::npos);
  // Three charts; throughput and latency carry one line per run with points.
  std::size_t svgs = 0;
  for (auto at = html.find("<svg "); at != std::string::npos; at = html.find("<svg ", at + 1))
    ++svgs;
  EXPECT_EQ(svgs, 3u);
  EXPECT_FALSE(has_external_reference(html));

  std::string svg = render_svg(runs, "mxdp report");
  EXPECT_NE(svg.find("<?xml"), std::string::npos);
  EXPECT_NE(svg.find("b.json"), std::string::npos);
  EXPECT_EQ(svg.find("<table"), std::string::npos);
}

TEST(ReportHtml, EscapesFileNamesAndTitles) {
  ReportRun run = make_run("<script>alert(1)</script>.json", "kernel\"><b>", 2, 1024, 1000, false);
  std::string html = render_html({run}, "a <b> & 'c'");
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;.json"), std::string::npos);
  EXPECT_NE(html.find("<title>a &lt;b&gt; &amp; &#39;c&#39;</title>"), std::string::npos);
  std::string svg = render_svg({run}, "a <b>");
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_EQ(svg.find("<b>"), std::string::npos);
}

TEST(ReportHtml, EmptyTimelineAndNoLatency) {
  ReportRun run = make_run("a.json", "kernel", 2, 1024, 0, false);
  run.report.latency.reset();
  run.report.messages_live_at_end = -1;
  std::string html = render_html({run}, "t");
  EXPECT_NE(html.find("no data"), std::string::npos);
  EXPECT_NE(html.find("n/a"), std::string::npos);  // no ratio to a zero rate, live unknown
  EXPECT_EQ(html.find("nan"), std::string::npos);
  EXPECT_EQ(html.find("inf"), std::string::npos);
}

}  // namespace
}  // namespace mxdp::cli
