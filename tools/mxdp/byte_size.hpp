#pragma once
// Byte counts as operators write them on the command line and in the config
// file: `--mailbox-log 256K`, `mailbox_log = "16M"`.

#include <cstdint>
#include <string>
#include <string_view>

namespace mxdp::cli {

// Decimal digits with an optional K, M or G suffix, binary (KiB, MiB, GiB)
// and in either case: "65536", "256K", "16M". Sets `bytes` and returns "", or
// returns what is wrong with `text` (not such a size, or outside [min, max]);
// `bytes` is then left alone.
std::string parse_byte_size(std::string_view text, std::uint64_t min, std::uint64_t max,
                            std::uint64_t& bytes);

// The other way: the largest of G, M, K that divides `bytes` exactly ("16M",
// "1536K"), else the plain count ("1000").
std::string format_byte_size(std::uint64_t bytes);

}  // namespace mxdp::cli
