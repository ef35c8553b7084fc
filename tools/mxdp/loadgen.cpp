#include "tools/mxdp/loadgen.hpp"

#include <fmt/format.h>

#include <pthread.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>

#include <thread>

#include "smtp/client_session.hpp"
#include "tools/mxdp/progress.hpp"

namespace mxdp::cli {

namespace {

using dataplane::transport::Clock;
using dataplane::transport::CloseReason;
using dataplane::transport::Connection;
using dataplane::transport::ConnectionHandler;
using dataplane::transport::Endpoint;
using dataplane::transport::EventLoop;
using namespace std::chrono_literals;

// One generated message body: a few header lines and filler text lines of at
// most 78 characters (RFC 5322 §2.1.1), CRLF line ends, `size` bytes in all.
std::string make_body(unsigned size, const std::string& sender) {
  std::string body = "From: <" + sender + ">\r\nSubject: mxdp load\r\nMessage-ID: <load@mxdp.test>\r\n\r\n";
  static const char kText[] = "The quick brown fox jumps over the lazy dog; mxdp load generator text line. ";
  while (body.size() < size) {
    std::size_t room = size - body.size();
    if (room <= 2) {
      body.append(room, room == 2 ? '\r' : '\n');
      if (room == 2) body.back() = '\n';
      break;
    }
    std::size_t n = std::min<std::size_t>(room - 2, 76);
    for (std::size_t i = 0; i < n; ++i)
      body.push_back(kText[i % (sizeof kText - 1)]);
    body += "\r\n";
  }
  if (body.size() > size && size >= 2) {
    body.resize(size);
    body[size - 2] = '\r';
    body[size - 1] = '\n';
  }
  return body;
}

// Everything one generator thread shares between its connections.
struct Worker {
  const LoadgenOptions& opts;
  Endpoint target;
  std::unique_ptr<EventLoop> loop_owner;
  EventLoop& loop;
  std::string body;
  std::string_view body_view;
  bool body_wire_ready = false;  // checked once: every message sends the body as it is
  std::mt19937_64 rng;
  std::atomic<std::uint64_t>& claimed;  // messages handed out over all threads (for --messages)
  std::uint64_t limit;                  // 0: no count limit
  std::atomic<bool> stopping{false};
  double tokens = 0;  // rate limit bucket
  double per_ms = 0;  // tokens added per ms (0: unlimited)
  Clock::time_point last_refill = Clock::now();

  // Results.
  std::uint64_t sent = 0, accepted = 0, bytes = 0, connect_failures = 0;
  std::map<int, std::uint64_t> codes;
  LatencyHistogram latency;
  LatencyHistogram interval;  // since the last progress hand-over
  std::mutex interval_mutex;  // the progress thread swaps `interval` under it
  LoadgenLive* live;
  unsigned open = 0;
  Clock::time_point finished;  // the load ended (before any linger)

  Worker(const LoadgenOptions& o, std::unique_ptr<EventLoop> lp, Endpoint t, std::atomic<std::uint64_t>& c,
         std::uint64_t seed, LoadgenLive* l)
      : opts(o),
        target(t),
        loop_owner(std::move(lp)),
        loop(*loop_owner),
        rng(seed),
        claimed(c),
        limit(o.messages),
        live(l) {
    body = make_body(o.message_size, o.sender);
    body_view = body;
    body_wire_ready = smtp::is_wire_ready(std::span<const std::string_view>(&body_view, 1));
  }

  bool take_message() {
    if (stopping) return false;
    if (per_ms > 0) {
      auto now = Clock::now();
      tokens =
          std::min(tokens + per_ms * std::chrono::duration<double, std::milli>(now - last_refill).count(),
                   std::max(1.0, per_ms * 10));
      last_refill = now;
      if (tokens < 1) return false;
      tokens -= 1;
    }
    if (limit) {
      if (claimed.fetch_add(1, std::memory_order_relaxed) >= limit) {
        stopping = true;
        return false;
      }
    }
    return true;
  }
  void connect_one();
  // Connections still to open once the first one has connected (or failed).
  // Opening one first lets the path settle (on DPDK: the ARP resolution of
  // the target) before the rest open at once; a flood of SYNs behind an
  // unresolved next hop would overflow the ARP queue and wait out a 1 s SYN
  // retransmission (RFC 6298 §2.1).
  unsigned deferred_opens = 0;
  void open_deferred() {
    for (; deferred_opens > 0; --deferred_opens)
      connect_one();
  }
};

class LoadConnection : public ConnectionHandler, public smtp::ClientObserver {
 public:
  explicit LoadConnection(Worker& w) : w_(w), session_(make_config(w.opts), *this) {
    slots_.resize(w.opts.in_flight);
    for (auto& s : slots_)
      s.rcpts.resize(w.opts.recipients);
  }

