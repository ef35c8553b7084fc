#include "dataplane/timer_wheel.hpp"

#include <algorithm>

namespace mxdp::dataplane {

TimerWheel::TimerWheel(TimeUs tick_us, std::uint32_t slots, std::uint32_t ids, TimeUs now)
    : tick_(tick_us == 0 ? 1 : tick_us),
      slots_(slots == 0 ? 1 : slots),
      nodes_(ids),
      next_tick_(now / tick_) {}

void TimerWheel::link(std::uint32_t id, std::uint32_t l) noexcept {
  // At the tail: entries of one slot fire in the order they were scheduled.
  List& li = list(l);
  Node& n = nodes_[id];
  n.list = l;
  n.prev = li.tail;
  n.next = kNil;
  if (li.tail == kNil) {
    li.head = id;
  } else {
    nodes_[li.tail].next = id;
  }
  li.tail = id;
  ++size_;
}

void TimerWheel::unlink(std::uint32_t id) noexcept {
  Node& n = nodes_[id];
  if (n.list == kNowhere) return;
  List& li = list(n.list);
  if (n.prev == kNil) {
    li.head = n.next;
  } else {
    nodes_[n.prev].next = n.next;
  }
  if (n.next == kNil) {
    li.tail = n.prev;
  } else {
    nodes_[n.next].prev = n.prev;
  }
  n.list = kNowhere;
  n.prev = n.next = kNil;
  --size_;
}

void TimerWheel::schedule(std::uint32_t id, TimeUs deadline) noexcept {
  if (id >= nodes_.size()) return;
  unlink(id);
  // A deadline in the past lands in the next slot to be processed.
  const std::uint64_t t = std::max<std::uint64_t>(deadline / tick_, next_tick_);
  nodes_[id].deadline = deadline;
  link(id, static_cast<std::uint32_t>(t % slots_.size()));
  if (t == next_tick_) hold_until_ = std::min(hold_until_, deadline);
}

void TimerWheel::cancel(std::uint32_t id) noexcept {
  if (id < nodes_.size()) unlink(id);
}

void TimerWheel::advance(TimeUs now) noexcept {
  const std::uint64_t target = now / tick_;
  if (target < next_tick_) return;
  // Polled again within the same tick: nothing in its slot is due yet.
  if (target == next_tick_ && now < hold_until_) return;
  // After a jump longer than one rotation every slot is visited once.
  const std::uint64_t steps = std::min<std::uint64_t>(target - next_tick_ + 1, slots_.size());
  for (std::uint64_t i = 0; i < steps; ++i) {
    const auto s = static_cast<std::uint32_t>((next_tick_ + i) % slots_.size());
    for (std::uint32_t id = slots_[s].head; id != kNil;) {
      const std::uint32_t next = nodes_[id].next;
      if (nodes_[id].deadline <= now) {
        unlink(id);
        link(id, due_list());
      }
      id = next;
    }
  }
  // The current tick's slot is visited again next time: it may hold entries
  // due later within this same tick (or later rotations).
  next_tick_ = target;
  hold_until_ = kNever;
  for (std::uint32_t id = slots_[target % slots_.size()].head; id != kNil; id = nodes_[id].next)
    hold_until_ = std::min(hold_until_, nodes_[id].deadline);
}

bool TimerWheel::pop_due(Entry& out) noexcept {
  const std::uint32_t id = due_.head;
  if (id == kNil) return false;
  out = Entry{nodes_[id].deadline, id};
  unlink(id);
  return true;
}

void TimerWheel::advance(TimeUs now, std::vector<Entry>& due) {
  advance(now);
  Entry e;
  while (pop_due(e))
    due.push_back(e);
}

TimeUs TimerWheel::earliest() const noexcept {
  TimeUs best = kNever;
  for (const List& l : slots_) {
    for (std::uint32_t id = l.head; id != kNil; id = nodes_[id].next)
      best = std::min(best, nodes_[id].deadline);
  }
  for (std::uint32_t id = due_.head; id != kNil; id = nodes_[id].next)
    best = std::min(best, nodes_[id].deadline);
  return best;
}

}  // namespace mxdp::dataplane
