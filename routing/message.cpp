#include "routing/message.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <utility>

#include "routing/msg_ref.hpp"
#include "routing/owner.hpp"

#ifdef MXDP_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

namespace mxdp::routing {

namespace {
#ifdef MXDP_DEBUG_COUNTERS
// Relaxed: pure event counts, read at quiescence after the threads joined.
std::atomic<std::uint64_t> g_constructed{0};
std::atomic<std::uint64_t> g_destroyed{0};
#endif
}  // namespace

namespace debug {
std::uint64_t messages_constructed() noexcept {
#ifdef MXDP_DEBUG_COUNTERS
  return g_constructed.load(std::memory_order_relaxed);
#else
  return 0;
#endif
}
std::uint64_t messages_destroyed() noexcept {
#ifdef MXDP_DEBUG_COUNTERS
  return g_destroyed.load(std::memory_order_relaxed);
#else
  return 0;
#endif
}
}  // namespace debug

// ---- Envelope -----------------------------------------------------------

Envelope::Envelope(std::string_view reverse_path, std::span<const std::string_view> recipients) {
  build(reverse_path, recipients);
}

Envelope::Envelope(std::string_view reverse_path, std::span<const std::string> recipients) {
  build(reverse_path, recipients);
}

template <typename Text>
void Envelope::build(std::string_view reverse_path, std::span<const Text> recipients) {
  const std::size_t header = 4 * (recipients.size() + 2);
  std::size_t total = header + reverse_path.size();
  for (const Text& r : recipients)
    total += r.size();
  text_.resize(total);
  char* p = text_.data();
  auto put_word = [p](std::size_t k, std::size_t v) {
    const auto w = static_cast<std::uint32_t>(v);
    std::memcpy(p + 4 * k, &w, sizeof w);
  };
  put_word(0, recipients.size());
  char* out = p + header;
  // (memcpy is never given a null source, even for nothing: the null path "<>" is empty.)
  if (!reverse_path.empty()) std::memcpy(out, reverse_path.data(), reverse_path.size());
  std::size_t end = reverse_path.size();
  put_word(1, end);
  for (std::size_t i = 0; i < recipients.size(); ++i) {
    if (!recipients[i].empty()) std::memcpy(out + end, recipients[i].data(), recipients[i].size());
    end += recipients[i].size();
    put_word(2 + i, end);
  }
}

// ---- Body ---------------------------------------------------------------

Body Body::contiguous(std::string bytes) {
  // The string lives on the heap so its bytes never move with the Body.
  auto* owned = new std::string(std::move(bytes));
  const BodySegment one{reinterpret_cast<const std::byte*>(owned->data()), owned->size()};
  Body b = borrowed({&one, 1}, &release_owned, owned);
  return b;
}

void Body::release_owned(void* bytes) noexcept {
  delete static_cast<std::string*>(bytes);
}

Body Body::borrowed(std::span<const BodySegment> segments, ReleaseHook release, void* context,
                    std::size_t footprint, PrefetchHook prefetch) {
  Body b;
  b.footprint_ = footprint;
  b.set_segments(segments);
  for (const BodySegment& s : segments)
    b.size_ += s.size;
  b.release_ = release;
  b.prefetch_ = prefetch;
  b.context_ = context;
  return b;
}

Body Body::borrowed_with_state(std::span<const BodySegment> segments, const LenderWords& state,
                               ReleaseHook release, std::size_t footprint, PrefetchHook prefetch) {
  Body b = borrowed(segments, release, nullptr, footprint, prefetch);
  b.state_ = state;
  return b;
}

void Body::set_segments(std::span<const BodySegment> segments) {
  if (segments.size() <= kInlineSegments) {
    std::copy(segments.begin(), segments.end(), inline_.begin());
  } else {
    spilled_ = new BodySegment[segments.size()];
    std::copy(segments.begin(), segments.end(), spilled_);
  }
  count_ = segments.size();
}

void Body::steal(Body& other) noexcept {
  inline_ = other.inline_;
  spilled_ = std::exchange(other.spilled_, nullptr);
  count_ = std::exchange(other.count_, 0);
  size_ = std::exchange(other.size_, 0);
  footprint_ = std::exchange(other.footprint_, 0);
  release_ = std::exchange(other.release_, nullptr);
  prefetch_ = std::exchange(other.prefetch_, nullptr);
  context_ = std::exchange(other.context_, nullptr);
  state_ = other.state_;
}

Body::Body(Body&& other) noexcept {
  steal(other);
}

Body& Body::operator=(Body&& other) noexcept {
  if (this == &other) return *this;
  release();
  steal(other);
  return *this;
}

Body::~Body() {
  release();
}

void Body::release() noexcept {
  if (release_ != nullptr) std::exchange(release_, nullptr)(hook_context());
  delete[] std::exchange(spilled_, nullptr);
  count_ = 0;
  size_ = 0;
  footprint_ = 0;
}

// ---- Message ------------------------------------------------------------

void* Message::operator new(std::size_t size) {
#ifdef MXDP_HAVE_JEMALLOC
  // mallocx uses the calling thread's tcache: no lock on the hot path.
  void* p = mallocx(size, MALLOCX_ALIGN(alignof(Message)));
  if (p == nullptr) throw std::bad_alloc();
  return p;
#else
  return ::operator new (size, std::align_val_t{alignof(Message)});
#endif
}

void Message::operator delete(void* p, std::size_t size) noexcept {
  if (p == nullptr) return;
#ifdef MXDP_HAVE_JEMALLOC
  sdallocx(p, size, MALLOCX_ALIGN(alignof(Message)));
#else
  ::operator delete (p, size, std::align_val_t{alignof(Message)});
#endif
}

Message::Message(Owner* owner, MessageId id, Envelope&& envelope, Body&& body,
                 std::atomic<std::int64_t>* live)
    : owner_(owner), live_(live), id_(id), envelope_(std::move(envelope)), body_(std::move(body)) {
  size_bytes_ = body_.footprint() + envelope_.address_bytes();
  // Relaxed: a statistic; the decrement in destroy() is ordered after this one
  // by the reference count's acq_rel operations.
  if (live_ != nullptr) live_->fetch_add(1, std::memory_order_relaxed);
#ifdef MXDP_DEBUG_COUNTERS
  g_constructed.fetch_add(1, std::memory_order_relaxed);
#endif
}

Message::~Message() {
#ifdef MXDP_DEBUG_COUNTERS
  magic_ = kDeadMagic;
  g_destroyed.fetch_add(1, std::memory_order_relaxed);
#endif
  if (live_ != nullptr) live_->fetch_sub(1, std::memory_order_relaxed);
}

#if defined(MXDP_DEBUG_COUNTERS) && !defined(__SANITIZE_ADDRESS__)
namespace {
// Debug builds without ASan (TSan, plain Debug) keep the last freed messages
// of each thread in a quarantine instead of returning them to the allocator at
// once, so a stale MsgRef finds kDeadMagic (and aborts loudly) instead of a
// recycled, live message. ASan has its own, larger quarantine.
struct Quarantine {
  static constexpr std::size_t kSlots = 4096;
  Message* slots[kSlots] = {};
  std::size_t next = 0;
  ~Quarantine() {
    for (Message*& m : slots)
      Message::operator delete(std::exchange(m, nullptr), sizeof(Message));
  }
};
thread_local Quarantine t_quarantine;
}  // namespace

void Message::destroy(Message* msg) noexcept {
  msg->~Message();  // leaves magic_ == kDeadMagic in the memory
  Message*& slot = t_quarantine.slots[t_quarantine.next++ % Quarantine::kSlots];
  if (slot != nullptr) Message::operator delete(slot, sizeof(Message));
  slot = msg;
}
#else
void Message::destroy(Message* msg) noexcept {
  delete msg;
}
#endif

void Message::die_used_after_free() noexcept {
  std::fprintf(stderr,
               "mxdp routing: MsgRef used after its Message was freed (a hand-off without clone())\n");
  std::abort();
}

MsgRef make_message(MessageId id, Envelope&& envelope, Body&& body, std::atomic<std::int64_t>* live) {
  Owner* owner = Owner::current();
  if (owner == nullptr) {
    std::fprintf(stderr,
                 "mxdp routing: make_message() on a thread without an Owner: bind one with "
                 "routing::OwnerScope on every lcore thread that accepts messages\n");
    std::abort();
  }
  return MsgRef(new Message(owner, id, std::move(envelope), std::move(body), live));
}

MsgRef with_owned_body(const MsgRef& msg) {
  const Body& body = msg->body();
  if (!body.is_borrowed()) return msg.clone();
  std::string bytes;
  bytes.reserve(body.size());
  for (const BodySegment& s : body.segments())
    bytes.append(reinterpret_cast<const char*>(s.data), s.size);
  return make_message(msg->id(), Envelope(msg->envelope()), Body::contiguous(std::move(bytes)), msg->live_);
}

}  // namespace mxdp::routing