  void on_connected(Connection& c) noexcept override {
    conn_ = &c;
    w_.open_deferred();
    fill();
    drain(c);
  }
  std::size_t on_input(Connection& c, std::string_view bytes) noexcept override {
    conn_ = &c;
    session_.feed(bytes);
    fill();
    drain(c);
    return bytes.size();
  }
  void on_closed(Connection& c, CloseReason reason) noexcept override {
    conn_ = nullptr;
    session_.connection_lost();
    if (reason == CloseReason::kConnectFailed) ++w_.connect_failures;
    --w_.open;
    w_.open_deferred();
    // Keep the offered load: a connection that broke is replaced.
    if (!w_.stopping && reason != CloseReason::kShutdown) {
      Worker* w = &w_;
      c.loop().run_after(reason == CloseReason::kConnectFailed ? 100ms : 1ms, [w] {
        if (!w->stopping) w->connect_one();
      });
    }
  }

  void on_result(const smtp::MessageResult& r) noexcept override {
    Slot& s = slots_[r.cookie];
    s.busy = false;
    auto ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - s.queued).count());
    if (r.outcome == smtp::Outcome::kAccepted) {
      ++w_.accepted;
      w_.latency.record(ns);
      {
        std::lock_guard lock(w_.interval_mutex);
        w_.interval.record(ns);
      }
      if (w_.live) w_.live->accepted.fetch_add(1, std::memory_order_relaxed);
    } else {
      ++w_.codes[r.code];
      if (w_.live) w_.live->failed.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // Tops up the connection with messages while there is room and work.
  void fill() noexcept {
    if (!conn_) return;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      Slot& s = slots_[i];
      if (s.busy) continue;
      if (!w_.take_message()) break;
      const auto& list = w_.opts.recipient_list;
      for (auto& r : s.rcpts)
        r = list[w_.rng() % list.size()];
      smtp::OutgoingMessage m;
      m.reverse_path = w_.opts.sender;
      m.recipients = s.rcpts;
      s.body[0] = w_.body_view;
      m.body = std::span<const std::string_view>(s.body, 1);
      m.wire_ready = w_.body_wire_ready;
      m.cookie = i;
      if (!session_.submit(m)) break;
      s.busy = true;
      s.queued = Clock::now();
      ++w_.sent;
      w_.bytes += w_.body.size();
      if (w_.live) w_.live->bytes.fetch_add(w_.body.size(), std::memory_order_relaxed);
    }
    if (w_.stopping && idle()) session_.quit();
  }

  bool idle() const noexcept {
    return std::none_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.busy; });
  }

  void drain(Connection& c) noexcept {
    auto out = session_.output();
    if (!out.empty()) {
      c.write(out);
      session_.consume_output(out.size());
    }
    if (session_.wants_close()) c.close();
  }

  // Called by the worker's pacing timer.
  void tick() noexcept {
    if (!conn_) return;
    fill();
    drain(*conn_);
  }

 private:
  struct Slot {
    bool busy = false;
    Clock::time_point queued;
    std::vector<std::string_view> rcpts;
    std::string_view body[1];
  };
  static smtp::ClientConfig make_config(const LoadgenOptions& o) {
    smtp::ClientConfig cfg;
    cfg.helo_name = o.helo;
    cfg.max_in_flight = std::max(1u, o.in_flight);
    cfg.max_queued = std::max(1u, o.in_flight);
    cfg.max_recipients = std::max(1u, o.recipients);
    cfg.prefer_chunking = o.chunking;
    cfg.output_capacity = std::max<std::size_t>(65536, 2 * static_cast<std::size_t>(o.message_size) + 4096);
    return cfg;
  }

  Worker& w_;
  smtp::ClientSession session_;
  Connection* conn_ = nullptr;
  std::vector<Slot> slots_;
};

void Worker::connect_one() {
  ++open;
  loop.connect(target, std::make_unique<LoadConnection>(*this));
}

}  // namespace

std::vector<std::string> demo_recipients(unsigned count) {
  std::vector<std::string> out;
  out.reserve(count);
  for (unsigned i = 0; i < count; ++i)
    out.push_back("user" + std::to_string(i) + "@example.test");
  return out;
}

