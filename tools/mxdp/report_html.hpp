#pragma once
// `mxdp report`: one or more run reports (read back from their JSON) drawn as
// one self-contained HTML page (inline CSS and SVG: no scripts, no fetches)
// or as the charts alone in one SVG file.

#include <string>
#include <string_view>
#include <vector>

#include "tools/mxdp/run_report.hpp"
#include "tools/mxdp/svg_chart.hpp"

namespace mxdp::cli {

struct ReportRun {
  std::string file;  // where the report was read from, as the user named it
  RunReport report;
};

// "kernel 2c 1024B 1rcpt 64conn a.json": what tells runs apart.
std::string run_label(const ReportRun& run);

// Throughput over time, latency CDF and messages/s per run, in that order.
std::vector<Svg> report_charts(const std::vector<ReportRun>& runs);

// The page: a summary table, then the charts.
std::string render_html(const std::vector<ReportRun>& runs, std::string_view title);

// The charts alone, one under the other.
std::string render_svg(const std::vector<ReportRun>& runs, std::string_view title);

}  // namespace mxdp::cli
