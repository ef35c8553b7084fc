#include "tools/mxdp/report_html.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "mxdp/version.hpp"

namespace mxdp::cli {

std::string run_label(const ReportRun& run) {
  const RunReport& r = run.report;
  std::string file = std::filesystem::path(run.file).filename().string();
  return fmt::format("{} {}c {}B {}rcpt {}conn {}", r.backend, r.cores, r.message_size,
                     r.recipients_per_message, r.connections, file.empty() ? run.file : file);
}

std::vector<Svg> report_charts(const std::vector<ReportRun>& runs) {
  LineChart timeline{.title = "Throughput over time",
                     .x_label = "seconds since start",
                     .y_label = "messages/s",
                     .log_x = false,
                     .y_max = 0,
                     .series = {}};
  // The CDF: the share of messages answered within x (bucket upper edges).
  LineChart latency{.title = "Latency distribution (CDF)",
                    .x_label = "latency, microseconds (log scale)",
                    .y_label = "% of messages at or below",
                    .log_x = true,
                    .y_max = 100,
                    .series = {}};
  BarChart rates{.title = "Messages per second", .value_label = "messages/s", .bars = {}};
  for (const ReportRun& run : runs) {
    const RunReport& r = run.report;
    std::string label = run_label(run);
    LineSeries t{.name = label, .points = {}};
    for (const TimelinePoint& p : r.timeline)
      t.points.emplace_back(p.t_s, p.messages_per_s);
    timeline.series.push_back(std::move(t));

    LineSeries cdf{.name = label, .points = {}};
    std::uint64_t seen = 0, total = r.latency.count();
    for (const auto& b : r.latency.buckets()) {
      seen += b.count;
      // A bucket's upper edge can pass the largest value seen; the CDF ends at max().
      double upper_us = static_cast<double>(std::min(b.upper_ns, r.latency.max())) / 1000.0;
      cdf.points.emplace_back(upper_us, 100.0 * static_cast<double>(seen) / static_cast<double>(total));
    }
    latency.series.push_back(std::move(cdf));

    rates.bars.push_back({label, r.messages_per_second()});
  }
  return {line_chart(timeline), line_chart(latency), bar_chart(rates)};
}

namespace {

constexpr std::string_view kCss = R"(
body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 1.8em; }
p.meta { color: #666; margin-top: 0; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.6em; text-align: right; white-space: nowrap; }
th { background: #f4f4f4; }
td.text, th.text { text-align: left; }
td.bad { color: #b00020; font-weight: bold; }
span.swatch { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.4em; vertical-align: middle; }
figure { margin: 1em 0; }
svg { max-width: 100%; height: auto; }
)";

std::string us_cell(std::uint64_t ns) {
  return fmt::format("{:.1f}", static_cast<double>(ns) / 1000.0);
}

std::string summary_table(const std::vector<ReportRun>& runs) {
  std::string s =
      "<table>\n<thead><tr><th class=\"text\">run</th><th class=\"text\">command</th>"
      "<th class=\"text\">backend</th><th>cores</th><th>size (B)</th><th>rcpts</th><th>connections</th>"
      "<th>duration (s)</th><th>messages/s</th><th>vs first</th><th>Gbit/s</th><th>p50 (us)</th>"
      "<th>p99 (us)</th><th>p99.9 (us)</th><th>errors</th><th>live at end</th>"
      "<th class=\"text\">file</th></tr></thead>\n<tbody>\n";
  double first = runs.empty() ? 0 : runs.front().report.messages_per_second();
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const RunReport& r = runs[i].report;
    double mps = r.messages_per_second();
    std::string ratio = first > 0 ? fmt::format("{:.2f}x", mps / first) : "n/a";
    std::string live = r.messages_live_at_end < 0 ? "n/a" : fmt::format("{}", r.messages_live_at_end);
    std::uint64_t errors = r.errors() + r.connect_failures;
    s += fmt::format(
        "<tr><td class=\"text\"><span class=\"swatch\" style=\"background:{}\"></span>{}</td>"
        "<td class=\"text\">{}</td><td class=\"text\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{:.2f}</td><td>{:.0f}</td><td>{}</td><td>{:.3f}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td{}>{}</td><td{}>{}</td><td class=\"text\">{}</td></tr>\n",
        series_colour(i), escape_xml(run_label(runs[i])), escape_xml(r.command), escape_xml(r.backend),
        r.cores, r.message_size, r.recipients_per_message, r.connections, r.duration_s, mps, ratio,
        r.gbit_per_second(), us_cell(r.latency.percentile(0.5)), us_cell(r.latency.percentile(0.99)),
        us_cell(r.latency.percentile(0.999)), errors ? " class=\"bad\"" : "", errors,
        r.messages_live_at_end > 0 ? " class=\"bad\"" : "", live, escape_xml(runs[i].file));
  }
  s += "</tbody>\n</table>\n";
  return s;
}

}  // namespace

std::string render_html(const std::vector<ReportRun>& runs, std::string_view title) {
  std::string t = escape_xml(title);
  std::string s = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>{0}</title>\n<style>{1}</style>\n</head>\n<body>\n<h1>{0}</h1>\n"
      "<p class=\"meta\">{2} run{3}, drawn by mxdp {4}. Errors count final replies other than 2xx and "
      "failed connects; the ratio is each run's messages/s over the first run's.</p>\n"
      "<h2>Summary</h2>\n",
      t, kCss, runs.size(), runs.size() == 1 ? "" : "s", escape_xml(kVersion));
  s += summary_table(runs);
  static constexpr std::string_view kHeadings[] = {"Throughput over time", "Latency distribution",
                                                   "Messages per second"};
  auto charts = report_charts(runs);
  for (std::size_t i = 0; i < charts.size(); ++i) {
    s += fmt::format("<h2>{}</h2>\n<figure>\n", kHeadings[i % std::size(kHeadings)]);
    s += charts[i].markup;
    s += "</figure>\n";
  }
  s += "</body>\n</html>\n";
  return s;
}

std::string render_svg(const std::vector<ReportRun>& runs, std::string_view title) {
  return standalone_svg(report_charts(runs), title);
}

}  // namespace mxdp::cli
