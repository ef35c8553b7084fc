#pragma once
// The DPDK argument convention: `mxdp CMD [EAL args] -- [mxdp args]`.
//
// Everything between the command and the first `--` belongs to DPDK's EAL
// (rte_eal_init); everything after it to mxdp. Without a `--`, all arguments
// are mxdp's and the EAL gets mxdp's defaults, so `mxdp bench --help` works
// as a user expects.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mxdp::cli {

struct SplitArgs {
  std::vector<std::string> eal;   // for rte_eal_init (without the program name)
  std::vector<std::string> mxdp;  // for the command's own parser
  bool had_separator = false;     // a `--` was present
};

// Splits the arguments that follow the command name.
SplitArgs split_eal_args(const std::vector<std::string>& args_after_command);

// A validator for A.B.C.D/PREFIX (PREFIX 1..32, optional): a bad address is
// a usage error caught while parsing, before the EAL starts.
CLI::Validator ipv4_cidr_validator();

// A validator for sizes as parse_byte_size (byte_size.hpp) reads them, within
// [min, max], for an option bound to an integer: a bad size is a usage error
// caught while parsing, and a good one reaches the option as its plain byte
// count. Add it with ->transform(), which lets it rewrite the text.
CLI::Validator byte_size_validator(std::uint64_t min, std::uint64_t max);

// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // ran, and the run failed
inline constexpr int kExitUsage = 2;    // bad arguments, or not built yet

}  // namespace mxdp::cli
