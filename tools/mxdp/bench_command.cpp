// mxdp bench: generator and appliance in one process (DESIGN.md, Programs).
#include <cstdio>

#include "tools/mxdp/command_line.hpp"
#include "tools/mxdp/commands.hpp"

namespace mxdp::cli {

int not_built_yet(const char* command, const char* what_builds_it) {
  std::fprintf(stderr, "mxdp %s: not built yet (%s)\n", command, what_builds_it);
  return kExitUsage;
}

namespace {
struct BenchOptions {
  std::string backend = "dpdk";
  double duration_s = 10;
  unsigned connections = 64;
  unsigned message_size = 1024;
  unsigned recipients = 1;
  std::string json_path;
};
}  // namespace

Command bench_command() {
  return {
      "bench", "Run generator and appliance in one process and report throughput and latency",
      [](CLI::App& app, const std::vector<std::string>&) {
        auto opts = std::make_shared<BenchOptions>();
        app.add_option("--backend", opts->backend, "Transport: dpdk (in-memory ring ports) or kernel")
            ->check(CLI::IsMember({"dpdk", "kernel"}))
            ->capture_default_str();
        app.add_option("-d,--duration", opts->duration_s, "Seconds to run")->capture_default_str();
        app.add_option("-c,--connections", opts->connections, "Concurrent SMTP connections")
            ->capture_default_str();
        app.add_option("-s,--size", opts->message_size, "Message body size in bytes")->capture_default_str();
        app.add_option("-r,--recipients", opts->recipients, "Recipients per message")->capture_default_str();
        app.add_option("--json", opts->json_path, "Write the report as JSON to this file");
        return [opts](const std::vector<std::string>&) {
          return not_built_yet("bench", "the kernel backend and DPDK issues build it");
        };
      }};
}

}  // namespace mxdp::cli
