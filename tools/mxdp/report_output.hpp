#pragma once
// Shared ending of loadgen and bench: the table on stdout, JSON to a file.

#include <string>

#include "tools/mxdp/run_report.hpp"

namespace mxdp::cli {

// Prints the table and writes JSON when json_path is set. False on a write error.
bool emit_report(const RunReport& report, const std::string& json_path);

}  // namespace mxdp::cli
