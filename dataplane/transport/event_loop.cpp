#include "dataplane/transport/event_loop.hpp"

#include <algorithm>

namespace mxdp::dataplane::transport {

void EventLoop::run_after(std::chrono::milliseconds delay, std::function<void()> fn) {
  timers_.push_back(Timer{Clock::now() + delay, std::move(fn)});
}

void EventLoop::post(std::function<void()> fn) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(fn));
    have_posted_.store(true, std::memory_order_release);
  }
  wake();
}

void EventLoop::run() {
  while (run_once(std::chrono::milliseconds(50))) {
  }
}

void EventLoop::stop() noexcept {
  stop_.store(true, std::memory_order_release);
  wake();
}

bool EventLoop::run_pollers() {
  bool busy = false;
  for (auto& p : pollers_)
    busy |= p();
  return busy;
}

bool EventLoop::run_timers(Clock::time_point now) {
  bool ran = false;
  for (std::size_t i = 0; i < timers_.size();) {
    if (timers_[i].due <= now) {
      auto fn = std::move(timers_[i].fn);
      timers_[i] = std::move(timers_.back());
      timers_.pop_back();
      fn();
      ran = true;
    } else {
      ++i;
    }
  }
  return ran;
}

bool EventLoop::run_posted() {
  if (!have_posted_.load(std::memory_order_acquire)) return false;
  std::vector<std::function<void()>> posted;
  {
    std::lock_guard lock(posted_mutex_);
    posted.swap(posted_);
    have_posted_.store(false, std::memory_order_relaxed);
  }
  for (auto& fn : posted)
    fn();
  return !posted.empty();
}

std::chrono::milliseconds EventLoop::idle_wait(Clock::time_point now,
                                               std::chrono::milliseconds max_wait) const {
  using std::chrono::milliseconds;
  auto wait = max_wait;
  for (const Timer& t : timers_)
    wait = std::clamp(std::chrono::duration_cast<milliseconds>(t.due - now), milliseconds(0), wait);
  return std::clamp(std::chrono::duration_cast<milliseconds>(next_scan_ - now), milliseconds(0), wait);
}

void EventLoop::scan_deadlines_if_due(Clock::time_point now) noexcept {
  if (now < next_scan_) return;
  next_scan_ = now + options_.deadline_scan_interval;
  constexpr auto kGoodbyeGrace = std::chrono::seconds(5);
  for_each_connection([&](Connection& c) {
    if (c.closed() || c.deadline() > now) return;
    // A closing connection whose deadline passed has had its grace period.
    if (c.closing() || !c.handler() || !c.handler()->on_deadline(c)) {
      close_now(c, CloseReason::kTimeout);
    } else if (c.closing()) {
      // The handler said goodbye: a peer that never reads it must not hold
      // the connection forever.
      c.set_deadline(now + kGoodbyeGrace);
    } else if (c.deadline() <= now) {
      close_now(c, CloseReason::kTimeout);  // handled, but no new deadline
    }
  });
}

}  // namespace mxdp::dataplane::transport
