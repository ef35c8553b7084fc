#pragma once
// An accepted message: envelope, body and the owner-biased split reference
// count (biased_count.hpp). Messages are created only through make_message()
// (msg_ref.hpp) and reached only through MsgRef: the constructor, destructor
// and count are private, so a hand-off without a reference does not compile.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "routing/biased_count.hpp"
#include "routing/ids.hpp"

namespace mxdp::routing {

class Owner;
class MsgRef;

// RFC 5321 §3.3: the reverse path of MAIL FROM and the forward paths of RCPT TO,
// already parsed by the SMTP layer (no angle brackets), read through views.
// Every address lives in one buffer: an envelope costs one allocation however
// many recipients it has, and a message's destruction reads none of it
// (freeing a buffer does not touch it), which keeps the mailbox log's
// evictions to the message object and its packet buffers.
class Envelope {
 public:
  Envelope() = default;
  Envelope(std::string_view reverse_path, std::span<const std::string_view> recipients);
  Envelope(std::string_view reverse_path, std::span<const std::string> recipients);
  Envelope(std::string_view reverse_path, std::initializer_list<std::string_view> recipients)
      : Envelope(reverse_path, std::span<const std::string_view>(recipients.begin(), recipients.size())) {}

  std::string_view reverse_path() const noexcept {
    return text_.empty() ? std::string_view{} : chars(0, word(1));
  }
  std::size_t recipient_count() const noexcept { return text_.empty() ? 0 : word(0); }
  std::string_view recipient(std::size_t i) const noexcept { return chars(word(1 + i), word(2 + i)); }
  // The octets of all the addresses (what the mailbox log budget counts).
  std::size_t address_bytes() const noexcept { return text_.empty() ? 0 : word(1 + recipient_count()); }

 private:
  // [count][end of the reverse path][end of each recipient] as 32-bit words,
  // then the addresses back to back (ends counted from the first of them).
  template <typename Text>
  void build(std::string_view reverse_path, std::span<const Text> recipients);
  std::uint32_t word(std::size_t k) const noexcept {
    std::uint32_t v;
    std::memcpy(&v, text_.data() + 4 * k, sizeof v);
    return v;
  }
  std::string_view chars(std::uint32_t from, std::uint32_t to) const noexcept {
    return {text_.data() + 4 * (recipient_count() + 2) + from, to - from};
  }
  std::string text_;
};

// One piece of a body. Borrowed segments point into memory the ingress owns
// (later: mbuf data); contiguous bodies are one segment over an owned buffer.
struct BodySegment {
  const std::byte* data = nullptr;
  std::size_t size = 0;
};

// The message body: either an owned contiguous buffer or borrowed segments
// whose owner is told exactly once, when the message is destroyed, through the
// release hook (so the dataplane can lend mbuf chains without a copy).
class Body {
 public:
  using ReleaseHook = void (*)(void* context) noexcept;
  // Brings in what the release will touch (the lender's buffers), once the
  // context itself is in cache (prefetch_context()).
  using PrefetchHook = void (*)(const void* context) noexcept;

  Body() = default;
  static Body contiguous(std::string bytes);
  // `footprint` is the memory the lender keeps pinned for these segments
  // (e.g. whole packet buffers); the mailbox log budgets by it, so a log of
  // borrowed bodies cannot hold more of the lender's buffers than its budget.
  // The segment list is copied (up to kInlineSegments without an allocation:
  // a body received in one or two packet buffers).
  static Body borrowed(std::span<const BodySegment> segments, ReleaseHook release, void* context,
                       std::size_t footprint = 0, PrefetchHook prefetch = nullptr);
  // The same, with the lender's state (up to kLenderWords pointers, e.g. the
  // packet buffers and how to release them) kept inside the body instead of
  // behind `context`: no allocation per message, and nothing apart to fetch
  // when the message dies long after ingress. The hooks get a pointer to the
  // words (wherever the body has moved to by then).
  static constexpr std::size_t kLenderWords = 4;
  using LenderWords = std::array<const void*, kLenderWords>;
  static Body borrowed_with_state(std::span<const BodySegment> segments, const LenderWords& state,
                                  ReleaseHook release, std::size_t footprint = 0,
                                  PrefetchHook prefetch = nullptr);

  Body(Body&& other) noexcept;
  Body& operator=(Body&& other) noexcept;
  Body(const Body&) = delete;
  Body& operator=(const Body&) = delete;
  ~Body();

