#pragma once
// A hashed timer wheel (Varghese & Lauck) for one lcore: O(1) schedule, firing
// cost proportional to the entries in the slots passed. Cancellation is lazy:
// the owner of an id keeps the deadline it last scheduled and ignores a firing
// whose deadline does not match (tcp.cpp), so rearming a timer on every ACK
// needs no search. Entries further away than one rotation stay in their slot
// and are skipped until their deadline is reached.

#include <cstdint>
#include <vector>

#include "dataplane/time.hpp"

namespace mxdp::dataplane {

class TimerWheel {
 public:
  struct Entry {
    TimeUs deadline;
    std::uint32_t id;
  };

  // tick_us: resolution; slots: entries are hashed by deadline/tick mod slots.
  TimerWheel(TimeUs tick_us, std::uint32_t slots, TimeUs now);

  void schedule(std::uint32_t id, TimeUs deadline);

  // Moves time forward to `now` and appends every entry with deadline <= now
  // to `due` (order by slot, not strictly by deadline).
  void advance(TimeUs now, std::vector<Entry>& due);

  // The earliest deadline of any entry (kNever when empty). O(slots + entries):
  // for idle-time jumps in simulations, not for the packet path.
  TimeUs earliest() const noexcept;

  std::size_t size() const noexcept { return size_; }

 private:
  TimeUs tick_;
  std::vector<std::vector<Entry>> slots_;
  std::uint64_t next_tick_;  // the next tick number advance() will process
  TimeUs hold_until_ = 0;    // the earliest deadline in next_tick_'s slot
  std::size_t size_ = 0;
  std::vector<Entry> keep_;  // scratch
};

}  // namespace mxdp::dataplane
