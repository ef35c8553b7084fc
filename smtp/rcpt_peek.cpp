#include "smtp/rcpt_peek.hpp"

#include <cstring>

namespace mxdp::smtp {

namespace {

bool starts_with_nocase(std::string_view line, std::string_view prefix) noexcept {
  if (line.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char c = line[i];
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    if (lower != prefix[i]) return false;
  }
  return true;
}

}  // namespace

std::size_t peek_recipients(std::string_view input, std::span<std::string_view> out) noexcept {
  std::size_t found = 0;
  // Commands are short: looking further than this means we are in content.
  constexpr std::size_t kMaxScan = 4096;
  if (input.size() > kMaxScan) input = input.substr(0, kMaxScan);
  while (found < out.size() && !input.empty()) {
    const void* nl = std::memchr(input.data(), '\n', input.size());
    if (nl == nullptr) break;
    const std::size_t end = static_cast<std::size_t>(static_cast<const char*>(nl) - input.data());
    std::string_view line = input.substr(0, end);
    input.remove_prefix(end + 1);
    if (starts_with_nocase(line, "data") || starts_with_nocase(line, "bdat")) break;
    if (!starts_with_nocase(line, "rcpt to:<")) continue;
    line.remove_prefix(9);
    const std::size_t close = line.find('>');
    // A CR belongs only at the end of a line (RFC 5321 §2.3.8): a path with
    // one is not a path (found by the server-session fuzzer).
    if (close == std::string_view::npos || close == 0 ||
        line.substr(0, close).find('\r') != std::string_view::npos)
      continue;
    out[found++] = line.substr(0, close);
  }
  return found;
}

}  // namespace mxdp::smtp
