// mxdp loadgen: the load generator alone, aimed at any SMTP server.
#include "tools/mxdp/command_line.hpp"
#include "tools/mxdp/commands.hpp"

namespace mxdp::cli {

namespace {
struct LoadgenOptions {
  std::string backend = "kernel";
  std::string target = "127.0.0.1:2525";
  unsigned connections = 64;
  unsigned message_size = 1024;
};
}  // namespace

Command loadgen_command() {
  return {
      "loadgen", "Send SMTP load to any server and measure throughput and latency", [](CLI::App& app) {
        auto opts = std::make_shared<LoadgenOptions>();
        app.add_option("--backend", opts->backend, "Transport: kernel or dpdk")
            ->check(CLI::IsMember({"dpdk", "kernel"}))
            ->capture_default_str();
        app.add_option("-t,--target", opts->target, "SMTP server host:port")->capture_default_str();
        app.add_option("-c,--connections", opts->connections, "Concurrent SMTP connections")
            ->capture_default_str();
        app.add_option("-s,--size", opts->message_size, "Message body size in bytes")->capture_default_str();
        return [opts](const std::vector<std::string>&) {
          return not_built_yet("loadgen", "the kernel backend issue builds it");
        };
      }};
}

}  // namespace mxdp::cli
