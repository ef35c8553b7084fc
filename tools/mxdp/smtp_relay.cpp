#include "tools/mxdp/smtp_relay.hpp"

#include <fmt/format.h>

#include "smtp/client_session.hpp"
#include "tools/mxdp/smtp_server_connection.hpp"

namespace mxdp::cli {

using dataplane::transport::Clock;
using dataplane::transport::CloseReason;
using dataplane::transport::Connection;
using dataplane::transport::Endpoint;
using routing::RelayJob;
using routing::RelayOutcome;

namespace {
constexpr std::size_t kMaxInFlightPerConn = 16;
// Jobs waiting for a connection to a target. On DPDK a waiting job pins its
// body's packet buffers, so the queue stays short (a few times what the
// connections pipeline); beyond it submit() says busy and the router parks
// the job with its body copied out (Router::start_waiting).
constexpr std::size_t kMaxQueuedPerTarget = 512;
constexpr auto kIdleClose = std::chrono::seconds(30);
}  // namespace

std::optional<Endpoint> parse_server(std::string_view name) {
  std::string text(name);
  if (!text.empty() && text.front() == '[') {  // RFC 5321 §4.1.3 address literal
    auto close = text.find(']');
    if (close == std::string::npos) return std::nullopt;
    std::string rest = text.substr(close + 1);
    text = text.substr(1, close - 1) + (rest.empty() ? ":25" : rest);
  } else if (text.find(':') == std::string::npos) {
    text += ":25";
  }
  return Endpoint::parse(text);
}

// One client connection of a pool: an SMTP client session pipelining jobs.
class SmtpRelay::Conn : public dataplane::transport::ConnectionHandler, public smtp::ClientObserver {
 public:
  Conn(SmtpRelay& relay, Pool& pool, const smtp::ClientConfig& config)
      : relay_(&relay), pool_(&pool), session_(config, *this), slots_(config.max_queued) {}

  bool has_room() const noexcept { return !closing_ && busy_ < slots_.size(); }
  void detach() noexcept { relay_ = nullptr; }

  // Takes a job; the slot holds its reference until the result.
  bool send(RelayJob&& job) noexcept {
    std::size_t i = 0;
    while (slots_[i].busy)
      ++i;
    Slot& s = slots_[i];
    const routing::Message& m = *job.msg;
    s.rcpts.clear();
    for (std::uint32_t r : job.rcpts)
      s.rcpts.push_back(m.envelope().recipient(r));
    s.body.clear();
    for (const auto& seg : m.body().segments())
      s.body.emplace_back(reinterpret_cast<const char*>(seg.data), seg.size);
    smtp::OutgoingMessage out;
    out.reverse_path = m.envelope().reverse_path();
    out.recipients = s.rcpts;
    out.body = s.body;
    out.eight_bit = true;  // the body is passed on as it arrived
    out.cookie = i;
    if (!session_.submit(out)) return false;
    s.job = std::move(job);
    s.busy = true;
    ++busy_;
    idle_until_ = Clock::now() + kIdleClose;
    pump();
    return true;
  }

  void on_connected(Connection& c) noexcept override {
    conn_ = &c;
    pump();
  }
  std::size_t on_input(Connection& c, std::string_view bytes) noexcept override {
    conn_ = &c;
    session_.feed(bytes);
    idle_until_ = Clock::now() + kIdleClose;
    pump();
    if (relay_ && pool_) relay_->kick(*pool_);
    return bytes.size();
  }
  bool on_deadline(Connection&) noexcept override {
    // RFC 5321 §4.5.3.2 reply timeouts: a server that owes a reply for too
    // long fails every job in flight (transient: the router retries).
    session_.on_tick(smtp_deadline_now());
    if (busy_ == 0 && Clock::now() >= idle_until_ && !closing_) {
      closing_ = true;  // idle: say goodbye, the pool opens a new one when needed
      session_.quit();
    }
    pump();
    return true;
  }
  void on_closed(Connection&, CloseReason) noexcept override {
    conn_ = nullptr;
    closing_ = true;
    session_.connection_lost();  // every job in flight reports kNotSent
    if (relay_ && pool_) relay_->conn_closed(*pool_, this);
  }

