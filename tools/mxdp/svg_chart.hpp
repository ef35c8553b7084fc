#pragma once
// A small SVG chart writer for `mxdp report`: line charts (linear or log-scale
// x) and horizontal bar charts, with axes, ticks, a title and a legend. The
// markup has no xmlns, so it inlines into HTML as it is; standalone_svg() makes
// a file of its own. Every string from the caller is escaped.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mxdp::cli {

// Text and attribute values for XML and HTML: & < > " ' become entities, and
// control characters (not allowed in XML 1.0) become U+FFFD.
std::string escape_xml(std::string_view text);

// At most max_chars characters (UTF-8 aware), with "…" when cut.
std::string shorten(std::string_view text, std::size_t max_chars);

// Short numbers for ticks and labels: "250", "2.5", "62.4k", "1.5M", "3G".
std::string short_number(double v);

// The colour of series i; run i has the same colour in every chart.
std::string_view series_colour(std::size_t i);

// One chart: complete <svg> markup and its size in pixels.
struct Svg {
  std::string markup;
  double width = 0;
  double height = 0;
};

struct LineSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y); non-finite ones are skipped
};

struct LineChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_x = false;  // decades on x; points with x <= 0 are skipped
  double y_max = 0;    // top of the y axis; 0: from the data
  std::vector<LineSeries> series;
};

// Series with no points still get their legend entry; a chart without any
// point says "no data".
Svg line_chart(const LineChart& chart);

struct Bar {
  std::string label;
  double value = 0;
};

struct BarChart {
  std::string title;
  std::string value_label;  // the x axis
  std::vector<Bar> bars;    // top to bottom; bar i has series_colour(i)
};

Svg bar_chart(const BarChart& chart);

// The charts one under the other in one standalone SVG document.
std::string standalone_svg(const std::vector<Svg>& charts, std::string_view title);

}  // namespace mxdp::cli
