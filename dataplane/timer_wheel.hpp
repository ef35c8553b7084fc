#pragma once
// A hashed timer wheel (Varghese & Lauck) for one lcore: O(1) schedule and
// cancel, firing cost proportional to the entries in the slots passed. Each id
// (a TCB slot) has at most one entry, a node preallocated at construction and
// linked into its slot's list, so scheduling never allocates: scheduling an id
// again moves its node. Entries further away than one rotation stay in their
// slot and are skipped until their deadline is reached.

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

  // tick_us: resolution; slots: entries are hashed by deadline/tick mod slots;
  // ids: the ids are 0 .. ids-1.
  TimerWheel(TimeUs tick_us, std::uint32_t slots, std::uint32_t ids, TimeUs now);

  // Sets id's deadline, replacing the one it had (or taking it off the due list).
  void schedule(std::uint32_t id, TimeUs deadline) noexcept;
  void cancel(std::uint32_t id) noexcept;

  // Moves time forward to `now`: every entry with deadline <= now goes to the
  // due list (in slot order, not strictly by deadline), for pop_due().
  void advance(TimeUs now) noexcept;
  // Takes the next due entry; false when none is left. Scheduling or
  // cancelling an id that is still on the due list takes it off.
  bool pop_due(Entry& out) noexcept;
  // advance() and every pop_due() appended to `due` (for tests).
  void advance(TimeUs now, std::vector<Entry>& due);

  // The earliest deadline of any entry (kNever when empty). O(slots + entries):
  // for idle-time jumps in simulations, not for the packet path.
  TimeUs earliest() const noexcept;

  // Entries scheduled or due and not yet popped.
  std::size_t size() const noexcept { return size_; }

 private:
  static constexpr std::uint32_t kNil = UINT32_MAX;
  static constexpr std::uint32_t kNowhere = UINT32_MAX;  // Node::list: not linked
  struct Node {
    TimeUs deadline = 0;
    std::uint32_t prev = kNil, next = kNil;
    std::uint32_t list = kNowhere;  // slot index, or due_list()
  };
  struct List {
    std::uint32_t head = kNil, tail = kNil;
  };
  std::uint32_t due_list() const noexcept { return static_cast<std::uint32_t>(slots_.size()); }
  List& list(std::uint32_t l) noexcept { return l == due_list() ? due_ : slots_[l]; }
  void link(std::uint32_t id, std::uint32_t l) noexcept;
  void unlink(std::uint32_t id) noexcept;

  TimeUs tick_;
  std::vector<List> slots_;
  std::vector<Node> nodes_;
  List due_;
  std::uint64_t next_tick_;  // the next tick number advance() will process
  TimeUs hold_until_ = 0;    // the earliest deadline in next_tick_'s slot
  std::size_t size_ = 0;
};

}  // namespace mxdp::dataplane
