#include "tools/mxdp/svg_chart.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace mxdp::cli {

std::string escape_xml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r')
          out += "\xEF\xBF\xBD";  // U+FFFD: XML 1.0 §2.2 allows no other C0 controls
        else
          out += c;
    }
  }
  return out;
}

std::string shorten(std::string_view text, std::size_t max_chars) {
  auto continuation = [](char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; };
  std::size_t chars = 0, cut = text.size();
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (continuation(text[i])) continue;
    if (chars == max_chars - (max_chars > 0 ? 1 : 0)) cut = std::min(cut, i);
    if (++chars > max_chars) return std::string(text.substr(0, cut)) + "\xE2\x80\xA6";  // …
  }
  return std::string(text);
}

std::string short_number(double v) {
  double a = std::fabs(v);
  // The thresholds sit where "{:.3g}" would round up to the next unit.
  if (a >= 999.5e6) return fmt::format("{:.3g}G", v / 1e9);
  if (a >= 999.5e3) return fmt::format("{:.3g}M", v / 1e6);
  if (a >= 999.5) return fmt::format("{:.3g}k", v / 1e3);
  if (a < 1e-3) return "0";
  return fmt::format("{:.3g}", v);
}

std::string_view series_colour(std::size_t i) {
  // Okabe and Ito's colour-blind-safe palette (yellow swapped for grey).
  static constexpr std::array<std::string_view, 8> kPalette = {"#0072b2", "#d55e00", "#009e73", "#cc79a7",
                                                               "#e69f00", "#56b4e9", "#000000", "#7f7f7f"};
  return kPalette[i % kPalette.size()];
}

namespace {

constexpr double kWidth = 760;
constexpr double kLeft = 72;  // y tick labels and the y axis label
constexpr double kRight = 24;
constexpr double kTop = 40;  // the title
constexpr double kPlotHeight = 240;
constexpr double kBelowPlot = 48;  // x tick labels and the x axis label
constexpr double kLegendRow = 18;
constexpr std::size_t kMarkersUpTo = 30;  // points per series drawn as dots too
constexpr std::size_t kMaxLabelChars = 60;

// An axis: its range and where the ticks go.
struct Axis {
  double lo = 0;
  double hi = 1;
  bool log = false;
  std::vector<double> ticks;

