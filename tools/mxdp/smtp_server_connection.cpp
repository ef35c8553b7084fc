#include "tools/mxdp/smtp_server_connection.hpp"

#include <time.h>

namespace mxdp::cli {

using dataplane::transport::Clock;
using dataplane::transport::Connection;

smtp::Time smtp_now() noexcept {
  // The coarse monotonic clock (the last timer tick, a few ms old at most,
  // and a fraction of the cost of a precise read): it runs once per read, and
  // sessions only time out idle and slow clients, in seconds. Same epoch as
  // the steady clock (CLOCK_MONOTONIC), never ahead of it: a deadline built on
  // it comes due at most a tick early.
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::chrono::duration_cast<smtp::Time>(std::chrono::seconds(ts.tv_sec) +
                                                std::chrono::nanoseconds(ts.tv_nsec));
}

smtp::Time smtp_deadline_now() noexcept {
  // The loop's own clock, precise: when the loop finds a deadline passed, the
  // session must find it passed too. On the coarse clock, a few ms behind, it
  // would not; the deadline would stay where it was, and the loop closes a
  // connection whose handler set no later deadline with a reset (kTimeout),
  // so the client got no 421 (serve_peers test_09, seen once in CI).
  return std::chrono::duration_cast<smtp::Time>(Clock::now().time_since_epoch());
}

Clock::time_point clock_from_smtp(smtp::Time t) noexcept {
  if (t >= smtp::Time::max() / 2) return Clock::time_point::max();
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(t));
}

SmtpServerConnection::SmtpServerConnection(const smtp::ServerConfig& config, smtp::MessageSink& sink)
    : session_(config, sink) {}

void SmtpServerConnection::start(Connection& c) noexcept {
  session_.start(smtp_now());
  pump(c);
}

std::size_t SmtpServerConnection::on_input(Connection& c, std::string_view bytes) noexcept {
  // The session may keep views into this input past this call (a body that
  // spans several reads), so what it still needs afterwards is kept until
  // retain_from() passes it: a lease on the transport's buffer when it lends
  // them, taken only if the session still needs the bytes once feed()
  // returns (most reads are done with by then, and the buffer is alive until
  // this call returns); else a copy made up front.
  const std::uint64_t seq = session_.feed_seq();
  std::size_t used = 0;
  if (c.can_lease_input()) {
    leasable_ = &c;
    leasable_seq_ = seq;
    used = session_.feed(bytes, smtp_now());
    leasable_ = nullptr;
    drop_released();
    if (session_.retain_from() <= seq) retained_.push_back(Chunk{seq, {}, c.lease_input()});
  } else {
    retained_.push_back(Chunk{seq, std::string(bytes), {}});
    used = session_.feed(retained_.back().bytes, smtp_now());
    drop_released();
  }
  pump(c);
  return used;
}

void SmtpServerConnection::drop_released() noexcept {
  while (!retained_.empty() && retained_.front().seq < session_.retain_from())
    retained_.pop_front();
}

bool SmtpServerConnection::lease_feeds(std::uint64_t first, std::uint64_t last,
                                       std::vector<dataplane::transport::InputLease>& out) const {
  for (const Chunk& chunk : retained_) {
    if (chunk.seq < first || chunk.seq > last) continue;
    if (!chunk.lease) return false;
    out.push_back(chunk.lease.clone());
  }
  // The input being fed now (the newest feed, so after every kept chunk).
  if (leasable_ != nullptr && leasable_seq_ >= first && leasable_seq_ <= last) {
    auto lease = leasable_->lease_input();
    if (!lease) return false;
    out.push_back(std::move(lease));
  }
  return !out.empty();
}

bool SmtpServerConnection::on_deadline(Connection& c) noexcept {
  session_.on_tick(smtp_deadline_now());
  pump(c);
  return true;
}

void SmtpServerConnection::on_drained(Connection& c) noexcept {
  // Output room came back: a session that waited for it may take input again.
  if (session_.wants_input() && c.reading_paused()) c.resume_reading();
}

bool SmtpServerConnection::shut_down(Connection& c) noexcept {
  session_.shutdown();  // 421 4.3.2 (after a pending sink answer), then close
  pump(c);
  return true;
}

void SmtpServerConnection::pump(Connection& c) noexcept {
  auto out = session_.output();
  if (!out.empty()) {
    c.write(out);
    session_.consume_output(out.size());
  }
  if (session_.wants_close()) {
    c.close();
    return;
  }
  if (!session_.wants_input()) {
    c.pause_reading();
  } else if (c.reading_paused()) {
    c.resume_reading();
  }
  c.set_deadline(clock_from_smtp(session_.deadline()));
}

}  // namespace mxdp::cli
