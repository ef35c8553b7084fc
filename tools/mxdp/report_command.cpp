// mxdp report: run reports (--json files of bench and loadgen) drawn as one
// self-contained HTML page, or their charts as one SVG.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tools/mxdp/command_line.hpp"
#include "tools/mxdp/commands.hpp"
#include "tools/mxdp/report_html.hpp"

namespace mxdp::cli {

namespace {

struct ReportCliOptions {
  std::vector<std::string> files;
  std::string html_path;
  std::string svg_path;
  std::string title = "mxdp report";
};

// Reads and parses one report; the error names the file.
bool read_run(const std::string& file, ReportRun& run) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    std::fprintf(stderr, "mxdp report: %s: is a directory, not a report\n", file.c_str());
    return false;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "mxdp report: %s: cannot read (%s)\n", file.c_str(), std::strerror(errno));
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    std::fprintf(stderr, "mxdp report: %s: read error\n", file.c_str());
    return false;
  }
  try {
    run.file = file;
    run.report = from_json(text.str());
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "mxdp report: %s: %s\n", file.c_str(), e.what());
    return false;
  }
  return true;
}

bool write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  out.close();
  if (!out) {
    std::fprintf(stderr, "mxdp report: cannot write %s\n", path.c_str());
    return false;
  }
  return true;
}

}  // namespace

Command report_command() {
  return {
      "report", "Draw bench/loadgen --json reports side by side as one HTML page",
      [](CLI::App& app, const std::vector<std::string>&) {
        auto o = std::make_shared<ReportCliOptions>();
        app.add_option("files", o->files, "Reports written by `mxdp bench|loadgen --json FILE`")
            ->required()
            ->type_name("FILE.json");
        app.add_option("-o,--output", o->html_path,
                       "Write the HTML page here (default: stdout, unless --svg is given)")
            ->type_name("OUT.html");
        app.add_option("--svg", o->svg_path, "Write the charts alone as one SVG file")->type_name("OUT.svg");
        app.add_option("--title", o->title, "Page and chart title")->type_name("T")->capture_default_str();
        return [o](const std::vector<std::string>&) {
          // Read every file first: one bad file fails the run before anything is written.
          std::vector<ReportRun> runs(o->files.size());
          for (std::size_t i = 0; i < o->files.size(); ++i)
            if (!read_run(o->files[i], runs[i])) return kExitFailure;
          if (!o->svg_path.empty() && !write_file(o->svg_path, render_svg(runs, o->title)))
            return kExitFailure;
          if (!o->html_path.empty()) {
            if (!write_file(o->html_path, render_html(runs, o->title))) return kExitFailure;
          } else if (o->svg_path.empty()) {
            std::string html = render_html(runs, o->title);
            if (std::fwrite(html.data(), 1, html.size(), stdout) != html.size() || std::fflush(stdout) != 0) {
              std::fprintf(stderr, "mxdp report: cannot write to stdout\n");
              return kExitFailure;
            }
          }
          return kExitOk;
        };
      }};
}

}  // namespace mxdp::cli