  double fraction(double v) const {
    double f =
        log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
    return std::clamp(f, 0.0, 1.0);
  }
};

// 0 to a round number at or above max, with 1-2-5 steps.
Axis linear_axis(double max) {
  if (!(max > 0) || !std::isfinite(max)) max = 1;
  double raw = max / 5;
  double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double norm = raw / magnitude;
  double step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude;
  Axis a;
  auto steps = static_cast<int>(std::ceil(max / step - 1e-9));
  a.hi = steps * step;
  for (int k = 0; k <= steps; ++k)
    a.ticks.push_back(k * step);
  return a;
}

// Whole decades around [min, max] (both > 0).
Axis log_axis(double min, double max) {
  Axis a;
  a.log = true;
  int lo = static_cast<int>(std::floor(std::log10(min)));
  int hi = static_cast<int>(std::ceil(std::log10(max)));
  if (hi <= lo) hi = lo + 1;
  a.lo = std::pow(10.0, lo);
  a.hi = std::pow(10.0, hi);
  for (int d = lo; d <= hi; ++d)
    a.ticks.push_back(std::pow(10.0, d));
  return a;
}

std::string open_svg(double width, double height, std::string_view title) {
  return fmt::format(
      "<svg width=\"{0:.0f}\" height=\"{1:.0f}\" viewBox=\"0 0 {0:.0f} {1:.0f}\" font-family=\"sans-serif\" "
      "font-size=\"12\" role=\"img\" aria-label=\"{2}\">\n<title>{2}</title>\n"
      "<rect width=\"{0:.0f}\" height=\"{1:.0f}\" fill=\"#ffffff\"/>\n"
      "<text x=\"{3:.1f}\" y=\"22\" font-size=\"15\" font-weight=\"bold\">{2}</text>\n",
      width, height, escape_xml(title), kLeft);
}

std::string no_data(double cx, double cy) {
  return fmt::format(
      "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"#777777\">no data</text>\n", cx, cy);
}

// A dashed line for series 8..15, so colours that repeat stay apart.
std::string dash_of(std::size_t i) {
  return (i / 8) % 2 == 1 ? " stroke-dasharray=\"6 3\"" : "";
}

}  // namespace

Svg line_chart(const LineChart& chart) {
  // The ranges, from the points that can be drawn.
  auto usable = [&](double x, double y) {
    return std::isfinite(x) && std::isfinite(y) && (!chart.log_x || x > 0);
  };
  double x_min = std::numeric_limits<double>::infinity(), x_max = 0, y_max = 0;
  bool any = false;
  for (const LineSeries& s : chart.series) {
    for (auto [x, y] : s.points) {
      if (!usable(x, y)) continue;
      any = true;
      x_min = std::min(x_min, x);
      x_max = std::max(x_max, x);
      y_max = std::max(y_max, y);
    }
  }
  Axis x_axis = chart.log_x ? (any ? log_axis(x_min, x_max) : log_axis(1, 10)) : linear_axis(x_max);
  Axis y_axis = linear_axis(chart.y_max > 0 ? chart.y_max : y_max);

  const double plot_w = kWidth - kLeft - kRight;
  const double plot_bottom = kTop + kPlotHeight;
  const double height = plot_bottom + kBelowPlot + kLegendRow * static_cast<double>(chart.series.size()) + 8;
  auto px = [&](double x) { return kLeft + x_axis.fraction(x) * plot_w; };
  auto py = [&](double y) { return plot_bottom - y_axis.fraction(y) * kPlotHeight; };

  std::string s = open_svg(kWidth, height, chart.title);
  // Grid and ticks.
  for (double t : y_axis.ticks) {
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#e3e3e3\"/>\n"
        "<text x=\"{3:.1f}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
        kLeft, py(t), kLeft + plot_w, kLeft - 6, py(t) + 4, escape_xml(short_number(t)));
  }
  for (double t : x_axis.ticks) {
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e3e3e3\"/>\n"
        "<text x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4}</text>\n",
        px(t), kTop, plot_bottom, plot_bottom + 16, escape_xml(short_number(t)));
  }
  // Axes and their labels.
  s += fmt::format(
      "<path d=\"M{0:.1f},{1:.1f} V{2:.1f} H{3:.1f}\" fill=\"none\" stroke=\"#333333\"/>\n"
      "<text x=\"{4:.1f}\" y=\"{5:.1f}\" text-anchor=\"middle\">{6}</text>\n"
      "<text transform=\"translate(16,{7:.1f}) rotate(-90)\" text-anchor=\"middle\">{8}</text>\n",
      kLeft, kTop, plot_bottom, kLeft + plot_w, kLeft + plot_w / 2, plot_bottom + 36,
      escape_xml(chart.x_label), kTop + kPlotHeight / 2, escape_xml(chart.y_label));
  if (!any) s += no_data(kLeft + plot_w / 2, kTop + kPlotHeight / 2);

  // The series, then the legend.
  for (std::size_t i = 0; i < chart.series.size(); ++i) {
    const LineSeries& series = chart.series[i];
    std::string points;
    std::size_t n = 0;
    for (auto [x, y] : series.points) {
      if (!usable(x, y)) continue;
      points += fmt::format("{}{:.1f},{:.1f}", n++ ? " " : "", px(x), py(y));
    }
    if (n == 0) continue;
    std::string_view colour = series_colour(i);
    s += fmt::format("<g><title>{}</title>\n", escape_xml(series.name));
    if (n > 1) {
      s += fmt::format(
          "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" stroke-linejoin=\"round\"{} "
          "points=\"{}\"/>\n",
          colour, dash_of(i), points);
    }
    if (n <= kMarkersUpTo) {
      for (auto [x, y] : series.points) {
        if (usable(x, y))
          s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>\n", px(x), py(y),
                           colour);
      }
    }
    s += "</g>\n";
  }
  for (std::size_t i = 0; i < chart.series.size(); ++i) {
    double y = plot_bottom + kBelowPlot + kLegendRow * static_cast<double>(i);
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"{3}\" "
        "stroke-width=\"3\"{4}/>\n"
        "<text x=\"{5:.1f}\" y=\"{6:.1f}\">{7}</text>\n",
        kLeft, y + 6, kLeft + 24, series_colour(i), dash_of(i), kLeft + 30, y + 10,
        escape_xml(shorten(chart.series[i].name, 2 * kMaxLabelChars)));
  }
  s += "</svg>\n";
  return {std::move(s), kWidth, height};
}

