#include "tools/mxdp/appliance.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <pthread.h>
#include <time.h>
#include <array>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>

#include <thread>

#include "dataplane/kernel/event_loop.hpp"
#include "routing/directory.hpp"
#include "routing/directory_loader.hpp"
#include "routing/owner.hpp"
#include "routing/router.hpp"
#include "smtp/rcpt_peek.hpp"
#include "smtp/server_session.hpp"
#include "tools/mxdp/latency_histogram.hpp"
#include "tools/mxdp/metrics_http.hpp"
#include "tools/mxdp/smtp_relay.hpp"
#include "tools/mxdp/smtp_server_connection.hpp"

namespace mxdp::cli {

using dataplane::transport::Clock;
using dataplane::transport::Connection;
using dataplane::transport::Endpoint;
using dataplane::transport::EventLoop;
using dataplane::transport::LoopCounters;
using namespace std::chrono_literals;

namespace {

constexpr auto kShutdownGrace = 5s;
constexpr auto kSnapshotInterval = 250ms;

// Session counters of one worker, summed as sessions close.
struct SessionTotals {
  std::uint64_t commands = 0, accepted = 0, rejected = 0, errors = 0;
  void add(const smtp::ServerStats& s) {
    commands += s.commands;
    accepted += s.messages_accepted;
    rejected += s.messages_rejected;
    errors += s.errors;
  }
};

// What metrics and ctl read from other threads: copied under a mutex by the
// worker every kSnapshotInterval, so the data path never shares a line.
struct WorkerSnapshot {
  LoopCounters loop{};
  RelayCounters relay{};
  SessionTotals sessions{};
  LatencyHistogram ingress;  // end of data -> router accepted, ns
  std::uint64_t bounces = 0;
  std::uint64_t bodies_lent = 0, bodies_copied = 0, discarded = 0, rcpts_deferred_relay_full = 0;
  std::uint64_t cpu_us = 0;
};

}  // namespace

// The session whose input the sink is being fed from (set around on_input):
// its buffers can be lent, and its transaction's ingress shard remembered.
struct Feeding {
  SmtpServerConnection* connection = nullptr;
  routing::ShardId ingress_hint{};
  // The transaction's RCPT lookups, one per accepted recipient, and the
  // directory epoch read before the first: ingress reuses them while the
  // directory has not changed (routing::PriorLookups). Reused per transaction.
  std::uint64_t rcpt_epoch = 0;
  std::vector<routing::Lookup> rcpt_lookups;
};

// The MessageSink of every session on one worker: the RCPT lookup and the
// hand-over of a committed transaction to the router.
class RouterSink : public smtp::MessageSink {
 public:
  RouterSink(routing::Router& router, const routing::Directory& dir,
             const std::vector<routing::ShardId>& shards, unsigned worker, bool discard)
      : router_(router),
        directory_(dir),
        reader_(dir.reader()),
        ingress_(shards.front()),
        worker_(worker),
        discard_(discard) {
    for (auto s : shards) {
      if (mine_.size() <= s.value) mine_.resize(s.value + 1u, false);
      mine_[s.value] = true;
    }
  }

  // Look-ahead over a burst (ServeConnection::on_input_ahead): each
  // recipient's bucket is prefetched now and its node kLookAheadDepth
  // recipients later, when the bucket line has arrived; the lookups at RCPT
  // then find both in cache. Measured: see the commit that added it.
  void look_ahead(std::string_view rcpt) noexcept {
    if (ahead_count_ >= kLookAheadDepth) directory_.prefetch_node(ahead_[ahead_count_ % kLookAheadDepth]);
    ahead_[ahead_count_ % kLookAheadDepth] = directory_.prefetch_bucket(rcpt);
    ++ahead_count_;
  }
  // The burst is about to be parsed: the nodes not prefetched yet.
  void finish_look_ahead() noexcept {
    const std::size_t from = ahead_count_ > kLookAheadDepth ? ahead_count_ - kLookAheadDepth : 0;
    for (std::size_t i = from; i < ahead_count_; ++i)
      directory_.prefetch_node(ahead_[i % kLookAheadDepth]);
    ahead_count_ = 0;
  }

