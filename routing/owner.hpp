#pragma once
// The owner side of owner-biased reference counting: one Owner per thread that
// creates messages (an lcore, or a std::thread standing in for one). Messages
// remember their Owner; a MsgRef operation on the thread the Owner is bound to
// takes the non-atomic path, anywhere else the atomic one.
//
// The Owner also holds the merge queue of biased_count.hpp: remote threads push
// messages whose shared count went negative, the owner merges them at its next
// poll (merge_pending()). Pushing is a lock-free intrusive stack (one CAS);
// the owner takes the whole stack with one exchange, so there is no ABA.
//
// Lifetime contract: an Owner outlives every message it created (the router's
// shutdown_drain() merges and frees them before the Owners go away).

#include <atomic>
#include <cstddef>

namespace mxdp::routing {

class Message;

class Owner {
 public:
  Owner() noexcept = default;
  ~Owner();
  Owner(const Owner&) = delete;
  Owner& operator=(const Owner&) = delete;

  // The Owner bound to the calling thread, or nullptr.
  static Owner* current() noexcept { return tls_current_; }

  // Owner thread: merges every queued message, frees those with no reference
  // left. Returns the number of messages merged.
  std::size_t merge_pending() noexcept;

  // Any thread: hand a message to this owner for merging.
  void push_merge(Message* msg) noexcept;

  // True if messages wait for merge_pending() (racy; for quiescence loops).
  bool has_pending() const noexcept { return merge_head_.load(std::memory_order_acquire) != nullptr; }

 private:
  friend class OwnerScope;
  // Constant-initialised and defined inline, so an access is one %fs-relative
  // load (no TLS init wrapper call): it sits on every clone and release.
  static inline thread_local constinit Owner* tls_current_ = nullptr;
  std::atomic<Message*> merge_head_{nullptr};
  std::atomic<bool> bound_{false};
};

// Binds an Owner to the calling thread for the scope's lifetime. An Owner is
// bound to at most one thread at a time (checked); a thread may adopt an Owner
// whose thread has exited (joined), which is how shutdown drains messages.
class OwnerScope {
 public:
  explicit OwnerScope(Owner& owner) noexcept;
  ~OwnerScope();
  OwnerScope(const OwnerScope&) = delete;
  OwnerScope& operator=(const OwnerScope&) = delete;

 private:
  Owner* owner_;
  Owner* previous_;
};

}  // namespace mxdp::routing
