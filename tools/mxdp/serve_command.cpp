// mxdp serve: the appliance on kernel sockets or on a DPDK port (a PCI NIC on
// bare metal, net_tap to try it with any Linux client; docs/DEPLOY.md).
#include <csignal>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "tools/mxdp/appliance.hpp"
#include "tools/mxdp/byte_size.hpp"
#include "tools/mxdp/command_line.hpp"
#include "tools/mxdp/commands.hpp"
#include "tools/mxdp/control_server.hpp"
#include "tools/mxdp/serve_config.hpp"
#ifdef MXDP_HAVE_DPDK
#include "tools/mxdp/dpdk_backend.hpp"
#endif

namespace mxdp::cli {

namespace {

std::atomic<int> g_signal{0};
extern "C" void on_signal(int sig) {
  g_signal.store(sig);
}

// Flags override the config file, so the file is read before the flags are
// parsed: find `--config FILE` (or `--config=FILE`) first.
std::string find_config(const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) return args[i + 1];
    if (args[i].starts_with("--config=")) return args[i].substr(9);
  }
  return "";
}

}  // namespace

void add_mailbox_log_option(CLI::App& app, std::uint64_t& bytes) {
  app.add_option("--mailbox-log", bytes,
                 "Bytes of delivered messages each routing shard keeps in its mailbox log before "
                 "evicting the oldest; per shard. SIZE is bytes or a number with K, M or G (KiB, MiB, "
                 "GiB). On dpdk a lent message body counts by the 2 KiB packet buffers it pins, and the "
                 "mbuf pool is sized to hold every shard's log")
      ->transform(byte_size_validator(kMinMailboxLogBytes, kMaxMailboxLogBytes))
      ->type_name("SIZE")
      ->default_str(format_byte_size(bytes));
}

void add_discard_option(CLI::App& app, bool& discard) {
  app.add_flag("--discard", discard,
               "Accept every recipient and message and keep none, like Postfix smtp-sink: the SMTP "
               "front end alone (no directory, routing or delivery), for benchmarks");
}

void add_serve_options(CLI::App& app, ServeConfig& c) {
  app.add_option("-l,--listen", c.listen, "SMTP listen address IPv4:port")->capture_default_str();
  app.add_option("--cores", c.cores, "Worker threads (0: one per core)")->capture_default_str();
  app.add_option("--shards", c.shards, "Routing shards (0: two per core)")->capture_default_str();
  add_mailbox_log_option(app, c.mailbox_log_bytes);
  add_discard_option(app, c.discard);
  app.add_option("--hostname", c.hostname, "Name in the greeting and EHLO reply")->capture_default_str();
  app.add_option("--directory", c.directory, "Recipient directory CSV (default: the demo directory)");
  app.add_option("--referral-target", c.referral_target, "Where the demo directory's referrals relay to")
      ->capture_default_str();
  app.add_option("--metrics", c.metrics, "Prometheus /metrics address ('' disables)")->capture_default_str();
  app.add_option("--control-socket", c.control_socket, "Unix socket for mxdp ctl")->capture_default_str();
  app.add_option("--max-message-size", c.smtp.max_message_size, "Bytes (SIZE, RFC 1870)")
      ->capture_default_str();
  app.add_option("--max-recipients", c.smtp.max_recipients, "Recipients per message")->capture_default_str();
  app.add_option("--idle-timeout", c.smtp.idle_timeout_s, "Seconds a session may stay silent")
      ->capture_default_str();
  app.add_option("--dpdk-port", c.dpdk.port,
                 "dpdk: port name (net_tap0, 0000:03:00.0) or id (default: first)");
  app.add_option("--dpdk-ip", c.dpdk.ip, "dpdk: the stack's own address, A.B.C.D/PREFIX")
      ->check(ipv4_cidr_validator());
  app.add_option("--dpdk-gateway", c.dpdk.gateway, "dpdk: next hop for addresses off the subnet")
      ->check(CLI::ValidIPV4);
  app.add_option("--dpdk-mtu", c.dpdk.mtu, "dpdk: MTU (576..1500; no jumbo frames yet)")
      ->check(CLI::Range(576u, 1500u))
      ->capture_default_str();
  app.add_option("--dpdk-idle-sleep", c.dpdk.idle_sleep_us,
                 "dpdk: microseconds to sleep per poll after a long idle stretch (0: always busy-poll)")
      ->capture_default_str();
}