  smtp::RecipientVerdict check_recipient(std::string_view mailbox,
                                         const smtp::Envelope& env) noexcept override {
    if (discard_) return smtp::RecipientVerdict::kAccept;  // smtp-sink: anyone
    if (ahead_count_ > 0) finish_look_ahead();
    // RFC 5321 §3.6.2 / §4.2.2: an unknown recipient is refused at RCPT
    // (550 5.1.1), so the client never believes it was delivered.
    const bool first = env.recipients.empty();
    // The epoch before the lookup: a change that completes after it makes
    // ingress look up again (routing/directory.hpp, epoch()).
    if (feeding != nullptr && first) {
      feeding->rcpt_epoch = directory_.epoch();
      feeding->rcpt_lookups.clear();
    }
    const routing::Lookup l = reader_.lookup(mailbox);
    if (!l.known()) return smtp::RecipientVerdict::kReject;
    if (!l.on_box() && router_.relay_target_full(l.entry.server)) {
      // Its target has a backlog as large as we keep (it is down or slow):
      // the client keeps the message and tries later (RFC 5321 §4.2.1).
      ++rcpts_deferred_relay_full;
      return smtp::RecipientVerdict::kTempFail;
    }
    const bool here = l.on_box() && runs(l.entry.shard);
    // The delivery comes at the end of this transaction (the body follows in
    // the same burst): its mailbox counters are brought in meanwhile.
    if (here) router_.shard(l.entry.shard).store().prefetch(l.entry.mailbox);
    if (feeding != nullptr) {
      feeding->rcpt_lookups.push_back(l);
      // The message enters routing on the first recipient's shard when this
      // worker runs it: resolved there, delivered there, no hand-off to a
      // sibling shard. (A move before end of data is still caught: ingress
      // sees the directory epoch moved, resolves again and forwards.)
      if (first) feeding->ingress_hint = here ? l.entry.shard : ingress_;
    }
    return smtp::RecipientVerdict::kAccept;
  }

  smtp::SinkAnswer on_message(const smtp::Envelope& env, const smtp::Body& body,
                              std::uint64_t) noexcept override {
    if (discard_) {
      ++discarded;                // the body's buffers go back with the session's input
      return smtp::SinkAnswer{};  // accept: the standard "250 2.0.0 Ok: queued", prebuilt
    }
    // One message in 16 is timed (two clock reads cost more than routing it).
    const bool timed = (next_id_ & 15) == 0;
    const auto t0 = timed ? Clock::now() : Clock::time_point{};
    routing::Envelope e(env.reverse_path, env.recipients);
    routing::Body b = lend_body(body);
    routing::MessageId id{(static_cast<std::uint64_t>(worker_) << 48) | next_id_++};
    routing::ShardId at = ingress_;
    if (feeding != nullptr && runs(feeding->ingress_hint)) at = feeding->ingress_hint;
    // The RCPT lookups stand for this envelope only if there is one per
    // recipient (a session that accepted a recipient another way, or fed RCPT
    // without this sink watching, gets fresh lookups).
    routing::IngressOptions options;
    options.report_routes = false;
    if (feeding != nullptr && feeding->rcpt_lookups.size() == env.recipients.size())
      options.prior = {feeding->rcpt_epoch, feeding->rcpt_lookups};
    auto result = router_.ingress(at, id, std::move(e), std::move(b), options);
    if (timed)
      ingress_ns.record(static_cast<std::uint64_t>(std::chrono::nanoseconds(Clock::now() - t0).count()));
    switch (result.status) {
      case routing::IngressStatus::kAccepted:
        return smtp::SinkAnswer{};  // accept: the standard "250 2.0.0 Ok: queued", prebuilt
      case routing::IngressStatus::kNoRecipients:
        return {smtp::Verdict::kPermFail, 554, "5.5.1", "No valid recipients"};
      default:
        return {smtp::Verdict::kTempFail, 451, "4.3.0", "Routing unavailable, try again later"};
    }
  }

  LatencyHistogram ingress_ns;  // sampled: one message in 16
  Feeding* feeding = nullptr;
  // This worker runs shard s (only its own shards may take ingress here).
  bool runs(routing::ShardId s) const noexcept { return s.value < mine_.size() && mine_[s.value]; }
  // --discard: no recipient is looked up, so there is nothing to look ahead for.
  bool discards() const noexcept { return discard_; }
  std::uint64_t bodies_lent = 0, bodies_copied = 0, discarded = 0;
  std::uint64_t rcpts_deferred_relay_full = 0;  // 450 at RCPT: their relay target has too much waiting

