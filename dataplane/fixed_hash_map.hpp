#pragma once
// A hash map from 64-bit keys with a capacity fixed at construction, for the
// data path: it never allocates after the constructor. Open addressing with
// linear probing in a power-of-two table kept at most half full, so a probe
// stays within one short cluster; deletion shifts the rest of the cluster back
// (Knuth, TAOCP vol. 3, 6.4 Algorithm R) instead of leaving tombstones, so a
// table that sees endless insert/erase churn (connections opening and closing)
// never degrades. Keys are hashed with a seed (splitmix64 finaliser): peers
// choose the keys (addresses, ports), and a secret seed keeps them from
// aiming a flood at one cluster.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace mxdp::dataplane {

// splitmix64's finaliser: a cheap bijective mixer whose every output bit
// depends on every input bit.
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

template <typename Value>
class FixedHashMap {
 public:
  // Room for max_entries keys (at least one).
  FixedHashMap(std::size_t max_entries, std::uint64_t seed)
      : max_entries_(max_entries == 0 ? 1 : max_entries), seed_(mix64(seed ^ 0x6d786470666d6170ULL)) {
    std::size_t n = 2;
    while (n < 2 * max_entries_)
      n <<= 1;
    mask_ = n - 1;
    slots_ = std::make_unique<Slot[]>(n);
  }
  FixedHashMap(const FixedHashMap&) = delete;
  FixedHashMap& operator=(const FixedHashMap&) = delete;

  std::size_t size() const noexcept { return size_; }
  std::size_t max_entries() const noexcept { return max_entries_; }
  bool full() const noexcept { return size_ >= max_entries_; }

  Value* find(std::uint64_t key) noexcept {
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (s.key == key) return &s.value;
    }
  }
  const Value* find(std::uint64_t key) const noexcept { return const_cast<FixedHashMap*>(this)->find(key); }
  bool contains(std::uint64_t key) const noexcept { return find(key) != nullptr; }

  // The value of `key`, inserted value-initialised when absent. `inserted`
  // tells which; nullptr when the key is absent and the map is full.
  Value* try_emplace(std::uint64_t key, bool& inserted) noexcept {
    inserted = false;
    std::size_t i = home(key);
    for (;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (!s.used) break;
      if (s.key == key) return &s.value;
    }
    if (full()) return nullptr;
    Slot& s = slots_[i];
    s.used = true;
    s.key = key;
    s.value = Value{};
    ++size_;
    inserted = true;
    return &s.value;
  }

  bool erase(std::uint64_t key) noexcept {
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (!s.used) return false;
      if (s.key == key) {
        erase_at(i);
        return true;
      }
    }
  }

  // Erases every entry for which pred(key, value) is true. The predicate may
  // see an entry twice (backward shifts can move a kept entry from the start
  // of the table to its end), so it must not count or change anything.
  template <typename Pred>
  void erase_if(Pred&& pred) noexcept {
    for (std::size_t i = 0; i <= mask_;) {
      Slot& s = slots_[i];
      if (s.used && pred(s.key, static_cast<const Value&>(s.value))) {
        erase_at(i);  // slot i now holds the next entry of the cluster, if any: look again
      } else {
        ++i;
      }
    }
  }

  template <typename F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i <= mask_; ++i) {
      if (slots_[i].used) f(slots_[i].key, slots_[i].value);
    }
  }

 private:
  struct Slot {
    std::uint64_t key = 0;
    Value value{};
    bool used = false;
  };

  std::size_t home(std::uint64_t key) const noexcept {
    return static_cast<std::size_t>(mix64(key ^ seed_)) & mask_;
  }

  void erase_at(std::size_t hole) noexcept {
    // Algorithm R: walk the cluster after the hole; an entry whose home lies
    // cyclically outside (hole, j] may move into the hole, which moves to j.
    for (std::size_t j = (hole + 1) & mask_;; j = (j + 1) & mask_) {
      Slot& s = slots_[j];
      if (!s.used) break;
      const std::size_t h = home(s.key);
      const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
      if (stays) continue;
      slots_[hole] = std::move(s);
      hole = j;
    }
    slots_[hole].used = false;
    slots_[hole].value = Value{};
    --size_;
  }

  std::size_t max_entries_;
  std::uint64_t seed_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace mxdp::dataplane
