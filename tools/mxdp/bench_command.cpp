// mxdp bench: generator and appliance in one process (DESIGN.md, Programs).
#include <cstdio>

#include "tools/mxdp/command_line.hpp"
#include "tools/mxdp/commands.hpp"
#include "tools/mxdp/kernel_bench.hpp"
#include "tools/mxdp/report_output.hpp"

namespace mxdp::cli {

int not_built_yet(const char* command, const char* what_builds_it) {
  std::fprintf(stderr, "mxdp %s: not built yet (%s)\n", command, what_builds_it);
  return kExitUsage;
}

namespace {
struct BenchCliOptions {
  BenchOptions run;
  std::string backend = "kernel";
  std::string json_path;
};
}  // namespace

Command bench_command() {
  return {
      "bench", "Run generator and appliance in one process and report throughput and latency",
      [](CLI::App& app, const std::vector<std::string>&) {
        auto o = std::make_shared<BenchCliOptions>();
        auto& r = o->run;
        r.load.duration_s = 10;
        app.add_option("--backend", o->backend,
                       "Transport: kernel (loopback sockets); dpdk (in-memory ring ports) is not built yet")
            ->check(CLI::IsMember({"dpdk", "kernel"}))
            ->capture_default_str();
        app.add_option("-d,--duration", r.load.duration_s, "Seconds to run when --messages is 0")
            ->capture_default_str();
        app.add_option("-n,--messages", r.load.messages, "Messages to send (0: run for --duration)")
            ->capture_default_str();
        app.add_option("-c,--connections", r.load.connections, "Concurrent SMTP connections")
            ->check(CLI::Range(1u, 100000u))
            ->capture_default_str();
        app.add_option("-s,--size", r.load.message_size, "Message size in bytes")
            ->check(CLI::Range(64u, 64u << 20))
            ->capture_default_str();
        app.add_option("-r,--recipients", r.load.recipients, "Recipients per message")
            ->check(CLI::Range(1u, 1000u))
            ->capture_default_str();
        app.add_option("-p,--pipeline", r.load.in_flight, "Messages in flight per connection")
            ->check(CLI::Range(1u, 1024u))
            ->capture_default_str();
        app.add_option("--referral-share", r.referral_share, "Share of recipients that are referrals (0..1)")
            ->check(CLI::Range(0.0, 1.0))
            ->capture_default_str();
        app.add_option("--move-rate", r.move_rate, "Recipient moves per second during the run")
            ->capture_default_str();
        app.add_option("--serve-cores", r.serve_cores, "Appliance worker threads")->capture_default_str();
        app.add_option("--loadgen-threads", r.load.threads, "Generator threads")->capture_default_str();
        app.add_option("--shards", r.shards, "Routing shards (0: two per appliance core)")
            ->capture_default_str();
        app.add_flag("!--quiet", r.load.progress, "No live line per second");
        app.add_option("--json", o->json_path, "Write the report as JSON to this file");
        return [o](const std::vector<std::string>&) {
          if (o->backend == "dpdk")
            return not_built_yet("bench --backend dpdk", "the DPDK issue builds it; use --backend kernel");
          RunReport report;
          std::string err = run_kernel_bench(o->run, report);
          if (!err.empty()) {
            std::fprintf(stderr, "mxdp bench: %s\n", err.c_str());
            return kExitFailure;
          }
          if (!emit_report(report, o->json_path)) return kExitFailure;
          if (report.messages_live_at_end != 0) {
            std::fprintf(stderr, "mxdp bench: %lld messages still live at the end (a leak)\n",
                         static_cast<long long>(report.messages_live_at_end));
            return kExitFailure;
          }
          return report.messages_accepted > 0 ? kExitOk : kExitFailure;
        };
      }};
}

}  // namespace mxdp::cli
