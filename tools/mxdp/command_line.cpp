#include "tools/mxdp/command_line.hpp"

#include <algorithm>
#include <charconv>

#include "tools/mxdp/byte_size.hpp"

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

CLI::Validator ipv4_cidr_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const auto slash = text.find('/');
        std::string address = text.substr(0, slash);
        if (!CLI::ValidIPV4(address).empty()) return "expected A.B.C.D/PREFIX, got '" + text + "'";
        if (slash == std::string::npos) return {};
        const std::string_view prefix = std::string_view(text).substr(slash + 1);
        unsigned bits = 0;
        const auto [end, ec] = std::from_chars(prefix.data(), prefix.data() + prefix.size(), bits);
        if (ec != std::errc() || end != prefix.data() + prefix.size() || bits < 1 || bits > 32)
          return "the prefix of '" + text + "' must be 1..32";
        return {};
      },
      "A.B.C.D/PREFIX");
}

CLI::Validator byte_size_validator(std::uint64_t min, std::uint64_t max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        std::uint64_t bytes = 0;
        std::string err = parse_byte_size(text, min, max, bytes);
        if (err.empty()) text = std::to_string(bytes);
        return err;
      },
      format_byte_size(min) + ".." + format_byte_size(max));
}

}  // namespace mxdp::cli
