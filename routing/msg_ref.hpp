#pragma once
// MsgRef: the only way to hold, hand over or share a Message.
//
// Move-only. Handing a message to a ring, a shard, a relay or a log either
// moves the handle (the reference goes along) or takes an explicit clone()
// (a new reference). There is no copy constructor, so the classic bug
// (a referral path that forgets to count its reference) does not compile.
//
// On the message's owner thread clone() and release are a plain increment and
// decrement; elsewhere they cost one atomic operation (biased_count.hpp).

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <utility>

#include "routing/message.hpp"
#include "routing/owner.hpp"

namespace mxdp::routing {

class MsgRef {
 public:
  MsgRef() noexcept = default;
  MsgRef(MsgRef&& other) noexcept : msg_(std::exchange(other.msg_, nullptr)) {}
  MsgRef& operator=(MsgRef&& other) noexcept {
    if (this != &other) {
      reset();
      msg_ = std::exchange(other.msg_, nullptr);
    }
    return *this;
  }
  MsgRef(const MsgRef&) = delete;
  MsgRef& operator=(const MsgRef&) = delete;
  ~MsgRef() { reset(); }

  // A new reference to the same message. Precondition: *this is not empty.
  [[nodiscard]] MsgRef clone() const noexcept {
    msg_->check_alive();
    if (msg_->owner_ == Owner::current()) {
      msg_->count_.owner_clone();
    } else {
      msg_->count_.remote_clone();
    }
    return MsgRef(msg_);
  }

  // Drops this reference; the last one anywhere frees the message.
  void reset() noexcept {
    Message* m = std::exchange(msg_, nullptr);
    if (m == nullptr) return;
    m->check_alive();
    const ReleaseResult r =
        m->owner_ == Owner::current() ? m->count_.owner_release() : m->count_.remote_release();
    if (r == ReleaseResult::kFree) {
      Message::destroy(m);
    } else if (r == ReleaseResult::kQueueForMerge) {
      m->owner_->push_merge(m);
    }
  }

  explicit operator bool() const noexcept { return msg_ != nullptr; }
  const Message& operator*() const noexcept { return *msg_; }
  const Message* operator->() const noexcept { return msg_; }
  bool same_message(const MsgRef& other) const noexcept { return msg_ == other.msg_; }

 private:
  friend MsgRef make_message(MessageId, Envelope&&, Body&&, std::atomic<std::int64_t>*);
  friend struct FaultInjection;
  explicit MsgRef(Message* adopted) noexcept : msg_(adopted) {}
  Message* msg_ = nullptr;
};

// Creates a message owned by the calling thread's Owner (an OwnerScope must be
// active: a start-up error otherwise, reported by abort with a message).
// `live`, if given, is incremented now and decremented when the message is
// destroyed (the ingress shard's "live messages" counter).
MsgRef make_message(MessageId id, Envelope&& envelope, Body&& body,
                    std::atomic<std::int64_t>* live = nullptr);

// For a reference that will be held long (a relay job waiting minutes for a
// retry, or for a target that cannot take it): a reference to a copy of `msg`
// whose body is one owned buffer, so the wait pins none of the lender's
// buffers. A lent body holds packet buffers of the receive pool; a few
// thousand jobs waiting on a dead relay target would otherwise hold the whole
// pool, and the appliance could receive nothing more. The copy has the same
// id, envelope and live counter; a message whose body is already owned is
// cloned instead. Allocates; on a thread with an Owner, like make_message.
MsgRef with_owned_body(const MsgRef& msg);

// Test-only fault injection: a MsgRef that does NOT count a reference, the
// exact mistake this layer exists to rule out. Only debug builds have it; the
// router uses it when RouterConfig::fault_skip_referral_clone is set, so a test
// can prove the stress test catches the bug.
struct FaultInjection {
#ifdef MXDP_DEBUG_COUNTERS
  static MsgRef alias_without_reference(const MsgRef& ref) noexcept {
    return MsgRef(ref.msg_);
  }
#endif
};

}  // namespace mxdp::routing
