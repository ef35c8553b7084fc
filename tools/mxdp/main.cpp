// mxdp — kernel-bypass SMTP delivery appliance and load benchmark.
//
//   mxdp [--help | --version]
//   mxdp CMD [EAL args] -- [mxdp args]
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#ifdef MXDP_HAVE_DPDK
#include "dataplane/dpdk_info.hpp"
#endif
#include "mxdp/version.hpp"
#include "tools/mxdp/command_line.hpp"
#include "tools/mxdp/commands.hpp"

namespace {

using mxdp::cli::Command;

std::string dpdk_text() {
#ifdef MXDP_HAVE_DPDK
  return mxdp::dataplane::dpdk_version();
#else
  return "DPDK not linked: kernel backend only";
#endif
}

std::vector<Command> command_table() {
  return {mxdp::cli::bench_command(), mxdp::cli::serve_command(), mxdp::cli::loadgen_command(),
          mxdp::cli::ctl_command(), mxdp::cli::report_command()};
}

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "mxdp %s — kernel-bypass SMTP delivery appliance and load benchmark\n\n"
               "Usage:\n"
               "  mxdp CMD [EAL args] -- [mxdp args]\n"
               "  mxdp CMD [mxdp args]          (no EAL args: mxdp's EAL defaults)\n"
               "  mxdp --help | --version\n\n"
               "Commands:\n",
               mxdp::kVersion);
  for (const Command& c : command_table())
    std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
  std::fprintf(out, "\n`mxdp CMD --help` shows a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fprintf(stderr, "mxdp: no command given\n\n");
    print_usage(stderr);
    return mxdp::cli::kExitUsage;
  }
  const std::string& first = args.front();
  if (first == "-h" || first == "--help" || first == "help") {
    print_usage(stdout);
    return mxdp::cli::kExitOk;
  }
  if (first == "-V" || first == "--version" || first == "version") {
    std::printf("mxdp %s (%s build, %s)\n", mxdp::kVersion, mxdp::kBuildType, dpdk_text().c_str());
    return mxdp::cli::kExitOk;
  }

  for (const Command& command : command_table()) {
    if (first != command.name) continue;
    auto split = mxdp::cli::split_eal_args({args.begin() + 1, args.end()});
    CLI::App app{command.summary, std::string("mxdp ") + command.name};
    app.footer(std::string("DPDK convention: mxdp ") + command.name +
               " [EAL args] -- [OPTIONS]; without `--` every argument is mxdp's.\n");
    auto run = command.setup(app, split.mxdp);
    // CLI11 parses in reverse order of a vector of arguments.
    std::vector<std::string> reversed(split.mxdp.rbegin(), split.mxdp.rend());
    try {
      app.parse(reversed);
    } catch (const CLI::CallForHelp&) {
      std::printf("%s", app.help().c_str());
      return mxdp::cli::kExitOk;
    } catch (const CLI::ParseError& e) {
      std::fprintf(stderr, "mxdp %s: %s\n\n%s", command.name, e.what(), app.help().c_str());
      return mxdp::cli::kExitUsage;
    }
    return run(split.eal);
  }

  std::fprintf(stderr, "mxdp: unknown %s '%s'\n\n", first.starts_with("-") ? "option" : "command",
               first.c_str());
  print_usage(stderr);
  return mxdp::cli::kExitUsage;
}