  std::size_t size() const noexcept { return size_; }
  // Memory held for the body: its size, or what a lender pins (at least size).
  std::size_t footprint() const noexcept { return footprint_ > size_ ? footprint_ : size_; }
  std::span<const BodySegment> segments() const noexcept {
    return {spilled_ != nullptr ? spilled_ : inline_.data(), count_};
  }
  static constexpr std::size_t kInlineSegments = 2;
  bool is_borrowed() const noexcept { return release_ != nullptr && release_ != &release_owned; }
  // Look-ahead for a release long after ingress (the mailbox log evicting
  // its oldest entries): first the lender's context, then, a little later,
  // what the lender's prefetch hook names. Hints only.
  void prefetch_context() const noexcept {
    if (context_ != nullptr) __builtin_prefetch(context_);
  }
  void prefetch_buffers() const noexcept {
    if (prefetch_ != nullptr) prefetch_(hook_context());
  }

 private:
  void release() noexcept;
  void set_segments(std::span<const BodySegment> segments);
  // Takes other's segments, hooks and figures, leaving it empty.
  void steal(Body& other) noexcept;
  // The release hook of a contiguous body: its bytes are a heap std::string.
  static void release_owned(void* bytes) noexcept;
  // Plain fields only, so a move is a copy and a reset (a message's body is
  // moved on its way into the message). The segments: inline when they fit
  // (no allocation per message), else a heap array.
  std::array<BodySegment, kInlineSegments> inline_{};
  BodySegment* spilled_ = nullptr;
  std::size_t count_ = 0;
  std::size_t size_ = 0;
  std::size_t footprint_ = 0;
  ReleaseHook release_ = nullptr;
  PrefetchHook prefetch_ = nullptr;
  void* context_ = nullptr;  // null when the lender's state is in state_
  LenderWords state_{};
  void* hook_context() const noexcept {
    return context_ != nullptr ? context_ : const_cast<void*>(static_cast<const void*>(state_.data()));
  }
};

class Message {
 public:
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;

  MessageId id() const noexcept { return id_; }
  const Envelope& envelope() const noexcept { return envelope_; }
  const Body& body() const noexcept { return body_; }
  // Look-ahead for a destruction long after ingress: the object itself (its
  // envelope's buffer is freed unread).
  void prefetch() const noexcept {
    for (std::size_t off = 0; off < sizeof(Message); off += 64)
      __builtin_prefetch(reinterpret_cast<const char*>(this) + off);
  }
  // Envelope plus body, the figure the mailbox log budget counts.
  std::size_t size_bytes() const noexcept { return size_bytes_; }
  const Owner* owner() const noexcept { return owner_; }

  // Debug builds: a constant while the message lives, another after.
  static constexpr std::uint64_t kLiveMagic = 0x6d78647020616c76ULL;
  static constexpr std::uint64_t kDeadMagic = 0x6d78647020646561ULL;

  // Placement in jemalloc's per-thread caches where available (release
  // builds), the sanitizer-checked global allocator otherwise.
  static void* operator new(std::size_t size);
  static void operator delete(void* p, std::size_t size) noexcept;

 private:
  friend class MsgRef;
  friend class Owner;
  friend MsgRef make_message(MessageId, Envelope&&, Body&&, std::atomic<std::int64_t>*);
  friend MsgRef with_owned_body(const MsgRef& msg);
  friend struct MessageTestAccess;

  Message(Owner* owner, MessageId id, Envelope&& envelope, Body&& body, std::atomic<std::int64_t>* live);
  ~Message();
  static void destroy(Message* msg) noexcept;
  // Inline so release builds pay nothing; debug builds compare the magic.
  void check_alive() const noexcept {
#ifdef MXDP_DEBUG_COUNTERS
    if (magic_ != kLiveMagic) [[unlikely]]
      die_used_after_free();
#endif
  }
  [[noreturn]] static void die_used_after_free() noexcept;

  BiasedCount<> count_;
  Owner* const owner_;
  Message* merge_next_ = nullptr;          // Owner merge queue link
  std::atomic<std::int64_t>* const live_;  // the ingress shard's live counter, or nullptr
  const MessageId id_;
  std::size_t size_bytes_;
#ifdef MXDP_DEBUG_COUNTERS
  std::uint64_t magic_ = kLiveMagic;
#endif
  Envelope envelope_;
  Body body_;
};

// Debug builds (MXDP_DEBUG_COUNTERS: Debug and sanitizer presets) count every
// Message constructed and destroyed; release builds return 0 for both.
namespace debug {
inline constexpr bool kCounters =
#ifdef MXDP_DEBUG_COUNTERS
    true;
#else
    false;
#endif
std::uint64_t messages_constructed() noexcept;
std::uint64_t messages_destroyed() noexcept;
}  // namespace debug

}  // namespace mxdp::routing
