#pragma once
// Mailbox address keys. RFC 5321 §2.4: the local part is case-sensitive (a
// server may treat it otherwise, mxdp does not), the domain is not. The split
// is at the LAST '@' (a quoted local part may contain '@', a domain may not).
// An address without '@' (RFC 5321 §4.5.1 "Postmaster") has an empty domain.

#include <cstdint>
#include <cstring>  // memcpy; memrchr (glibc, _GNU_SOURCE: g++ and clang++ define it)
#include <string>
#include <string_view>

namespace mxdp::routing {

struct AddressParts {
  std::string_view local;
  std::string_view domain;  // as written; compare with ascii_iequal
};

// glibc's memrchr (vectorised), not string_view::rfind, a byte loop in
// libstdc++: the split comes first in every hash and key compare of a lookup.
inline AddressParts split_address(std::string_view address) noexcept {
  if (address.empty()) return {address, {}};  // memrchr's pointer must not be null
  const void* at = ::memrchr(address.data(), '@', address.size());
  if (at == nullptr) return {address, {}};
  const auto i = static_cast<std::size_t>(static_cast<const char*>(at) - address.data());
  return {address.substr(0, i), address.substr(i + 1)};
}

constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

namespace detail {

// MurmurHash64A's multiplier and shift (Appleby): the per-word mixing below is
// its inner step.
inline constexpr std::uint64_t kHashMul = 0xc6a4a7935bd1e995ULL;
inline constexpr int kHashShift = 47;

// The n (1..7) bytes at p as a word, zero-padded above: two overlapping 4-byte
// loads or three byte loads, no loop and no read outside p[0..n).
inline std::uint64_t load_tail(const char* p, std::size_t n) noexcept {
  if (n >= 4) {
    std::uint32_t lo;
    std::uint32_t hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);
    return lo | (std::uint64_t{hi} << (8 * (n - 4)));
  }
  const auto b = [p](std::size_t i) { return std::uint64_t{static_cast<unsigned char>(p[i])}; };
  return b(0) | (b(n / 2) << (8 * (n / 2))) | (b(n - 1) << (8 * (n - 1)));
}

// One part of an address, 8 bytes at a time: each word is scrambled on its
// own (two multiplies off the chain) and folded into h with one multiply, so
// the dependent chain is one multiply per 8 bytes. `fold` is ORed into every
// word (0 for the local part, 0x20 in each byte for the domain).
inline std::uint64_t hash_part(std::uint64_t h, std::string_view part, std::uint64_t fold) noexcept {
  auto mix = [&h](std::uint64_t k) {
    k *= kHashMul;
    k ^= k >> kHashShift;
    k *= kHashMul;
    h ^= k;
    h *= kHashMul;
  };
  const char* p = part.data();
  std::size_t n = part.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    mix(w | fold);
  }
  // The padding bytes take the fold too, the same for every part of this
  // length: the hash stays a function of the bytes and the length.
  if (n > 0) mix(load_tail(p, n) | fold);
  return h;
}

}  // namespace detail

// Hash of local + '@' + lowercase(domain), computed without building the key,
// so it equals the hash of the normalized key (normalize_address) for any case
// of the domain. In memory only: never persisted, free to change.
//
// Word at a time: the local part and the domain are hashed as two independent
// chains (they overlap in the pipeline), each seeded with its length, which
// also tells "ab@c" from "a@bc" apart. Case: ORing 0x20 into every domain byte
// maps 'A'..'Z' onto 'a'..'z' (what ascii_lower does) and leaves digits, '-'
// and '.' (which have the bit) as they are. It also merges a few pairs that
// ascii_lower keeps apart ('@' and '`', '[' and '{', '\' and '|', ']' and '}',
// '^' and '~', '_' and DEL, control bytes and 0x20..0x3f, and high bytes in
// pairs): such domains only share a hash, never a match, because every hash
// hit is confirmed by address_matches(), which compares the key exactly. A
// real domain (RFC 5321 §4.1.2: letters, digits, '-', '.', or an address
// literal) rarely holds any of them.
// The two chains meet in a multiply (a bijection of the domain's value, so
// swapping parts does not cancel) and murmur3's fmix64 finaliser, so the low
// bits that pick a bucket depend on every byte.
inline std::uint64_t address_hash(std::string_view address) noexcept {
  const AddressParts p = split_address(address);
  const std::uint64_t local =
      detail::hash_part(0x9e3779b97f4a7c15ULL ^ (p.local.size() * detail::kHashMul), p.local, 0);
  const std::uint64_t domain = detail::hash_part(0x2545f4914f6cdd1dULL ^ (p.domain.size() * detail::kHashMul),
                                                 p.domain, 0x2020202020202020ULL);
  std::uint64_t h = local ^ (domain * 0xff51afd7ed558ccdULL);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// The stored key form: local part exact, domain lower-cased, always with '@'.
inline std::string normalize_address(std::string_view address) {
  const AddressParts p = split_address(address);
  std::string key;
  key.reserve(address.size() + 1);
  key.append(p.local);
  key.push_back('@');
  for (char c : p.domain)
    key.push_back(ascii_lower(c));
  return key;
}

// True if `address` names the normalized `key`.
inline bool address_matches(std::string_view key, std::string_view address) noexcept {
  const AddressParts p = split_address(address);
  if (key.size() != p.local.size() + 1 + p.domain.size()) return false;
  if (key.compare(0, p.local.size(), p.local) != 0 || key[p.local.size()] != '@') return false;
  const std::string_view kd = key.substr(p.local.size() + 1);
  for (std::size_t i = 0; i < kd.size(); ++i) {
    if (kd[i] != ascii_lower(p.domain[i])) return false;
  }
  return true;
}

}  // namespace mxdp::routing