Command serve_command() {
  return {"serve", "Run the SMTP appliance: accept, route, deliver and relay mail",
          [](CLI::App& app, const std::vector<std::string>& args) {
            auto c = std::make_shared<ServeConfig>();
            auto config_error = std::make_shared<std::string>();
            if (std::string path = find_config(args); !path.empty())
              *config_error = load_serve_config(path, *c);
            auto backend = std::make_shared<std::string>(c->backend);
            auto config_path = std::make_shared<std::string>();
            app.add_option("--config", *config_path,
                           "TOML config file (docs/mxdp.example.toml); flags override it");
            app.add_option("--backend", *backend,
                           "Transport: kernel (Linux sockets) or dpdk (a DPDK port, EAL args before --)")
                ->check(CLI::IsMember({"kernel", "dpdk"}))
                ->capture_default_str();
            add_serve_options(app, *c);
            return [c, backend, config_error, config_path](const std::vector<std::string>& eal) {
              if (!config_error->empty()) {
                std::fprintf(stderr, "mxdp serve: %s\n", config_error->c_str());
                return kExitUsage;
              }
              c->backend = *backend;
              LoopFactory loops;
              std::string transport = "kernel sockets";
#ifdef MXDP_HAVE_DPDK
              DpdkPortBackend port;
              if (c->backend == "dpdk") {
                // Memory is sized before the EAL knows its lcores: for the cores
                // asked for, or every CPU when --cores is left to the lcore list.
                unsigned sized = c->cores ? c->cores : std::max(1u, std::thread::hardware_concurrency());
                std::uint64_t pinned =
                    mailbox_pinned_mbufs(c->shards ? c->shards : 2 * sized, c->mailbox_log_bytes);
                unsigned mbufs = c->dpdk.mbufs ? c->dpdk.mbufs : pool_mbufs(sized, 1024 * sized, pinned);
                // A too large one fails before the EAL reserves its memory; a
                // `[dpdk] mbufs` given by hand is taken as it is.
                std::string e = c->dpdk.mbufs ? "" : check_pool_mbufs(sized, 1024 * sized, pinned);
                if (e.empty()) e = start_dpdk(eal, eal_memory_for(mbufs));
                // Default: one worker per worker lcore of -l (`-l 0-4`: 4), at least one.
                if (c->cores == 0)
                  c->cores = std::max<unsigned>(1, static_cast<unsigned>(dpdk_worker_lcores()));
                pinned = mailbox_pinned_mbufs(c->shards ? c->shards : 2 * c->cores, c->mailbox_log_bytes);
                if (e.empty()) e = port.open(c->dpdk, c->cores, pinned);
                if (!e.empty()) {
                  std::fprintf(stderr, "mxdp serve: dpdk: %s\n", e.c_str());
                  return kExitFailure;
                }
                loops = port.loops();
                transport = port.describe();
                // The stack answers on its own address; --listen gives the port.
                c->listen =
                    c->dpdk.ip.substr(0, c->dpdk.ip.find('/')) + c->listen.substr(c->listen.rfind(':'));
              }
#else
              (void)eal;
              if (c->backend == "dpdk") {
                std::fprintf(stderr, "mxdp serve: this mxdp was built without DPDK: use --backend kernel\n");
                return kExitUsage;
              }
#endif
              Appliance appliance(*c, loops);
              std::string err = appliance.start();
              if (!err.empty()) {
                std::fprintf(stderr, "mxdp serve: %s\n", err.c_str());
                return kExitFailure;
              }
              ControlServer control;
              if (!c->control_socket.empty()) {
                err = control.start(
                    c->control_socket, [&](std::string_view line) { return appliance.control(line); },
                    [&] { appliance.admin_tick(); });
                if (!err.empty()) {
                  std::fprintf(stderr, "mxdp serve: %s\n", err.c_str());
                  appliance.request_stop();
                  return kExitFailure;
                }
              }
              std::signal(SIGINT, on_signal);
              std::signal(SIGTERM, on_signal);
              std::signal(SIGPIPE, SIG_IGN);
              std::fprintf(
                  stderr, "mxdp serve: listening on %s (SMTP, %s)%s%s, control %s\n", c->listen.c_str(),
                  transport.c_str(), c->metrics.empty() ? "" : ", metrics http://",
                  c->metrics.empty() ? "" : (c->metrics + "/metrics").c_str(), c->control_socket.c_str());
              while (g_signal.load() == 0)
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
              std::fprintf(stderr, "mxdp serve: signal %d, shutting down\n", g_signal.load());
              appliance.request_stop();
              appliance.wait();
              control.stop();
              auto t = appliance.totals();
              std::fprintf(
                  stderr,
                  "mxdp serve: final counters: accepted %llu, delivered %llu, referred %llu, relayed %llu, "
                  "bounced %llu, live %lld\n",
                  static_cast<unsigned long long>(t.shards.accepted),
                  static_cast<unsigned long long>(t.shards.delivered),
                  static_cast<unsigned long long>(t.shards.referred),
                  static_cast<unsigned long long>(t.shards.relayed),
                  static_cast<unsigned long long>(t.shards.bounced), static_cast<long long>(t.shards.live));
              return t.shards.live == 0 ? kExitOk : kExitFailure;
            };
          }};
}

}  // namespace mxdp::cli
