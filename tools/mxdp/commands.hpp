#pragma once
// The table of mxdp commands. Each command owns its options (a CLI11 app) and
// its run function; main.cpp only dispatches.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mxdp::cli {

struct Command {
  const char* name;
  const char* summary;
  // Builds the command's parser; the returned run function sees the parsed
  // options (captured by the closure) and the EAL arguments. `args` are the
  // mxdp arguments about to be parsed (a command reads its --config file from
  // them first, so that flags override the file).
  std::function<std::function<int(const std::vector<std::string>& eal)>(CLI::App&,
                                                                        const std::vector<std::string>& args)>
      setup;
};

Command bench_command();
Command serve_command();
Command loadgen_command();
Command ctl_command();
Command report_command();

// `--mailbox-log SIZE` (serve and bench alike): each routing shard's mailbox
// log, in bytes, into `bytes`; its help shows the value `bytes` has now.
void add_mailbox_log_option(CLI::App& app, std::uint64_t& bytes);
void add_discard_option(CLI::App& app, bool& discard);

// Prints "mxdp CMD: not built yet (...)" and returns kExitUsage.
int not_built_yet(const char* command, const char* what_builds_it);

}  // namespace mxdp::cli
