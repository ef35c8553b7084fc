#include "dataplane/timer_wheel.hpp"

#include <algorithm>

namespace mxdp::dataplane {

TimerWheel::TimerWheel(TimeUs tick_us, std::uint32_t slots, TimeUs now)
    : tick_(tick_us == 0 ? 1 : tick_us), slots_(slots == 0 ? 1 : slots), next_tick_(now / tick_) {}

void TimerWheel::schedule(std::uint32_t id, TimeUs deadline) {
  // A deadline in the past lands in the next slot to be processed.
  std::uint64_t t = std::max<std::uint64_t>(deadline / tick_, next_tick_);
  slots_[t % slots_.size()].push_back(Entry{deadline, id});
  if (t == next_tick_) hold_until_ = std::min(hold_until_, deadline);
  ++size_;
}

void TimerWheel::advance(TimeUs now, std::vector<Entry>& due) {
  const std::uint64_t target = now / tick_;
  if (target < next_tick_) return;
  // Polled again within the same tick: nothing in its slot is due yet.
  if (target == next_tick_ && now < hold_until_) return;
  // After a jump longer than one rotation every slot is visited once.
  const std::uint64_t steps = std::min<std::uint64_t>(target - next_tick_ + 1, slots_.size());
  for (std::uint64_t i = 0; i < steps; ++i) {
    auto& slot = slots_[(next_tick_ + i) % slots_.size()];
    keep_.clear();
    for (const Entry& e : slot) {
      if (e.deadline <= now) {
        due.push_back(e);
        --size_;
      } else {
        keep_.push_back(e);
      }
    }
    slot.swap(keep_);
  }
  // The current tick's slot is visited again next time: it may hold entries
  // due later within this same tick (or later rotations).
  next_tick_ = target;
  hold_until_ = kNever;
  for (const Entry& e : slots_[target % slots_.size()])
    hold_until_ = std::min(hold_until_, e.deadline);
}

TimeUs TimerWheel::earliest() const noexcept {
  TimeUs best = kNever;
  for (const auto& slot : slots_) {
    for (const Entry& e : slot)
      best = std::min(best, e.deadline);
  }
  return best;
}

}  // namespace mxdp::dataplane
