// mxdp bench: generator and appliance in one process (DESIGN.md, Programs).
//
// The default is the embedded DPDK benchmark: a pair of in-memory ring ports
// per appliance core, EAL with --no-huge --no-pci unless hugepages are there.
// --backend kernel runs the same workload over loopback sockets; --compare
// runs both, one after the other, and prints both figures and their ratio.
#include <fmt/format.h>

#include <cstdio>

#include "tools/mxdp/bench_run.hpp"
#include "tools/mxdp/command_line.hpp"
#include "tools/mxdp/commands.hpp"
#include "tools/mxdp/report_output.hpp"
#ifdef MXDP_HAVE_DPDK
#include "tools/mxdp/dpdk_backend.hpp"
#endif

namespace mxdp::cli {

int not_built_yet(const char* command, const char* what_builds_it) {
  std::fprintf(stderr, "mxdp %s: not built yet (%s)\n", command, what_builds_it);
  return kExitUsage;
}

namespace {

#ifdef MXDP_HAVE_DPDK
constexpr const char* kDefaultBackend = "dpdk";
#else
constexpr const char* kDefaultBackend = "kernel";
#endif

struct BenchCliOptions {
  BenchOptions run;
  std::string backend = kDefaultBackend;
  bool compare = false;
  // The in-memory link offloads checksums as Linux loopback does (the kernel
  // run's wire); false: both stacks compute and verify every one.
  bool wire_checksum_offload = true;
  // Loops yield their CPU when idle (for valgrind; bench/instructions.py).
  bool idle_yield = false;
  std::string json_path;
};

// One run on one backend; "" or an error.
std::string run_on(const std::string& backend, const BenchCliOptions& cli,
                   const std::vector<std::string>& eal, RunReport& report) {
  const BenchOptions& options = cli.run;
  if (backend == "kernel") return run_bench(options, kernel_bench_transport(), report);
#ifdef MXDP_HAVE_DPDK
  // One ring-port pair per appliance core; each generator thread drives one.
  BenchOptions o = options;
  o.load.threads = o.serve_cores;
  DpdkBenchWire wire;
  std::uint64_t pinned = mailbox_pinned_mbufs(o.shards ? o.shards : 2 * o.serve_cores, o.mailbox_log_bytes);
  std::string err = check_pool_mbufs(2 * o.serve_cores, o.load.connections, pinned);
  if (err.empty())
    err = start_dpdk(eal, eal_memory_for(pool_mbufs(2 * o.serve_cores, o.load.connections, pinned)));
  if (err.empty())
    err = wire.open(o.serve_cores, o.load.connections, pinned, cli.wire_checksum_offload, cli.idle_yield);
  if (!err.empty()) return "dpdk: " + err;
  return run_bench(o, wire.transport(), report);
#else
  (void)options;
  (void)cli;
  (void)eal;
  (void)report;
  return "this mxdp was built without DPDK (preset tsan, or MXDP_WITH_DPDK=OFF): use --backend kernel";
#endif
}

// The exit status of a finished run: leaks and empty runs fail it.
int judge(const RunReport& report) {
  if (report.messages_live_at_end > 0) {
    std::fprintf(stderr, "mxdp bench: %lld messages still live at the end (a leak)\n",
                 static_cast<long long>(report.messages_live_at_end));
    return kExitFailure;
  }
  return report.messages_accepted > 0 ? kExitOk : kExitFailure;
}

std::string with_suffix(const std::string& path, const std::string& suffix) {
  if (path.empty()) return path;
  std::string stem = path.ends_with(".json") ? path.substr(0, path.size() - 5) : path;
  return stem + "-" + suffix + ".json";
}

}  // namespace

Command bench_command() {
  return {
      "bench", "Run generator and appliance in one process and report throughput and latency",
      [](CLI::App& app, const std::vector<std::string>&) {
        auto o = std::make_shared<BenchCliOptions>();
        auto& r = o->run;
        r.load.duration_s = 10;
        app.add_option("--backend", o->backend,
                       "Transport: dpdk (in-memory ring ports, the default) or kernel (loopback sockets)")
            ->check(CLI::IsMember({"dpdk", "kernel"}))
            ->capture_default_str();
        app.add_flag("--compare", o->compare,
                     "Run kernel, then dpdk, with the same workload; print both and the ratio");
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
        app.add_option("--serve-cores", r.serve_cores, "Appliance worker threads (lcores)")
            ->check(CLI::Range(1u, 64u))
            ->capture_default_str();
        app.add_option("--loadgen-threads", r.load.threads,
                       "Generator threads (kernel; on dpdk one per appliance core)")
            ->capture_default_str();
        app.add_option("--shards", r.shards, "Routing shards (0: two per appliance core)")
            ->capture_default_str();
        add_mailbox_log_option(app, r.mailbox_log_bytes);
        add_discard_option(app, r.discard);
        app.add_flag("!--soft-checksums", o->wire_checksum_offload,
                     "dpdk: compute and verify every IPv4/TCP checksum in software (a NIC without "
                     "checksum offload); by default the in-memory link offloads them as Linux "
                     "loopback, the kernel run's wire, does");
        app.add_flag("--idle-yield", o->idle_yield,
                     "dpdk: every lcore yields its CPU after a poll that finds nothing, instead of "
                     "spinning; for running under valgrind, which runs one thread at a time "
                     "(bench/instructions.py). Not for measuring time");
        app.add_flag("!--quiet", r.load.progress, "No live line per second");
        app.add_option("--json", o->json_path,
                       "Write the report as JSON to this file (--compare: FILE-kernel.json, FILE-dpdk.json)");
        return [o](const std::vector<std::string>& eal) {
          if (!o->compare) {
            RunReport report;
            std::string err = run_on(o->backend, *o, eal, report);
            if (!err.empty()) {
              std::fprintf(stderr, "mxdp bench: %s\n", err.c_str());
              return kExitFailure;
            }
            if (!emit_report(report, o->json_path)) return kExitFailure;
            return judge(report);
          }
          // Kernel first: the DPDK lcores spin, and must not share the run.
          RunReport kernel, dpdk;
          for (auto [name, report] : {std::pair{"kernel", &kernel}, std::pair{"dpdk", &dpdk}}) {
            std::fprintf(stderr, "mxdp bench --compare: %s backend\n", name);
            std::string err = run_on(name, *o, eal, *report);
            if (!err.empty()) {
              std::fprintf(stderr, "mxdp bench: %s: %s\n", name, err.c_str());
              return kExitFailure;
            }
            if (!emit_report(*report, with_suffix(o->json_path, name))) return kExitFailure;
          }
          double k = kernel.messages_per_second(), d = dpdk.messages_per_second();
          std::printf("\ncompare (%u appliance core%s, %u B, %u rcpt, %u connections):\n", o->run.serve_cores,
                      o->run.serve_cores == 1 ? "" : "s", o->run.load.message_size, o->run.load.recipients,
                      o->run.load.connections);
          std::printf("  kernel  %12.0f msg/s   p50 %6.0f us   p99 %6.0f us\n", k,
                      static_cast<double>(kernel.latency.percentile(0.5)) / 1000.0,
                      static_cast<double>(kernel.latency.percentile(0.99)) / 1000.0);
          std::printf("  dpdk    %12.0f msg/s   p50 %6.0f us   p99 %6.0f us\n", d,
                      static_cast<double>(dpdk.latency.percentile(0.5)) / 1000.0,
                      static_cast<double>(dpdk.latency.percentile(0.99)) / 1000.0);
          std::printf("  dpdk / kernel = %.2fx\n", k > 0 ? d / k : 0.0);
          // Per appliance core: the worker thread's CPU time per message on
          // the kernel (its TCP is in its syscalls), the polling core's busy
          // time per message on DPDK (the core spins either way).
          auto per_message = [](const RunReport& run, const char* key) {
            auto it = run.transport_counters.find(key);
            return it == run.transport_counters.end() || run.messages_accepted == 0
                       ? 0.0
                       : static_cast<double>(it->second) * 1000.0 /
                             static_cast<double>(run.messages_accepted);
          };
          double kc = per_message(kernel, "appliance.worker_cpu_us"),
                 dc = per_message(dpdk, "appliance.loop_busy_us");
          std::printf(
              "  appliance core per message: kernel %.0f ns (worker CPU), dpdk %.0f ns (loop busy): %.2fx\n",
              kc, dc, dc > 0 ? kc / dc : 0.0);
          int a = judge(kernel), b = judge(dpdk);
          return a != kExitOk ? a : b;
        };
      }};
}

}  // namespace mxdp::cli
