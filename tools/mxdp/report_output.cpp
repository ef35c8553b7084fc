#include "tools/mxdp/report_output.hpp"

#include <cstdio>
#include <fstream>

namespace mxdp::cli {

bool emit_report(const RunReport& report, const std::string& json_path) {
  std::fputs(to_table(report).c_str(), stdout);
  if (json_path.empty()) return true;
  std::ofstream out(json_path);
  out << to_json(report);
  if (!out) {
    std::fprintf(stderr, "mxdp: cannot write %s\n", json_path.c_str());
    return false;
  }
  return true;
}

}  // namespace mxdp::cli
