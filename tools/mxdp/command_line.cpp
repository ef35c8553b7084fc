#include "tools/mxdp/command_line.hpp"

#include <algorithm>

namespace mxdp::cli {

SplitArgs split_eal_args(const std::vector<std::string>& args_after_command) {
  SplitArgs out;
  auto sep = std::find(args_after_command.begin(), args_after_command.end(), "--");
  if (sep == args_after_command.end()) {
    out.mxdp = args_after_command;
    return out;
  }
  out.had_separator = true;
  out.eal.assign(args_after_command.begin(), sep);
  out.mxdp.assign(sep + 1, args_after_command.end());
  return out;
}

}  // namespace mxdp::cli
