#pragma once
// The Relay of routing/relay.hpp, implemented with the SMTP client engine over
// the kernel transport: referred and moved-off-box recipients leave here.
//
// One SmtpRelay per worker (event loop thread); the router calls submit() on
// the origin shard's thread, which is that worker, so nothing is shared. Per
// target server there is a pool of up to `connections_per_target` client
// connections, each pipelining transactions (ClientConfig::max_in_flight).
// Every job is reported exactly once through RelayCompletionSink::complete():
// 2xx -> delivered, 4xx or a lost connection -> transient (the router retries
// with backoff), 5xx -> permanent (a bounce record).

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/transport/endpoint.hpp"
#include "dataplane/transport/event_loop.hpp"
#include "routing/directory.hpp"
#include "routing/relay.hpp"
#include "tools/mxdp/serve_config.hpp"

namespace mxdp::cli {

// Parses a directory server name: "host:port", "[a.b.c.d]:port", "a.b.c.d"
// (port 25). Names are not resolved (no DNS in a benchmark appliance).
std::optional<dataplane::transport::Endpoint> parse_server(std::string_view name);

struct RelayCounters {
  std::uint64_t jobs = 0, delivered = 0, transient = 0, permanent = 0, connects = 0, busy = 0;
};

class SmtpRelay : public routing::Relay {
 public:
  SmtpRelay(dataplane::transport::EventLoop& loop, const routing::Directory& directory, RelayConfig config,
            std::string helo_name);
  ~SmtpRelay() override;

  void set_completion_sink(routing::RelayCompletionSink* sink) noexcept { sink_ = sink; }

  bool submit(routing::RelayJob& job) noexcept override;
  // On the loop thread, every iteration: hands over completions the router
  // could not take yet and starts connections for queued jobs.
  bool poll() noexcept;
  // Jobs queued or in flight (for a clean shutdown).
  std::size_t outstanding() const noexcept { return outstanding_; }
  // Shutdown: every queued job completes as a transient failure.
  void abandon_queued() noexcept;
  const RelayCounters& counters() const noexcept { return counters_; }

 private:
  class Conn;
  struct Pool {
    dataplane::transport::Endpoint target;
    std::deque<routing::RelayJob> queue;
    std::vector<Conn*> conns;
  };
  friend class Conn;

  void finish(routing::RelayJob&& job, routing::RelayOutcome outcome, std::string diagnostic) noexcept;
  void kick(Pool& pool) noexcept;
  void conn_closed(Pool& pool, Conn* conn) noexcept;

  dataplane::transport::EventLoop& loop_;
  const routing::Directory& directory_;
  RelayConfig config_;
  std::string helo_;
  routing::RelayCompletionSink* sink_ = nullptr;
  std::unordered_map<std::uint32_t, std::unique_ptr<Pool>> pools_;  // by ServerId
  std::deque<routing::RelayCompletion> unsent_;                     // the router's completion ring was full
  std::size_t outstanding_ = 0;
  RelayCounters counters_;
};

}  // namespace mxdp::cli
