#include "routing/owner.hpp"

#include <cstdio>
#include <cstdlib>

#include "routing/message.hpp"

namespace mxdp::routing {

Owner::~Owner() {
  if (merge_head_.load(std::memory_order_acquire) != nullptr) {
    std::fprintf(stderr, "mxdp routing: Owner destroyed with messages waiting to be merged (leak)\n");
    std::abort();
  }
}

void Owner::push_merge(Message* msg) noexcept {
  Message* head = merge_head_.load(std::memory_order_relaxed);
  do {
    msg->merge_next_ = head;
    // Release: the link (and this thread's uses of the message) are visible to
    // the owner that takes the stack with an acquire exchange.
  } while (
      !merge_head_.compare_exchange_weak(head, msg, std::memory_order_release, std::memory_order_relaxed));
}

std::size_t Owner::merge_pending() noexcept {
  // Relaxed pre-check keeps an idle poll to one plain load.
  if (merge_head_.load(std::memory_order_relaxed) == nullptr) return 0;
  // Acquire: pairs with the release CAS in push_merge().
  Message* m = merge_head_.exchange(nullptr, std::memory_order_acquire);
  std::size_t n = 0;
  while (m != nullptr) {
    Message* next = m->merge_next_;
    if (m->count_.merge()) Message::destroy(m);
    m = next;
    ++n;
  }
  return n;
}

OwnerScope::OwnerScope(Owner& owner) noexcept : owner_(&owner), previous_(Owner::tls_current_) {
  // acq_rel: a thread adopting an Owner after its previous thread unbound it
  // sees that thread's owner-side (non-atomic) counts.
  if (owner.bound_.exchange(true, std::memory_order_acq_rel)) {
    std::fprintf(stderr, "mxdp routing: an Owner is bound to two threads at once\n");
    std::abort();
  }
  Owner::tls_current_ = owner_;
}

OwnerScope::~OwnerScope() {
  Owner::tls_current_ = previous_;
  owner_->bound_.store(false, std::memory_order_release);
}

}  // namespace mxdp::routing
