// mxdp ctl: talk to a running `mxdp serve` over its control socket.
#include <cstdio>

#include "tools/mxdp/command_line.hpp"
#include "tools/mxdp/commands.hpp"
#include "tools/mxdp/control_server.hpp"

namespace mxdp::cli {

namespace {
struct CtlOptions {
  std::string socket = "/tmp/mxdp.sock";
  std::vector<std::string> words;
};
}  // namespace

Command ctl_command() {
  return {"ctl", "Control a running mxdp serve: move recipients, add referrals, show counters",
          [](CLI::App& app, const std::vector<std::string>&) {
            auto opts = std::make_shared<CtlOptions>();
            app.add_option("-S,--socket", opts->socket, "Control socket of the running server")
                ->capture_default_str();
            app.add_option("command", opts->words,
                           "One of:\n"
                           "  counters                      per-shard and per-listener counters\n"
                           "  lookup ADDR                   the directory entry of ADDR\n"
                           "  move ADDR shard N             deliver ADDR on shard N from now on\n"
                           "  move ADDR server HOST:PORT    ADDR moved off-box: relay to HOST:PORT\n"
                           "  referral ADDR HOST:PORT       add ADDR as a referral to HOST:PORT\n"
                           "  remove ADDR                   unknown from now on (550 5.1.1)")
                ->required();
            return [opts](const std::vector<std::string>&) {
              std::string line;
              for (const auto& w : opts->words)
                line += (line.empty() ? "" : " ") + w;
              std::string answer;
              bool ok = control_request(opts->socket, line, answer);
              std::fputs(answer.c_str(), ok ? stdout : stderr);
              if (!ok) std::fputc('\n', stderr);
              if (!ok) return kExitFailure;
              return answer.starts_with("error") ? kExitFailure : kExitOk;
            };
          }};
}

}  // namespace mxdp::cli