Svg bar_chart(const BarChart& chart) {
  constexpr double kRow = 26;
  constexpr double kBar = 18;
  constexpr double kValueRoom = 64;  // the value printed after each bar
  std::size_t label_chars = 0;
  double max = 0;
  for (const Bar& b : chart.bars) {
    label_chars = std::max(label_chars, std::min(b.label.size(), kMaxLabelChars));
    if (std::isfinite(b.value)) max = std::max(max, b.value);
  }
  const double label_w = std::clamp(static_cast<double>(label_chars) * 6.5 + 16, 80.0, 380.0);
  const double left = label_w;
  const double plot_w = kWidth - left - kValueRoom - kRight;
  const double rows = static_cast<double>(std::max<std::size_t>(chart.bars.size(), 1));
  const double plot_bottom = kTop + rows * kRow;
  const double height = plot_bottom + kBelowPlot;
  Axis axis = linear_axis(max);
  auto px = [&](double v) { return left + axis.fraction(v) * plot_w; };

  std::string s = open_svg(kWidth, height, chart.title);
  for (double t : axis.ticks) {
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e3e3e3\"/>\n"
        "<text x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4}</text>\n",
        px(t), kTop, plot_bottom, plot_bottom + 16, escape_xml(short_number(t)));
  }
  s += fmt::format(
      "<path d=\"M{0:.1f},{1:.1f} V{2:.1f} H{3:.1f}\" fill=\"none\" stroke=\"#333333\"/>\n"
      "<text x=\"{4:.1f}\" y=\"{5:.1f}\" text-anchor=\"middle\">{6}</text>\n",
      left, kTop, plot_bottom, left + plot_w, left + plot_w / 2, plot_bottom + 36,
      escape_xml(chart.value_label));
  if (chart.bars.empty()) s += no_data(left + plot_w / 2, kTop + kRow / 2 + 4);
  for (std::size_t i = 0; i < chart.bars.size(); ++i) {
    const Bar& b = chart.bars[i];
    double value = std::isfinite(b.value) ? std::max(b.value, 0.0) : 0.0;
    double y = kTop + kRow * static_cast<double>(i) + (kRow - kBar) / 2;
    double w = px(value) - left;
    s += fmt::format(
        "<g><title>{0}: {1}</title>\n"
        "<text x=\"{2:.1f}\" y=\"{3:.1f}\" text-anchor=\"end\">{4}</text>\n"
        "<rect x=\"{5:.1f}\" y=\"{6:.1f}\" width=\"{7:.1f}\" height=\"{8:.1f}\" fill=\"{9}\"/>\n"
        "<text x=\"{10:.1f}\" y=\"{3:.1f}\">{1}</text>\n</g>\n",
        escape_xml(b.label), escape_xml(short_number(value)), left - 8, y + kBar / 2 + 4,
        escape_xml(shorten(b.label, kMaxLabelChars)), left, y, w, kBar, series_colour(i), left + w + 6);
  }
  s += "</svg>\n";
  return {std::move(s), kWidth, height};
}

std::string standalone_svg(const std::vector<Svg>& charts, std::string_view title) {
  double width = 0, height = 0;
  for (const Svg& c : charts) {
    width = std::max(width, c.width);
    height += c.height;
  }
  std::string s = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0:.0f}\" height=\"{1:.0f}\" "
      "viewBox=\"0 0 {0:.0f} {1:.0f}\">\n<title>{2}</title>\n",
      width, height, escape_xml(title));
  double y = 0;
  for (const Svg& c : charts) {
    s += fmt::format("<g transform=\"translate(0,{:.0f})\">\n", y);
    s += c.markup;
    s += "</g>\n";
    y += c.height;
  }
  s += "</svg>\n";
  return s;
}

}  // namespace mxdp::cli
