#include "tools/mxdp/byte_size.hpp"

#include <fmt/format.h>

#include <charconv>
#include <utility>

namespace mxdp::cli {

std::string parse_byte_size(std::string_view text, std::uint64_t min, std::uint64_t max,
                            std::uint64_t& bytes) {
  const std::string quoted = fmt::format("'{}'", text);
  std::string_view digits = text;
  unsigned shift = 0;
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'K':
      case 'k':
        shift = 10;
        break;
      case 'M':
      case 'm':
        shift = 20;
        break;
      case 'G':
      case 'g':
        shift = 30;
        break;
      default:
        break;
    }
    if (shift != 0) digits.remove_suffix(1);
  }
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  const bool too_many_digits = ec == std::errc::result_out_of_range;
  if (digits.empty() || end != digits.data() + digits.size() || (ec != std::errc() && !too_many_digits))
    return "expected bytes, or a number with a K, M or G suffix (e.g. 256K, 16M), got " + quoted;
  // Compared before the shift, so that no count wraps around into range.
  if (too_many_digits || n > (max >> shift)) return quoted + " is above the maximum " + format_byte_size(max);
  n <<= shift;
  if (n < min) return quoted + " is below the minimum " + format_byte_size(min);
  bytes = n;
  return "";
}

std::string format_byte_size(std::uint64_t bytes) {
  for (const auto& [shift, suffix] : {std::pair{30u, 'G'}, std::pair{20u, 'M'}, std::pair{10u, 'K'}}) {
    if (bytes != 0 && bytes % (std::uint64_t{1} << shift) == 0)
      return std::to_string(bytes >> shift) + suffix;
  }
  return std::to_string(bytes);
}

}  // namespace mxdp::cli
