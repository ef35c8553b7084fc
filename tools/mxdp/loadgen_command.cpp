// mxdp loadgen: the load generator alone, aimed at any SMTP server.
#include <cstdio>
#include <fstream>

#include "tools/mxdp/command_line.hpp"
#include "tools/mxdp/commands.hpp"
#include "tools/mxdp/loadgen.hpp"
#include "tools/mxdp/report_output.hpp"
#include "tools/mxdp/serve_config.hpp"
#ifdef MXDP_HAVE_DPDK
#include "tools/mxdp/dpdk_backend.hpp"
#endif

namespace mxdp::cli {

namespace {
struct LoadgenCliOptions {
  LoadgenOptions run;
  std::string backend = "kernel";
  std::string recipients_file;
  std::string json_path;
  DpdkConfig dpdk;
};
}  // namespace

Command loadgen_command() {
  return {"loadgen", "Send SMTP load to any server and measure throughput and latency",
          [](CLI::App& app, const std::vector<std::string>&) {
            auto o = std::make_shared<LoadgenCliOptions>();
            auto& r = o->run;
            app.add_option("--backend", o->backend,
                           "Transport: kernel (Linux sockets) or dpdk (a DPDK port, EAL args before --)")
                ->check(CLI::IsMember({"kernel", "dpdk"}))
                ->capture_default_str();
            app.add_option("-t,--target", r.target, "SMTP server IPv4:port")->capture_default_str();
            app.add_option("-c,--connections", r.connections, "Concurrent SMTP connections")
                ->capture_default_str();
            app.add_option("-n,--messages", r.messages, "Messages to send (0: run for --duration)")
                ->capture_default_str();
            app.add_option("-d,--duration", r.duration_s, "Seconds to run when --messages is 0")
                ->capture_default_str();
            app.add_option("-s,--size", r.message_size, "Message size in bytes (headers included)")
                ->check(CLI::Range(64u, 64u << 20))
                ->capture_default_str();
            app.add_option("-r,--recipients", r.recipients, "Recipients per message")
                ->check(CLI::Range(1u, 1000u))
                ->capture_default_str();
            app.add_option(
                "--recipient-file", o->recipients_file,
                "Recipients to choose from, one address per line (default: user0..99999@example.test)");
            app.add_option("-p,--pipeline", r.in_flight, "Messages in flight per connection (PIPELINING)")
                ->check(CLI::Range(1u, 1024u))
                ->capture_default_str();
            app.add_option("--rate", r.rate, "Messages per second over all connections (0: unlimited)")
                ->capture_default_str();
            app.add_option("--threads", r.threads, "Generator threads (event loops)")->capture_default_str();
            app.add_option("--from", r.sender, "Reverse path")->capture_default_str();
            app.add_flag("!--no-chunking", r.chunking, "Send DATA even when the server offers CHUNKING");
            app.add_flag("!--quiet", r.progress, "No live line per second");
            app.add_option("--json", o->json_path, "Write the report as JSON to this file");
            app.add_option("--dpdk-port", o->dpdk.port, "dpdk: port name or id (default: the first)");
            app.add_option("--dpdk-ip", o->dpdk.ip, "dpdk: the generator stack's address, A.B.C.D/PREFIX")
                ->check(ipv4_cidr_validator());
            app.add_option("--dpdk-gateway", o->dpdk.gateway, "dpdk: next hop for a target off the subnet")
                ->check(CLI::ValidIPV4);
            return [o](const std::vector<std::string>& eal) {
#ifdef MXDP_HAVE_DPDK
              // One stack per generator thread, each on its own queue of the port.
              DpdkPortBackend port;
              if (o->backend == "dpdk") {
                std::string e =
                    start_dpdk(eal, eal_memory_for(pool_mbufs(o->run.threads, o->run.connections, 0)));
                if (e.empty()) e = port.open(o->dpdk, o->run.threads);
                if (!e.empty()) {
                  std::fprintf(stderr, "mxdp loadgen: dpdk: %s\n", e.c_str());
                  return kExitFailure;
                }
                o->run.loops = port.loops();
                std::fprintf(stderr, "mxdp loadgen: %s\n", port.describe().c_str());
              }
#else
              (void)eal;
              if (o->backend == "dpdk") {
                std::fprintf(stderr,
                             "mxdp loadgen: this mxdp was built without DPDK: use --backend kernel\n");
                return kExitUsage;
              }
#endif
              if (!o->recipients_file.empty()) {
                std::ifstream in(o->recipients_file);
                if (!in) {
                  std::fprintf(stderr, "mxdp loadgen: cannot read %s\n", o->recipients_file.c_str());
                  return kExitUsage;
                }
                for (std::string line; std::getline(in, line);)
                  if (!line.empty() && line[0] != '#') o->run.recipient_list.push_back(line);
              }
              RunReport report;
              report.command = "loadgen";
              report.cores = o->run.threads;
              std::string err = run_loadgen(o->run, report);
              if (!err.empty()) {
                std::fprintf(stderr, "mxdp loadgen: %s\n", err.c_str());
                return kExitUsage;
              }
#ifdef MXDP_HAVE_DPDK
              if (o->backend == "dpdk") port.add_counters(report);
#endif
              if (!emit_report(report, o->json_path)) return kExitFailure;
              if (report.messages_accepted == 0) {
                std::fprintf(stderr, "mxdp loadgen: no message was accepted by %s\n", o->run.target.c_str());
                return kExitFailure;
              }
              return kExitOk;
            };
          }};
}

}  // namespace mxdp::cli