 private:
  // The body as routing keeps it: the received packet buffers themselves when
  // the transport lends them (DPDK: no copy, released with the message's last
  // reference, on whichever core that is), else one owned copy.
  routing::Body lend_body(const smtp::Body& body) {
    // Kernel sockets lend nothing: lease_feeds() fails at the first chunk
    // without allocating, so the copy path costs no extra allocation.
    // The scratch lists keep their capacity.
    lease_scratch_.clear();
    if (feeding != nullptr &&
        feeding->connection->lease_feeds(body.first_feed, body.last_feed, lease_scratch_)) {
      segment_scratch_.clear();
      for (auto seg : body.segments)
        segment_scratch_.push_back({reinterpret_cast<const std::byte*>(seg.data()), seg.size()});
      std::size_t footprint = 0;
      for (const auto& l : lease_scratch_)
        footprint += l.footprint();
      ++bodies_lent;
      if (lease_scratch_.size() <= InlineLeases::kMax) {
        // The common case (a 1 KiB message is one or two buffers): the
        // leases travel inside the Body, no allocation.
        routing::Body::LenderWords words{};
        for (std::size_t i = 0; i < lease_scratch_.size(); ++i) {
          const auto raw = lease_scratch_[i].detach();
          words[2 * i] = raw.buffer;
          words[2 * i + 1] = raw.ops;
        }
        lease_scratch_.clear();
        return routing::Body::borrowed_with_state(segment_scratch_, words, &InlineLeases::release, footprint,
                                                  &InlineLeases::prefetch);
      }
      auto* lent = new LentBody{
          {std::make_move_iterator(lease_scratch_.begin()), std::make_move_iterator(lease_scratch_.end())}};
      lease_scratch_.clear();
      return routing::Body::borrowed(segment_scratch_, &LentBody::release, lent, footprint,
                                     &LentBody::prefetch);
    }
    lease_scratch_.clear();
    ++bodies_copied;
    std::string bytes;
    bytes.reserve(body.size);
    for (auto seg : body.segments)
      bytes.append(seg);
    return routing::Body::contiguous(std::move(bytes));
  }
  // Up to two leases kept in a Body's lender words as (buffer, ops) pairs.
  struct InlineLeases {
    static constexpr std::size_t kMax = routing::Body::kLenderWords / 2;
    using Lease = dataplane::transport::InputLease;
    static void release(void* words) noexcept {
      const auto* w = static_cast<const routing::Body::LenderWords*>(words);
      for (std::size_t i = 0; i < kMax; ++i) {
        // Adopted and released by the temporary's destructor.
        if ((*w)[2 * i + 1] != nullptr)
          Lease(const_cast<void*>((*w)[2 * i]), static_cast<const Lease::Ops*>((*w)[2 * i + 1]));
      }
    }
    static void prefetch(const void* words) noexcept {
      const auto* w = static_cast<const routing::Body::LenderWords*>(words);
      for (std::size_t i = 0; i < kMax; ++i) {
        const auto* ops = static_cast<const Lease::Ops*>((*w)[2 * i + 1]);
        if (ops != nullptr && ops->prefetch != nullptr) ops->prefetch((*w)[2 * i]);
      }
    }
  };
  // The buffers of a body lent in more pieces than the Body holds (a large
  // message), released with the message's last reference.
  struct LentBody {
    std::vector<dataplane::transport::InputLease> leases;
    static void release(void* self) noexcept { delete static_cast<LentBody*>(self); }
    static void prefetch(const void* self) noexcept {
      const auto& b = *static_cast<const LentBody*>(self);
      for (const auto& l : b.leases)
        l.prefetch();
    }
  };
  std::vector<dataplane::transport::InputLease> lease_scratch_;
  std::vector<routing::BodySegment> segment_scratch_;
  static constexpr std::size_t kLookAheadDepth = 4;
  std::array<std::uint64_t, kLookAheadDepth> ahead_{};  // hashes whose node is not prefetched yet
  std::size_t ahead_count_ = 0;

  routing::Router& router_;
  const routing::Directory& directory_;
  routing::Directory::Reader reader_;
  routing::ShardId ingress_;
  std::vector<bool> mine_;  // by shard id: run by this worker
  unsigned worker_;
  bool discard_;
  std::uint64_t next_id_ = 1;
};

// Counts a session's statistics into its worker's totals when it closes, and
// tells the sink whose input it is being fed (to lend the body's buffers).
class ServeConnection : public SmtpServerConnection {
 public:
  ServeConnection(const smtp::ServerConfig& config, RouterSink& sink, SessionTotals& totals)
      : SmtpServerConnection(config, sink), sink_(sink), totals_(totals) {
    feeding_.connection = this;
  }
  void on_input_ahead(Connection&, std::string_view bytes) noexcept override {
    if (sink_.discards()) return;
    std::array<std::string_view, 8> rcpts;
    const std::size_t n = smtp::peek_recipients(bytes, rcpts);
    for (std::size_t i = 0; i < n; ++i)
      sink_.look_ahead(rcpts[i]);
  }
  std::size_t on_input(Connection& c, std::string_view bytes) noexcept override {
    sink_.feeding = &feeding_;
    std::size_t used = SmtpServerConnection::on_input(c, bytes);
    sink_.feeding = nullptr;
    return used;
  }
  void on_closed(Connection&, dataplane::transport::CloseReason) noexcept override {
    totals_.add(session().stats());
  }

