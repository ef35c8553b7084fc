#pragma once
// Mailbox address keys. RFC 5321 §2.4: the local part is case-sensitive (a
// server may treat it otherwise, mxdp does not), the domain is not. The split
// is at the LAST '@' (a quoted local part may contain '@', a domain may not).
// An address without '@' (RFC 5321 §4.5.1 "Postmaster") has an empty domain.

#include <cstdint>
#include <string>
#include <string_view>

namespace mxdp::routing {

struct AddressParts {
  std::string_view local;
  std::string_view domain;  // as written; compare with ascii_iequal
};

inline AddressParts split_address(std::string_view address) noexcept {
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return {address, {}};
  return {address.substr(0, at), address.substr(at + 1)};
}

constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// Hash of local + '@' + lowercase(domain), computed without building the key.
// FNV-1a over the bytes, then a 64-bit finaliser (murmur3 fmix64) so the low
// bits that pick a bucket depend on every byte.
inline std::uint64_t address_hash(std::string_view address) noexcept {
  const AddressParts p = split_address(address);
  std::uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 0x100000001b3ULL;
  };
  for (char c : p.local)
    mix(static_cast<unsigned char>(c));
  mix('@');
  for (char c : p.domain)
    mix(static_cast<unsigned char>(ascii_lower(c)));
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