  // smtp::ClientObserver
  void on_result(const smtp::MessageResult& r) noexcept override {
    Slot& s = slots_[r.cookie];
    if (!s.busy) return;
    s.busy = false;
    --busy_;
    RelayJob job = std::move(s.job);
    if (!relay_) return;  // shutting down: the reference is simply dropped
    std::string diag = r.code ? fmt::format("{} {} {}", r.code, r.enhanced, r.text) : "connection lost";
    switch (r.outcome) {
      case smtp::Outcome::kAccepted: {
        if (r.accepted_recipients == job.rcpts.size()) {
          relay_->finish(std::move(job), RelayOutcome::kDelivered, diag);
          break;
        }
        // Some recipients were refused: split the job by outcome. Each part
        // needs its own reference (an explicit clone, never a copied pointer).
        RelayJob temp{job.msg.clone(), {}, job.server, job.origin, job.reason, job.attempt};
        RelayJob perm{job.msg.clone(), {}, job.server, job.origin, job.reason, job.attempt};
        std::vector<std::uint32_t> ok;
        for (std::size_t k = 0; k < job.rcpts.size(); ++k) {
          std::uint16_t code = k < r.recipient_codes.size() ? r.recipient_codes[k] : 0;
          if (code >= 200 && code < 300)
            ok.push_back(job.rcpts[k]);
          else if (code >= 500)
            perm.rcpts.push_back(job.rcpts[k]);
          else
            temp.rcpts.push_back(job.rcpts[k]);
        }
        job.rcpts = std::move(ok);
        // One job became several completions: each is reported exactly once.
        relay_->outstanding_ +=
            (temp.rcpts.empty() ? 0 : 1) + (perm.rcpts.empty() ? 0 : 1) + (job.rcpts.empty() ? 0 : 1) - 1;
        if (!temp.rcpts.empty()) relay_->finish(std::move(temp), RelayOutcome::kTransientFailure, diag);
        if (!perm.rcpts.empty()) relay_->finish(std::move(perm), RelayOutcome::kPermanentFailure, diag);
        if (!job.rcpts.empty()) relay_->finish(std::move(job), RelayOutcome::kDelivered, diag);
        break;
      }
      case smtp::Outcome::kPermFailed:
        relay_->finish(std::move(job), RelayOutcome::kPermanentFailure, diag);
        break;
      case smtp::Outcome::kTempFailed:
      case smtp::Outcome::kNotSent:
        relay_->finish(std::move(job), RelayOutcome::kTransientFailure, diag);
        break;
    }
  }

 private:
  struct Slot {
    bool busy = false;
    RelayJob job;
    std::vector<std::string_view> rcpts;
    std::vector<std::string_view> body;
  };
  void pump() noexcept {
    if (!conn_) return;
    auto out = session_.output();
    if (!out.empty()) {
      conn_->write(out);
      session_.consume_output(out.size());
    }
    if (session_.wants_close())
      conn_->close();
    else
      conn_->set_deadline(Clock::now() + kIdleClose);
  }