 private:
  RouterSink& sink_;
  SessionTotals& totals_;
  Feeding feeding_;
};

// Sends every relay job to the relay of the worker that runs its origin shard
// (the router calls submit() on that shard's thread, so this is that worker).
class RelayDispatch : public routing::Relay {
 public:
  std::vector<SmtpRelay*> by_shard;
  bool submit(routing::RelayJob& job) noexcept override { return by_shard[job.origin.value]->submit(job); }
};

struct Worker {
  unsigned index = 0;
  std::vector<routing::ShardId> shards;
  routing::Owner owner;
  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<SmtpRelay> relay;
  RouterSink* sink = nullptr;  // lives on the worker thread's stack
  std::thread thread;
  SessionTotals sessions;
  std::uint64_t cpu_us = 0;  // set when the thread ends
  mutable std::mutex snapshot_mutex;
  WorkerSnapshot snapshot;
};

struct Appliance::Impl {
  ServeConfig config;
  smtp::ServerConfig smtp_config;
  std::unique_ptr<routing::Directory> directory;
  RelayDispatch dispatch;
  std::unique_ptr<routing::Router> router;
  std::vector<std::unique_ptr<Worker>> workers;
  LoopFactory loops;
  std::unique_ptr<dataplane::kernel::EventLoop> metrics_loop;
  std::thread metrics_thread;
  std::atomic<bool> stopping{false};
  bool joined = false;
  std::uint16_t port = 0;

