#pragma once
// What one shard hands another: a reference to the message, the recipients it
// is for, and the mailbox the sender's lookup found for each, with the
// directory epoch read before that lookup. While the directory is still at
// that epoch no change has completed since (Directory::epoch()), so the
// receiving shard delivers with these resolutions instead of looking every
// recipient up a second time; otherwise it resolves them again (a recipient
// that moved in flight is forwarded).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "routing/ids.hpp"
#include "routing/msg_ref.hpp"

namespace mxdp::routing {

struct HandedRcpt {
  std::uint32_t rcpt = 0;  // index into the envelope's recipients
  MailboxId mailbox{};     // where the sender's resolution put it on the receiving shard
};

// The recipients of one hand-off: inline up to kInline (a message with a few
// recipients crosses shards without an allocation), on the heap beyond.
class HandedRcpts {
 public:
  static constexpr std::size_t kInline = 4;

  void push_back(HandedRcpt r) {
    if (heap_.empty() && size_ < kInline) {
      inline_[size_++] = r;
      return;
    }
    if (heap_.empty()) heap_.assign(inline_.begin(), inline_.begin() + size_);
    heap_.push_back(r);
    ++size_;
  }
  void clear() noexcept {
    size_ = 0;
    heap_.clear();
  }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  std::span<const HandedRcpt> items() const noexcept {
    return heap_.empty() ? std::span<const HandedRcpt>(inline_.data(), size_)
                         : std::span<const HandedRcpt>(heap_);
  }

 private:
  std::array<HandedRcpt, kInline> inline_{};
  std::uint32_t size_ = 0;
  std::vector<HandedRcpt> heap_;  // all of them once there are more than kInline
};

// One reference per destination shard, with the recipients it is for.
struct Handoff {
  MsgRef msg;
  HandedRcpts rcpts;
  std::uint64_t epoch = 0;  // Directory::epoch() read before the resolutions in `rcpts`
  std::uint8_t hops = 0;    // shard-to-shard hand-offs so far (loop bound)
};

}  // namespace mxdp::routing
