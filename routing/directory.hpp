#pragma once
// The recipient directory: address -> immutable entry, looked up lock-free on
// every lcore while an admin thread adds, removes and moves recipients.
//
// Structure: an open-addressed table (linear probing) of atomic pointers to
// immutable nodes {hash, entry, key}. A bucket, once claimed by a key, keeps
// that key forever: an update publishes a new node for the same key with one
// release store and retires the old node to the hazard pointer domain; a
// removal publishes a kRemoved node (a tombstone that still holds the key). So
// probe sequences never change under a reader, and a reader holds at most one
// hazard pointer (the node it is comparing).
//
// Capacity is fixed at construction (the table is sized for `max_entries` at
// a load factor <= 0.7 and never rehashes: rehashing 10M entries under traffic
// would stall readers or double memory). upsert() past max_entries returns
// kFull; the loader sizes the table from the file with headroom for growth.
// Keys that were removed keep their slot until the directory is rebuilt.
//
// Threads: any number of readers (one Reader each); admin operations are
// serialised by an admin mutex (never taken by readers).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "routing/hazard_pointer.hpp"
#include "routing/ids.hpp"

namespace mxdp::routing {

enum class EntryKind : std::uint8_t {
  kMailbox,      // deliver to mailbox `mailbox` on shard `shard`
  kReferral,     // deliver by relaying to `server` (a public-folder-like referral)
  kMovedShard,   // the recipient moved to shard `shard` (mailbox `mailbox`)
  kMovedServer,  // the recipient moved off-box to `server`
  kRemoved,      // no such recipient (tombstone; lookups answer kUnknown)
};

struct Entry {
  EntryKind kind = EntryKind::kRemoved;
  ShardId shard{};
  MailboxId mailbox{};
  ServerId server{};

  static Entry mailbox_on(ShardId s, MailboxId m) { return {EntryKind::kMailbox, s, m, {}}; }
  static Entry referral_to(ServerId srv) { return {EntryKind::kReferral, {}, {}, srv}; }
  static Entry moved_to_shard(ShardId s, MailboxId m) { return {EntryKind::kMovedShard, s, m, {}}; }
  static Entry moved_to_server(ServerId srv) { return {EntryKind::kMovedServer, {}, {}, srv}; }
};

// What a lookup answers. kUnknown is the RCPT handler's
// "550 5.1.1 <addr>: Recipient address rejected: User unknown" (RFC 3463 X.1.1).
enum class Resolution : std::uint8_t { kUnknown, kMailbox, kReferral, kMovedShard, kMovedServer };

struct Lookup {
  Resolution kind = Resolution::kUnknown;
  Entry entry{};
  bool known() const noexcept { return kind != Resolution::kUnknown; }
  // Mailbox and moved-to-shard both end in a shard's mailbox store.
  bool on_box() const noexcept { return kind == Resolution::kMailbox || kind == Resolution::kMovedShard; }
};

enum class DirectoryStatus : std::uint8_t { kOk, kFull, kNotFound, kBadAddress, kTooManyServers };

class Directory {
 public:
  static constexpr std::size_t kMaxServers = 1 << 16;

  // `max_entries`: distinct addresses the table will ever hold (including
  // removed ones). `reader_slots`: Readers that may exist at once.
  explicit Directory(std::size_t max_entries, std::size_t reader_slots = 256);
  ~Directory();
  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;

  // A reader handle: owns one hazard pointer; use from one thread at a time.
  class Reader {
   public:
    explicit Reader(const Directory& dir) : dir_(&dir), hp_(dir.hazards_) {}
    // Lock-free, allocation-free, noexcept: a few loads, one hazard store.
    Lookup lookup(std::string_view address) noexcept;

   private:
    const Directory* dir_;
    HazardPointer<> hp_;
  };
  Reader reader() const { return Reader(*this); }

  // Look-ahead for lookups soon to come, in two stages so a batch of them
  // overlaps its cache misses: prefetch_bucket() hashes the address and
  // prefetches its first bucket (returns the hash); prefetch_node(hash), a
  // little later, reads that bucket and prefetches the node it points to.
  // Nothing is dereferenced, so no hazard pointer is needed: prefetching a
  // node being retired is harmless. A hint only; lookup() stays the truth.
  std::uint64_t prefetch_bucket(std::string_view address) const noexcept;
  void prefetch_node(std::uint64_t hash) const noexcept;

  // Convenience for admin code and tests (takes and returns a hazard slot).
  Lookup lookup(std::string_view address) const;

  // ---- admin (serialised internally) -------------------------------------
  DirectoryStatus upsert(std::string_view address, Entry entry);
  DirectoryStatus remove(std::string_view address);
  // Interns a relay target name; the same name always gets the same id.
  ServerId intern_server(std::string_view name);
  // Scans retired nodes if the time trigger is due (call from an admin timer).
  std::size_t reclaim_if_due() { return hazards_.reclaim_if_due(); }
  std::size_t reclaim() { return hazards_.reclaim(); }

  // Any thread: the name of an interned server (stable for the directory's life).
  std::string_view server_name(ServerId id) const noexcept;
  // Bumped after every change an upsert or remove publishes. A resolution made
  // when the epoch read E (read before the lookup) is still the current one
  // while epoch() == E: no change has completed since, so a caller may keep
  // it instead of looking the address up again (the RCPT lookup reused at
  // ingress). A change still in progress is ordered after the reuse.
  std::uint64_t epoch() const noexcept {
    // Acquire: pairs with the release increment after a publication, so an
    // epoch value seen here makes every change counted in it visible.
    return epoch_.load(std::memory_order_acquire);
  }
  // Live (non-removed) entries; exact when the admin is idle.
  std::size_t size() const noexcept { return live_.load(std::memory_order_relaxed); }
  std::size_t bucket_count() const noexcept { return mask_ + 1; }
  std::size_t max_entries() const noexcept { return max_entries_; }
  std::size_t retired_count() const noexcept { return hazards_.retired_count(); }

 private:
  struct Node;
  static Node* make_node(std::uint64_t hash, std::string_view address, const Entry& entry);
  static void free_node(void* node) noexcept;

  const std::size_t max_entries_;
  std::size_t mask_;
  std::unique_ptr<std::atomic<Node*>[]> buckets_;
  mutable HazardDomain<> hazards_;

  std::mutex admin_;
  std::size_t keys_ = 0;  // buckets claimed (admin only)
  std::atomic<std::size_t> live_{0};
  std::unordered_map<std::string, ServerId> server_ids_;  // admin only
  std::unique_ptr<std::string[]> server_names_;
  std::atomic<std::uint32_t> server_count_{0};
  // Its own cache line: readers load it per message, the admin writes it per change.
  alignas(64) std::atomic<std::uint64_t> epoch_{0};
};

}  // namespace mxdp::routing