  void run_worker(Worker& w);
  void publish(Worker& w);
  std::unique_ptr<dataplane::transport::ConnectionHandler> accept(Worker& w, Connection& c);
};

namespace {

smtp::ServerConfig smtp_config_from(const ServeConfig& c) {
  smtp::ServerConfig s;
  s.hostname = c.hostname;
  s.max_command_line = c.smtp.max_command_line;
  s.max_text_line = c.smtp.max_text_line;
  s.max_message_size = c.smtp.max_message_size;
  s.max_recipients = c.smtp.max_recipients;
  s.max_errors = c.smtp.max_errors;
  s.idle_timeout = std::chrono::seconds(c.smtp.idle_timeout_s);
  s.total_timeout = std::chrono::seconds(c.smtp.session_timeout_s);
  return s;
}

// A connection accepted while shutting down: 421 and close (RFC 5321 §3.8).
class Refuse : public dataplane::transport::ConnectionHandler {
 public:
  std::size_t on_input(Connection&, std::string_view bytes) noexcept override { return bytes.size(); }
};

}  // namespace

void add_demo_directory(routing::Directory& dir, unsigned shards, const std::string& referral_target,
                        unsigned users, unsigned referrals) {
  for (unsigned n = 0; n < users; ++n) {
    dir.upsert("user" + std::to_string(n) + "@example.test",
               routing::Entry::mailbox_on(routing::ShardId{static_cast<std::uint16_t>(n % shards)},
                                          routing::MailboxId{n}));
  }
  auto server = dir.intern_server(referral_target);
  for (unsigned n = 0; n < referrals; ++n)
    dir.upsert("pf" + std::to_string(n) + "@public.example.test", routing::Entry::referral_to(server));
}

Appliance::Appliance(ServeConfig config, LoopFactory loops) : impl_(std::make_unique<Impl>()) {
  impl_->config = std::move(config);
  impl_->loops = loops ? std::move(loops) : kernel_loops();
}

Appliance::~Appliance() {
  request_stop();
  wait();
}

std::string Appliance::start() {
  Impl& m = *impl_;
  ServeConfig& c = m.config;
  if (c.cores == 0) c.cores = std::max(1u, std::thread::hardware_concurrency());
  if (c.shards == 0) c.shards = 2 * c.cores;
  if (c.shards < c.cores) return "--shards must be at least --cores (every worker runs a shard)";
  if (c.shards > 1024) return "--shards must be at most 1024";
  auto listen = Endpoint::parse(c.listen);
  if (!listen) return "bad --listen '" + c.listen + "': expected IPv4:port, e.g. 127.0.0.1:2525";
  m.smtp_config = smtp_config_from(c);
  try {
    m.smtp_config.validate();
  } catch (const std::exception& e) {
    return std::string("smtp limits: ") + e.what();
  }

  if (c.directory.empty()) {
    m.directory = std::make_unique<routing::Directory>(2 * (100000 + 1000) + 65536);
    add_demo_directory(*m.directory, c.shards, c.referral_target);
  } else {
    try {
      m.directory = routing::load_directory_csv_file(c.directory);
    } catch (const std::exception& e) {
      return e.what();
    }
  }

  routing::RouterConfig rc;
  rc.shard_count = c.shards;
  rc.mailbox_log_bytes = static_cast<std::size_t>(c.mailbox_log_bytes);
  rc.max_relay_attempts = c.relay.max_attempts;
  rc.relay_backoff_initial = std::chrono::milliseconds(c.relay.retry_initial_ms);
  rc.relay_backoff_max = std::chrono::milliseconds(c.relay.retry_max_ms);
  rc.max_relay_waiting_per_target = c.relay.max_waiting;
  m.router = std::make_unique<routing::Router>(*m.directory, m.dispatch, rc);
  m.dispatch.by_shard.resize(c.shards);

  for (unsigned i = 0; i < c.cores; ++i) {
    auto w = std::make_unique<Worker>();
    w->index = i;
    for (unsigned s = i; s < c.shards; s += c.cores)
      w->shards.push_back(routing::ShardId{static_cast<std::uint16_t>(s)});
    w->loop = m.loops(i);
    w->relay = std::make_unique<SmtpRelay>(*w->loop, *m.directory, c.relay, c.hostname);
    w->relay->set_completion_sink(m.router.get());
    for (auto s : w->shards)
      m.dispatch.by_shard[s.value] = w->relay.get();
    m.workers.push_back(std::move(w));
  }

  // Every worker listens on the same port (SO_REUSEPORT); port 0 asks the
  // kernel for one, which the other workers then share.
  for (auto& w : m.workers) {
    Endpoint at = *listen;
    if (m.port) at.port = m.port;
    Worker* wp = w.get();
    std::string err = w->loop->listen(at, [&m, wp](Connection& conn) { return m.accept(*wp, conn); });
    if (!err.empty()) return err + " (is another server on that port? choose one with --listen)";
    m.port = w->loop->bound_port();
  }
  if (!c.metrics.empty()) {
    auto at = Endpoint::parse(c.metrics);
    if (!at) return "bad --metrics '" + c.metrics + "': expected IPv4:port";
    m.metrics_loop = std::make_unique<dataplane::kernel::EventLoop>();
    std::string err = m.metrics_loop->listen(
        *at, [this](Connection&) { return make_metrics_handler([this] { return metrics_text(); }); });
    if (!err.empty())
      return "metrics: " + err + " (choose another with --metrics, or --metrics '' to disable)";
    m.metrics_thread = std::thread([&m] { m.metrics_loop->run(); });
  }
  for (auto& w : m.workers) {
    Worker* wp = w.get();
    w->thread = std::thread([&m, wp] { m.run_worker(*wp); });
  }
  return "";
}

std::unique_ptr<dataplane::transport::ConnectionHandler> Appliance::Impl::accept(Worker& w, Connection& c) {
  if (stopping.load(std::memory_order_relaxed) || !w.sink) {
    c.write("421 4.3.2 " + config.hostname + " shutting down, try again later\r\n");
    c.close();
    return std::make_unique<Refuse>();
  }
  auto h = std::make_unique<ServeConnection>(smtp_config, *w.sink, w.sessions);
  h->start(c);
  return h;
}

void Appliance::Impl::run_worker(Worker& w) {
  pthread_setname_np(pthread_self(), ("mxdp-app-" + std::to_string(w.index)).c_str());
  w.loop->attach_thread();
  routing::OwnerScope scope(w.owner);
  RouterSink sink(*router, *directory, w.shards, w.index, config.discard);
  w.sink = &sink;
  EventLoop& loop = *w.loop;
  loop.add_poller([&] {
    std::size_t work = 0;
    for (auto s : w.shards)
      work += router->poll(s);
    work += w.relay->poll() ? 1 : 0;
    return work > 0;
  });
  auto next_publish = Clock::now();
  for (unsigned n = 0; !stopping.load(std::memory_order_relaxed); ++n) {
    // 1 ms bounds the latency of a hand-off from another worker's shard (its
    // ring is polled at least this often) without spinning an idle core
    // (kernel loop; the DPDK loop polls without sleeping).
    loop.run_once(1ms);
    // The clock is read every 64 iterations: a busy-polled loop runs millions.
    if (n % 64 == 0 && Clock::now() >= next_publish) {
      publish(w);
      next_publish = Clock::now() + kSnapshotInterval;
    }
  }

  // Clean shutdown (RFC 5321 §3.8): stop accepting, tell every session 421,
  // then give relays in flight a grace period to finish.
  loop.close_listeners();
  loop.for_each_connection([](Connection& c) {
    if (auto* s = dynamic_cast<SmtpServerConnection*>(c.handler())) s->shut_down(c);
  });
  auto until = Clock::now() + kShutdownGrace;
  while (Clock::now() < until && w.relay->outstanding() > 0)
    loop.run_once(1ms);
  w.relay->abandon_queued();
  loop.close_all();
  loop.run_once(0ms);
  for (int i = 0; i < 3; ++i) {
    for (auto s : w.shards)
      router->poll(s);
    w.relay->poll();
  }
  // CPU time of this worker thread, kernel time included (on the kernel
  // backend that is where its TCP runs): the per-core cost to compare.
  timespec cpu{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
  w.cpu_us =
      static_cast<std::uint64_t>(cpu.tv_sec) * 1000000u + static_cast<std::uint64_t>(cpu.tv_nsec) / 1000u;
  // The last snapshot while the sink is still there: its counts are final.
  publish(w);
  w.sink = nullptr;
}

void Appliance::Impl::publish(Worker& w) {
  std::size_t bounced = 0;
  for (auto s : w.shards)
    bounced += router->shard(s).take_bounces().size();
  std::lock_guard lock(w.snapshot_mutex);
  w.snapshot.loop = w.loop->counters();
  w.snapshot.relay = w.relay->counters();
  w.snapshot.sessions = w.sessions;
  if (w.sink) {
    w.snapshot.ingress = w.sink->ingress_ns;
    w.snapshot.bodies_lent = w.sink->bodies_lent;
    w.snapshot.bodies_copied = w.sink->bodies_copied;
    w.snapshot.rcpts_deferred_relay_full = w.sink->rcpts_deferred_relay_full;
    w.snapshot.discarded = w.sink->discarded;
  }
  w.snapshot.bounces += bounced;
  w.snapshot.cpu_us = w.cpu_us;
}

void Appliance::request_stop() noexcept {
  impl_->stopping.store(true);
}

void Appliance::wait() {
  Impl& m = *impl_;
  if (m.joined) return;
  for (auto& w : m.workers)
    if (w->thread.joinable()) w->thread.join();
  if (m.metrics_thread.joinable()) {
    m.metrics_loop->stop();
    m.metrics_thread.join();
    m.metrics_loop.reset();
  }
  m.joined = true;
  if (!m.router) return;
  // Every worker has left its OwnerScope: release what the router still holds.
  m.router->shutdown_drain();
  for (auto& w : m.workers)
    w->relay.reset();
  for (auto& w : m.workers)
    w->loop.reset();
}

std::uint16_t Appliance::port() const noexcept {
  return impl_->port;
}
routing::Directory& Appliance::directory() noexcept {
  return *impl_->directory;
}

ApplianceTotals Appliance::totals() const {
  const Impl& m = *impl_;
  ApplianceTotals t;
  if (m.router) t.shards = m.router->total_stats();
  for (auto& w : m.workers) {
    std::lock_guard lock(w->snapshot_mutex);
    const auto& s = w->snapshot;
    t.connections_accepted += s.loop.accepted;
    t.connections_open += s.loop.open_connections;
    t.smtp_commands += s.sessions.commands;
    t.smtp_messages_accepted += s.sessions.accepted;
    t.smtp_messages_rejected += s.sessions.rejected;
    t.smtp_errors += s.sessions.errors;
    t.relay_jobs += s.relay.jobs;
    t.relay_connects += s.relay.connects;
    t.bounces += s.bounces;
    t.bodies_lent += s.bodies_lent;
    t.bodies_copied += s.bodies_copied;
    t.rcpts_deferred_relay_full += s.rcpts_deferred_relay_full;
    t.messages_discarded += s.discarded;
    t.worker_cpu_us += s.cpu_us;
  }
  return t;
}

std::string Appliance::metrics_text() const {
  const Impl& m = *impl_;
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  struct ShardField {
    const char* name;
    const char* help;
    std::uint64_t routing::ShardStats::*field;
  };
  static const ShardField kFields[] = {
      {"mxdp_shard_accepted_total", "Messages accepted by ingress on the shard",
       &routing::ShardStats::accepted},
      {"mxdp_shard_delivered_total", "Recipients delivered to the shard's mailboxes",
       &routing::ShardStats::delivered},
      {"mxdp_shard_handed_off_total", "References handed to another shard", &routing::ShardStats::handed_off},
      {"mxdp_shard_forwarded_total", "Recipients forwarded after moving in flight",
       &routing::ShardStats::forwarded},
      {"mxdp_shard_referred_total", "Recipients resolved to a referral", &routing::ShardStats::referred},
      {"mxdp_shard_moved_off_box_total", "Recipients resolved to moved-off-box",
       &routing::ShardStats::moved_off_box},
      {"mxdp_shard_relayed_total", "Recipients a relay confirmed", &routing::ShardStats::relayed},
      {"mxdp_shard_relay_retries_total", "Transient relay failures retried",
       &routing::ShardStats::relay_retries},
      {"mxdp_shard_bounced_total", "Recipients turned into bounce records", &routing::ShardStats::bounced},
      {"mxdp_shard_evicted_total", "Mailbox log entries evicted", &routing::ShardStats::evicted},
      {"mxdp_shard_lookups_reused_total", "Messages routed with their RCPT lookups (no second lookup)",
       &routing::ShardStats::lookups_reused},
      {"mxdp_shard_handoffs_resolved_total",
       "Hand-offs delivered with the sender's lookups (no second lookup)",
       &routing::ShardStats::handoffs_resolved},
      {"mxdp_shard_relay_bodies_copied_total",
       "Relay jobs waiting (busy target, retry) with the body copied out of the packet buffers",
       &routing::ShardStats::relay_bodies_copied},
  };
  if (m.router) {
    for (const auto& f : kFields) {
      family(f.name, "counter", f.help);
      for (std::size_t s = 0; s < m.router->shard_count(); ++s) {
        auto st = m.router->shard(routing::ShardId{static_cast<std::uint16_t>(s)}).stats();
        out += fmt::format("{}{{shard=\"{}\"}} {}\n", f.name, s, st.*(f.field));
      }
    }
    family("mxdp_shard_live_messages", "gauge", "Messages accepted on the shard and not yet released");
    for (std::size_t s = 0; s < m.router->shard_count(); ++s)
      out += fmt::format("mxdp_shard_live_messages{{shard=\"{}\"}} {}\n", s,
                         m.router->shard(routing::ShardId{static_cast<std::uint16_t>(s)}).stats().live);
  }
  std::string listener = m.config.listen;
  auto per_worker = [&](const char* name, const char* type, const char* help, auto get) {
    family(name, type, help);
    for (auto& w : m.workers) {
      std::lock_guard lock(w->snapshot_mutex);
      out +=
          fmt::format("{}{{listener=\"{}\",worker=\"{}\"}} {}\n", name, listener, w->index, get(w->snapshot));
    }
  };
  per_worker("mxdp_connections_accepted_total", "counter", "Connections accepted",
             [](const WorkerSnapshot& s) { return s.loop.accepted; });
  per_worker("mxdp_connections_open", "gauge", "Connections open (SMTP, relay and metrics)",
             [](const WorkerSnapshot& s) { return s.loop.open_connections; });
  per_worker("mxdp_smtp_commands_total", "counter", "SMTP commands of closed sessions",
             [](const WorkerSnapshot& s) { return s.sessions.commands; });
  per_worker("mxdp_smtp_messages_accepted_total", "counter", "Messages answered 250 (closed sessions)",
             [](const WorkerSnapshot& s) { return s.sessions.accepted; });
  per_worker("mxdp_smtp_messages_rejected_total", "counter", "Messages refused (closed sessions)",
             [](const WorkerSnapshot& s) { return s.sessions.rejected; });
  per_worker("mxdp_smtp_errors_total", "counter", "SMTP protocol errors (closed sessions)",
             [](const WorkerSnapshot& s) { return s.sessions.errors; });
  per_worker("mxdp_relay_jobs_total", "counter", "Relay jobs submitted",
             [](const WorkerSnapshot& s) { return s.relay.jobs; });
  per_worker("mxdp_relay_connects_total", "counter", "Relay connections opened",
             [](const WorkerSnapshot& s) { return s.relay.connects; });

  // Ingress latency (end of data -> routed), a Prometheus histogram.
  LatencyHistogram h;
  for (auto& w : m.workers) {
    std::lock_guard lock(w->snapshot_mutex);
    h.merge(w->snapshot.ingress);
  }
  family("mxdp_ingress_seconds", "summary", "Time from end of data to the router's acceptance");
  for (double q : {0.5, 0.9, 0.99, 0.999})
    out += fmt::format("mxdp_ingress_seconds{{quantile=\"{}\"}} {:.9f}\n", q,
                       static_cast<double>(h.percentile(q)) / 1e9);
  out += fmt::format("mxdp_ingress_seconds_sum {:.9f}\nmxdp_ingress_seconds_count {}\n",
                     h.mean() * static_cast<double>(h.count()) / 1e9, h.count());
  return out;
}

void Appliance::admin_tick() {
  if (impl_->directory) impl_->directory->reclaim_if_due();
}

std::string Appliance::control(std::string_view line) {
  Impl& m = *impl_;
  std::vector<std::string> w;
  for (std::size_t i = 0; i < line.size();) {
    while (i < line.size() && line[i] == ' ')
      ++i;
    std::size_t j = line.find(' ', i);
    if (j == std::string_view::npos) j = line.size();
    if (j > i) w.emplace_back(line.substr(i, j - i));
    i = j;
  }
  auto& dir = *m.directory;
  auto status = [](routing::DirectoryStatus s) -> std::string {
    switch (s) {
      case routing::DirectoryStatus::kOk:
        return "ok";
      case routing::DirectoryStatus::kFull:
        return "error: directory full";
      case routing::DirectoryStatus::kNotFound:
        return "error: no such recipient";
      case routing::DirectoryStatus::kBadAddress:
        return "error: bad address";
      case routing::DirectoryStatus::kTooManyServers:
        return "error: too many servers";
    }
    return "error";
  };
  if (w.empty()) return "error: empty command (try: counters)";
  if (w[0] == "counters" && w.size() == 1) {
    auto t = totals();
    nlohmann::ordered_json j;
    j["accepted"] = t.shards.accepted;
    j["delivered"] = t.shards.delivered;
    j["handed_off"] = t.shards.handed_off;
    j["forwarded"] = t.shards.forwarded;
    j["referred"] = t.shards.referred;
    j["moved_off_box"] = t.shards.moved_off_box;
    j["relayed"] = t.shards.relayed;
    j["relay_retries"] = t.shards.relay_retries;
    j["bounced"] = t.shards.bounced;
    j["evicted"] = t.shards.evicted;
    j["lookups_reused"] = t.shards.lookups_reused;
    j["handoffs_resolved"] = t.shards.handoffs_resolved;
    j["relay_bodies_copied"] = t.shards.relay_bodies_copied;
    j["live"] = t.shards.live;
    j["connections_accepted"] = t.connections_accepted;
    j["connections_open"] = t.connections_open;
    j["relay_jobs"] = t.relay_jobs;
    j["bodies_lent"] = t.bodies_lent;
    j["bodies_copied"] = t.bodies_copied;
    j["rcpts_deferred_relay_full"] = t.rcpts_deferred_relay_full;
    j["messages_discarded"] = t.messages_discarded;
    j["directory_entries"] = dir.size();
    return j.dump();
  }
  if (w[0] == "lookup" && w.size() == 2) {
    auto l = dir.lookup(w[1]);
    switch (l.kind) {
      case routing::Resolution::kUnknown:
        return "unknown";
      case routing::Resolution::kMailbox:
        return fmt::format("mailbox shard {} id {}", l.entry.shard.value, l.entry.mailbox.value);
      case routing::Resolution::kMovedShard:
        return fmt::format("moved shard {} id {}", l.entry.shard.value, l.entry.mailbox.value);
      case routing::Resolution::kReferral:
        return fmt::format("referral {}", dir.server_name(l.entry.server));
      case routing::Resolution::kMovedServer:
        return fmt::format("moved server {}", dir.server_name(l.entry.server));
    }
  }
  if (w[0] == "move" && w.size() == 4 && w[2] == "shard") {
    unsigned shard = 0;
    try {
      shard = static_cast<unsigned>(std::stoul(w[3]));
    } catch (...) {
      return "error: shard must be a number";
    }
    if (shard >= m.config.shards) return fmt::format("error: shard must be below {}", m.config.shards);
    auto l = dir.lookup(w[1]);
    if (!l.known()) return "error: no such recipient";
    routing::MailboxId mailbox = l.on_box() ? l.entry.mailbox : routing::MailboxId{0};
    return status(dir.upsert(
        w[1], routing::Entry::moved_to_shard(routing::ShardId{static_cast<std::uint16_t>(shard)}, mailbox)));
  }
  if (w[0] == "move" && w.size() == 4 && w[2] == "server") {
    if (!parse_server(w[3])) return "error: server must be IPv4:port";
    if (!dir.lookup(w[1]).known()) return "error: no such recipient";
    return status(dir.upsert(w[1], routing::Entry::moved_to_server(dir.intern_server(w[3]))));
  }
  if (w[0] == "referral" && w.size() == 3) {
    if (!parse_server(w[2])) return "error: server must be IPv4:port";
    return status(dir.upsert(w[1], routing::Entry::referral_to(dir.intern_server(w[2]))));
  }
  if (w[0] == "remove" && w.size() == 2) return status(dir.remove(w[1]));
  return "error: unknown command '" + std::string(line) + "' (see mxdp ctl --help)";
}

}  // namespace mxdp::cli
