// mxdp serve: the appliance on a NIC, a virtual port or kernel sockets.
#include "tools/mxdp/command_line.hpp"
#include "tools/mxdp/commands.hpp"

namespace mxdp::cli {

namespace {
struct ServeOptions {
  std::string backend = "dpdk";
  std::string listen = "127.0.0.1:2525";
  std::string config_path;
  std::string directory_path;
};
}  // namespace

Command serve_command() {
  return {"serve", "Run the SMTP appliance: accept, route and deliver mail", [](CLI::App& app) {
            auto opts = std::make_shared<ServeOptions>();
            app.add_option("--backend", opts->backend, "Transport: dpdk or kernel")
                ->check(CLI::IsMember({"dpdk", "kernel"}))
                ->capture_default_str();
            app.add_option("-l,--listen", opts->listen, "Address to listen on")->capture_default_str();
            app.add_option("--config", opts->config_path, "TOML config file");
            app.add_option("--directory", opts->directory_path, "Recipient directory file");
            return [opts](const std::vector<std::string>&) {
              return not_built_yet("serve", "the kernel backend and DPDK issues build it");
            };
          }};
}

}  // namespace mxdp::cli