std::string run_loadgen(const LoadgenOptions& in, RunReport& report, const std::atomic<bool>* stop,
                        LoadgenLive* live) {
  LoadgenOptions opts = in;
  LoadgenLive own_live;
  if (!live) live = &own_live;
  auto target = Endpoint::parse(opts.target);
  if (!target) return "bad target '" + opts.target + "': expected IPv4:port, e.g. 127.0.0.1:2525";
  if (opts.connections == 0 || opts.threads == 0) return "--connections and --threads must be at least 1";
  if (opts.recipients == 0) return "--recipients must be at least 1";
  if (opts.message_size < 64) return "--size must be at least 64 bytes";
  if (opts.recipient_list.empty()) opts.recipient_list = demo_recipients();
  opts.threads = std::min(opts.threads, opts.connections);
  LoopFactory loops = opts.loops ? opts.loops : kernel_loops();

  std::atomic<std::uint64_t> claimed{0};
  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned t = 0; t < opts.threads; ++t) {
    workers.push_back(std::make_unique<Worker>(opts, loops(t), *target, claimed, opts.seed * 7919 + t, live));
    if (opts.rate > 0) workers.back()->per_ms = opts.rate / opts.threads / 1000.0;
  }

  auto start = Clock::now();
  auto deadline = opts.messages ? Clock::time_point::max()
                                : start + std::chrono::duration_cast<Clock::duration>(
                                              std::chrono::duration<double>(opts.duration_s));
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < opts.threads; ++t) {
    threads.emplace_back([&, t] {
      Worker& w = *workers[t];
      pthread_setname_np(pthread_self(), ("mxdp-gen-" + std::to_string(t)).c_str());
      w.loop.attach_thread();
      if (opts.on_loop_ready) opts.on_loop_ready(w.loop, t);
      unsigned mine = opts.connections / opts.threads + (t < opts.connections % opts.threads ? 1 : 0);
      if (mine > 0) {
        w.deferred_opens = mine - 1;
        w.connect_one();
      }
      auto drain_until = Clock::time_point::max();
      while (true) {
        w.loop.run_once(1ms);
        auto now = Clock::now();
        bool external_stop = (stop && stop->load(std::memory_order_relaxed)) || done.load();
        if (!w.stopping && (now >= deadline || external_stop)) w.stopping = true;
        bool paced = w.per_ms > 0 || w.stopping;
        if (w.stopping && drain_until == Clock::time_point::max()) {
          drain_until = now + 10s;  // outstanding replies get this long
        }
        // Pace: connections refill as results arrive; a rate limit needs ticks.
        if (paced) {
          w.loop.for_each_connection([](Connection& c) {
            if (auto* lc = dynamic_cast<LoadConnection*>(c.handler())) lc->tick();
          });
        }
        if (w.stopping && (w.open == 0 || now >= drain_until)) break;
      }
      w.finished = Clock::now();
      while (opts.linger && opts.linger())
        w.loop.run_once(1ms);
      w.loop.close_all();
      w.loop.run_once(0ms);
    });
  }

  Progress progress(opts.progress);
  while (true) {
    std::this_thread::sleep_for(100ms);
    bool all_stopping = true;
    for (auto& w : workers)
      all_stopping &= w->stopping;
    if (progress.due()) {
      LatencyHistogram interval;
      std::uint64_t accepted = 0, failed = 0, bytes = 0;
      for (auto& w : workers) {
        std::lock_guard lock(w->interval_mutex);
        interval.merge(w->interval);
        w->interval.reset();
      }
      accepted = live->accepted.load();
      failed = live->failed.load();
      bytes = live->bytes.load();
      progress.line(interval, accepted, failed, bytes);
    }
    if (all_stopping) break;
  }
  for (auto& th : threads)
    th.join();
  auto end = start;
  for (auto& w : workers)
    end = std::max(end, w->finished);
  report.timeline = progress.timeline();

  report.command = report.command.empty() ? "loadgen" : report.command;
  report.backend = workers.front()->loop.backend();
  report.target = opts.target;
  report.connections = opts.connections;
  report.message_size = opts.message_size;
  report.recipients_per_message = opts.recipients;
  report.duration_s = std::chrono::duration<double>(end - start).count();
  for (auto& w : workers) {
    report.messages_sent += w->sent;
    report.messages_accepted += w->accepted;
    report.bytes_sent += w->bytes;
    report.latency.merge(w->latency);
    for (auto& [code, n] : w->codes)
      report.replies_by_code[code] += n;
    report.connect_failures += w->connect_failures;
  }
  return "";
}

}  // namespace mxdp::cli
