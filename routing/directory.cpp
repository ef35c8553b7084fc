#include "routing/directory.hpp"

#include <bit>
#include <cstring>
#include <new>

#include "routing/address.hpp"

namespace mxdp::routing {

// Immutable once published. The key (normalized) follows the header in the
// same allocation, so a lookup touches one cache line for short addresses.
struct Directory::Node {
  std::uint64_t hash;
  Entry entry;
  std::uint32_t key_size;
  char* key_data() noexcept { return reinterpret_cast<char*>(this + 1); }
  std::string_view key() const noexcept { return {reinterpret_cast<const char*>(this + 1), key_size}; }
};

Directory::Node* Directory::make_node(std::uint64_t hash, std::string_view address, const Entry& entry) {
  const std::string key = normalize_address(address);
  void* mem = ::operator new(sizeof(Node) + key.size());
  Node* n = new (mem) Node{hash, entry, static_cast<std::uint32_t>(key.size())};
  std::memcpy(n->key_data(), key.data(), key.size());
  return n;
}

void Directory::free_node(void* node) noexcept {
  static_cast<Node*>(node)->~Node();
  ::operator delete(node);
}

Directory::Directory(std::size_t max_entries, std::size_t reader_slots)
    : max_entries_(max_entries),
      hazards_(reader_slots),
      server_names_(std::make_unique<std::string[]>(kMaxServers)) {
  // Load factor <= 0.7 keeps linear-probe chains short (expected ~2 probes for
  // a hit at 0.7, Knuth TAOCP 6.4).
  std::size_t buckets = std::bit_ceil(max_entries + max_entries * 3 / 7 + 16);
  mask_ = buckets - 1;
  buckets_ = std::make_unique<std::atomic<Node*>[]>(buckets);
  for (std::size_t i = 0; i < buckets; ++i)
    buckets_[i].store(nullptr, std::memory_order_relaxed);
  server_names_[0] = "";  // ServerId{0} is "none"
  server_count_.store(1, std::memory_order_release);
}

Directory::~Directory() {
  for (std::size_t i = 0; i <= mask_; ++i) {
    if (Node* n = buckets_[i].load(std::memory_order_relaxed)) free_node(n);
  }
}

Lookup Directory::Reader::lookup(std::string_view address) noexcept {
  const std::uint64_t h = address_hash(address);
  const std::size_t mask = dir_->mask_;
  std::size_t i = h & mask;
  for (std::size_t probes = 0; probes <= mask; ++probes, i = (i + 1) & mask) {
    const Node* n = hp_.protect(dir_->buckets_[i]);
    if (n == nullptr) break;  // end of the probe chain: never inserted
    if (n->hash == h && address_matches(n->key(), address)) {
      const Entry e = n->entry;
      hp_.reset();
      switch (e.kind) {
        case EntryKind::kMailbox:
          return {Resolution::kMailbox, e};
        case EntryKind::kReferral:
          return {Resolution::kReferral, e};
        case EntryKind::kMovedShard:
          return {Resolution::kMovedShard, e};
        case EntryKind::kMovedServer:
          return {Resolution::kMovedServer, e};
        case EntryKind::kRemoved:
          return {};
      }
      return {};
    }
  }
  hp_.reset();
  return {};
}

std::uint64_t Directory::prefetch_bucket(std::string_view address) const noexcept {
  const std::uint64_t h = address_hash(address);
  __builtin_prefetch(&buckets_[h & mask_]);
  return h;
}

void Directory::prefetch_node(std::uint64_t hash) const noexcept {
  // Relaxed: only an address to prefetch, never dereferenced here.
  const Node* n = buckets_[hash & mask_].load(std::memory_order_relaxed);
  if (n == nullptr) return;
  // The header and a short key; a node may straddle two lines.
  __builtin_prefetch(n);
  __builtin_prefetch(reinterpret_cast<const char*>(n) + 63);
}

Lookup Directory::lookup(std::string_view address) const {
  Reader r(*this);
  return r.lookup(address);
}

DirectoryStatus Directory::upsert(std::string_view address, Entry entry) {
  if (address.empty()) return DirectoryStatus::kBadAddress;
  const std::uint64_t h = address_hash(address);
  std::lock_guard lock(admin_);
  std::size_t i = h & mask_;
  for (std::size_t probes = 0; probes <= mask_; ++probes, i = (i + 1) & mask_) {
    // Relaxed: only the admin (holding the mutex) writes buckets.
    Node* n = buckets_[i].load(std::memory_order_relaxed);
    if (n == nullptr) {
      if (entry.kind == EntryKind::kRemoved) return DirectoryStatus::kNotFound;
      if (keys_ >= max_entries_) return DirectoryStatus::kFull;
      // Release: the node's contents are visible to a reader whose protect()
      // acquires this pointer.
      buckets_[i].store(make_node(h, address, entry), std::memory_order_release);
      // Release: a reader that sees the new epoch sees the node stored above.
      epoch_.fetch_add(1, std::memory_order_release);
      ++keys_;
      live_.fetch_add(1, std::memory_order_relaxed);
      return DirectoryStatus::kOk;
    }
    if (n->hash == h && address_matches(n->key(), address)) {
      const bool was_live = n->entry.kind != EntryKind::kRemoved;
      const bool is_live = entry.kind != EntryKind::kRemoved;
      if (!was_live && !is_live) return DirectoryStatus::kNotFound;
      // Release: as above. The old node is unlinked by this store; readers
      // that protected it keep it alive through their hazard pointer.
      buckets_[i].store(make_node(h, n->key(), entry), std::memory_order_release);
      // Release: as for an insert.
      epoch_.fetch_add(1, std::memory_order_release);
      hazards_.retire(n, &Directory::free_node);
      if (was_live != is_live) {
        if (is_live) {
          live_.fetch_add(1, std::memory_order_relaxed);
        } else {
          live_.fetch_sub(1, std::memory_order_relaxed);
        }
      }
      return DirectoryStatus::kOk;
    }
  }
  return DirectoryStatus::kFull;
}

DirectoryStatus Directory::remove(std::string_view address) {
  return upsert(address, Entry{});
}

ServerId Directory::intern_server(std::string_view name) {
  std::lock_guard lock(admin_);
  auto it = server_ids_.find(std::string(name));
  if (it != server_ids_.end()) return it->second;
  const std::uint32_t n = server_count_.load(std::memory_order_relaxed);
  if (n >= kMaxServers) return ServerId{0};
  server_names_[n] = std::string(name);
  // Release: the name is written before any reader can learn its id (ids
  // travel in entries published with release stores after this).
  server_count_.store(n + 1, std::memory_order_release);
  server_ids_.emplace(std::string(name), ServerId{n});
  return ServerId{n};
}

std::string_view Directory::server_name(ServerId id) const noexcept {
  if (id.value >= server_count_.load(std::memory_order_acquire)) return {};
  return server_names_[id.value];
}

}  // namespace mxdp::routing
