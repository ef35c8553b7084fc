#pragma once
// Recipients named by RCPT commands at the head of input not yet parsed, for
// look-ahead: the appliance prefetches their directory entries for a whole
// burst of connections before it parses any of them (the lookups then hit in
// cache instead of each taking two misses in turn). A heuristic over raw
// bytes, never a substitute for parsing: a wrong guess only wastes a prefetch.

#include <cstddef>
#include <span>
#include <string_view>

namespace mxdp::smtp {

// Fills `out` with the paths of complete "RCPT TO:<path>" lines (RFC 5321
// §4.1.1.3, verb case-insensitive) from the start of `input`, skipping other
// commands; stops at DATA or BDAT (content follows), at a line not ended
// within `input`, or when `out` is full. Returns how many were found.
std::size_t peek_recipients(std::string_view input, std::span<std::string_view> out) noexcept;

}  // namespace mxdp::smtp