  SmtpRelay* relay_;
  Pool* pool_;
  smtp::ClientSession session_;
  Connection* conn_ = nullptr;
  std::vector<Slot> slots_;
  std::size_t busy_ = 0;
  bool closing_ = false;
  Clock::time_point idle_until_ = Clock::now() + kIdleClose;
};

SmtpRelay::SmtpRelay(dataplane::transport::EventLoop& loop, const routing::Directory& directory,
                     RelayConfig config, std::string helo_name)
    : loop_(loop), directory_(directory), config_(config), helo_(std::move(helo_name)) {}

SmtpRelay::~SmtpRelay() {
  for (auto& [id, pool] : pools_)
    for (Conn* c : pool->conns)
      c->detach();
}

bool SmtpRelay::submit(RelayJob& job) noexcept {
  auto it = pools_.find(job.server.value);
  if (it == pools_.end()) {
    auto target = parse_server(directory_.server_name(job.server));
    if (!target) {
      // No way to reach it: a permanent failure (a bounce), reported through
      // the completion path like any other outcome.
      ++outstanding_;
      ++counters_.jobs;
      finish(std::move(job), RelayOutcome::kPermanentFailure,
             "550 5.4.4 unroutable relay target '" + std::string(directory_.server_name(job.server)) + "'");
      return true;
    }
    auto pool = std::make_unique<Pool>();
    pool->target = *target;
    it = pools_.emplace(job.server.value, std::move(pool)).first;
  }
  Pool& pool = *it->second;
  if (pool.queue.size() >= kMaxQueuedPerTarget) {
    ++counters_.busy;
    return false;
  }
  ++outstanding_;
  ++counters_.jobs;
  pool.queue.push_back(std::move(job));
  kick(pool);
  return true;
}

void SmtpRelay::kick(Pool& pool) noexcept {
  for (Conn* c : pool.conns) {
    while (!pool.queue.empty() && c->has_room()) {
      if (!c->send(std::move(pool.queue.front()))) break;
      pool.queue.pop_front();
    }
  }
  while (!pool.queue.empty() && pool.conns.size() < config_.connections_per_target) {
    smtp::ClientConfig cc;
    cc.helo_name = helo_;
    cc.max_in_flight = kMaxInFlightPerConn;
    cc.max_queued = kMaxInFlightPerConn;
    auto conn = std::make_unique<Conn>(*this, pool, cc);
    Conn* raw = conn.get();
    pool.conns.push_back(raw);
    ++counters_.connects;
    loop_.connect(pool.target, std::move(conn));
    // connect() may already have failed and removed the connection.
    if (std::find(pool.conns.begin(), pool.conns.end(), raw) == pool.conns.end()) break;
    while (!pool.queue.empty() && raw->has_room()) {
      if (!raw->send(std::move(pool.queue.front()))) break;
      pool.queue.pop_front();
    }
  }
}

void SmtpRelay::conn_closed(Pool& pool, Conn* conn) noexcept {
  std::erase(pool.conns, conn);
  // Jobs still queued get a fresh connection; the router's backoff paces
  // retries of the ones that just failed.
  if (!pool.queue.empty()) loop_.run_after(std::chrono::milliseconds(50), [this, p = &pool] { kick(*p); });
}

void SmtpRelay::finish(RelayJob&& job, RelayOutcome outcome, std::string diagnostic) noexcept {
  --outstanding_;
  switch (outcome) {
    case RelayOutcome::kDelivered:
      ++counters_.delivered;
      break;
    case RelayOutcome::kTransientFailure:
      ++counters_.transient;
      break;
    case RelayOutcome::kPermanentFailure:
      ++counters_.permanent;
      break;
  }
  routing::RelayCompletion c{std::move(job), outcome, std::move(diagnostic)};
  if (!unsent_.empty() || !sink_ || !sink_->complete(c)) unsent_.push_back(std::move(c));
}

bool SmtpRelay::poll() noexcept {
  bool work = false;
  while (!unsent_.empty() && sink_ && sink_->complete(unsent_.front())) {
    unsent_.pop_front();
    work = true;
  }
  return work;
}

void SmtpRelay::abandon_queued() noexcept {
  for (auto& [id, pool] : pools_) {
    while (!pool->queue.empty()) {
      RelayJob job = std::move(pool->queue.front());
      pool->queue.pop_front();
      finish(std::move(job), RelayOutcome::kTransientFailure, "421 4.3.2 relay shutting down");
    }
  }
}

}  // namespace mxdp::cli
