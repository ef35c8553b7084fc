#include "tools/mxdp/svg_chart.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace mxdp::cli {
namespace {

std::size_t occurrences(const std::string& text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size()))
    ++n;
  return n;
}

TEST(SvgChart, EscapesEveryMarkupCharacter) {
  EXPECT_EQ(escape_xml("a<b>&\"c\"'d'"), "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;");
  EXPECT_EQ(escape_xml("plain text, ünïcode"), "plain text, ünïcode");
  EXPECT_EQ(escape_xml(std::string("a\x01z", 3)), "a\xEF\xBF\xBDz");
  EXPECT_EQ(escape_xml("tab\tand\nnewline"), "tab\tand\nnewline");
}

TEST(SvgChart, ShortenCountsCharactersNotBytes) {
  EXPECT_EQ(shorten("abc", 3), "abc");
  EXPECT_EQ(shorten("abcd", 3), "ab\xE2\x80\xA6");
  EXPECT_EQ(shorten("ééé", 3), "ééé");
  EXPECT_EQ(shorten("éééé", 3), "éé\xE2\x80\xA6");
}

TEST(SvgChart, ShortNumbers) {
  EXPECT_EQ(short_number(0), "0");
  EXPECT_EQ(short_number(0.25), "0.25");
  EXPECT_EQ(short_number(250), "250");
  EXPECT_EQ(short_number(999.7), "1k");
  EXPECT_EQ(short_number(62441), "62.4k");
  EXPECT_EQ(short_number(1.5e6), "1.5M");
  EXPECT_EQ(short_number(3e9), "3G");
}

TEST(SvgChart, LineChartWithSeveralSeries) {
  LineChart c{
      .title = "Throughput", .x_label = "s", .y_label = "msg/s", .log_x = false, .y_max = 0, .series = {}};
  c.series.push_back({"run <one>", {{1, 100}, {2, 200}, {3, 150}}});
  c.series.push_back({"run & two", {{1, 50}, {2, 60}}});
  Svg svg = line_chart(c);
  EXPECT_EQ(svg.markup.rfind("<svg ", 0), 0u);
  EXPECT_EQ(occurrences(svg.markup, "<polyline"), 2u);
  EXPECT_NE(svg.markup.find("run &lt;one&gt;"), std::string::npos);
  EXPECT_NE(svg.markup.find("run &amp; two"), std::string::npos);
  EXPECT_EQ(svg.markup.find("run <one>"), std::string::npos);
  EXPECT_EQ(svg.markup.find("no data"), std::string::npos);
  // Round ticks from 0 up to at least the largest value.
  EXPECT_NE(svg.markup.find(">200</text>"), std::string::npos);
  EXPECT_NE(svg.markup.find(">0</text>"), std::string::npos);
  EXPECT_GT(svg.width, 0);
  EXPECT_GT(svg.height, 0);
  EXPECT_EQ(svg.markup.find("xmlns"), std::string::npos);  // inline: HTML supplies it
  EXPECT_EQ(svg.markup.find("nan"), std::string::npos);
}

TEST(SvgChart, EmptyChartSaysNoData) {
  LineChart c{.title = "Empty", .x_label = "x", .y_label = "y", .log_x = true, .y_max = 0, .series = {}};
  c.series.push_back({"no points", {}});
  Svg svg = line_chart(c);
  EXPECT_NE(svg.markup.find("no data"), std::string::npos);
  EXPECT_EQ(svg.markup.find("<polyline"), std::string::npos);
  EXPECT_NE(svg.markup.find("no points"), std::string::npos);  // still in the legend
  EXPECT_EQ(svg.markup.find("nan"), std::string::npos);
  EXPECT_EQ(svg.markup.find("inf"), std::string::npos);

  Svg bars = bar_chart({.title = "None", .value_label = "msg/s", .bars = {}});
  EXPECT_NE(bars.markup.find("no data"), std::string::npos);
}

TEST(SvgChart, LogAxisSkipsUnusablePoints) {
  LineChart c{.title = "CDF", .x_label = "us", .y_label = "%", .log_x = true, .y_max = 100, .series = {}};
  double nan = std::numeric_limits<double>::quiet_NaN();
  c.series.push_back({"a", {{0, 1}, {-5, 2}, {nan, 3}, {12, 50}, {3400, 100}}});
  Svg svg = line_chart(c);
  // Decades around 12..3400: 10 to 10k.
  EXPECT_NE(svg.markup.find(">10</text>"), std::string::npos);
  EXPECT_NE(svg.markup.find(">10k</text>"), std::string::npos);
  EXPECT_NE(svg.markup.find(">100</text>"), std::string::npos);
  EXPECT_EQ(occurrences(svg.markup, "<circle"), 2u);
  EXPECT_EQ(svg.markup.find("nan"), std::string::npos);
}

TEST(SvgChart, OnePointIsADot) {
  LineChart c{.title = "t", .x_label = "x", .y_label = "y", .log_x = false, .y_max = 0, .series = {}};
  c.series.push_back({"a", {{1, 5}}});
  Svg svg = line_chart(c);
  EXPECT_EQ(svg.markup.find("<polyline"), std::string::npos);
  EXPECT_EQ(occurrences(svg.markup, "<circle"), 1u);
}

TEST(SvgChart, BarChartHasOneBarPerEntry) {
  Svg svg = bar_chart({.title = "Messages per second",
                       .value_label = "msg/s",
                       .bars = {{"kernel <2c>", 62441}, {"dpdk 2c", 124000}, {"zero", 0}}});
  EXPECT_EQ(occurrences(svg.markup, "<rect"), 1u + 3u);  // the background and the bars
  EXPECT_NE(svg.markup.find("kernel &lt;2c&gt;"), std::string::npos);
  EXPECT_NE(svg.markup.find(">62.4k</text>"), std::string::npos);
  EXPECT_NE(svg.markup.find(">124k</text>"), std::string::npos);
}

TEST(SvgChart, StandaloneSvgStacksCharts) {
  Svg a{"<svg width=\"10\" height=\"20\"></svg>\n", 10, 20};
  Svg b{"<svg width=\"30\" height=\"5\"></svg>\n", 30, 5};
  std::string s = standalone_svg({a, b}, "t & <u>");
  EXPECT_NE(s.find("xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_NE(s.find("width=\"30\" height=\"25\""), std::string::npos);
  EXPECT_NE(s.find("translate(0,20)"), std::string::npos);
  EXPECT_NE(s.find("<title>t &amp; &lt;u&gt;</title>"), std::string::npos);
}

}  // namespace
}  // namespace mxdp::cli
