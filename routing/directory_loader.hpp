#pragma once
// Loads a recipient directory from a CSV file, one recipient a line:
//
//     address,kind,arg
//
//   kind          arg                 meaning
//   mailbox       SHARD:MAILBOX       deliver to mailbox MAILBOX on shard SHARD
//   referral      SERVER              relay to SERVER (public-folder-like referral)
//   moved-shard   SHARD:MAILBOX       recipient moved to another shard
//   moved-server  SERVER              recipient moved off-box to SERVER
//
// Example:
//     # comment lines and blank lines are ignored; an optional header line
//     address,kind,arg
//     alice@Example.COM,mailbox,0:17
//     pf-sales@example.com,referral,mx2.example.net
//     bob@example.com,moved-server,mx3.example.net
//
// Addresses are not quoted (no ',' allowed in them); the domain is matched
// case-insensitively, the local part exactly (RFC 5321 §2.4). SHARD is a
// decimal shard index < 65536, MAILBOX a decimal id < 2^32, SERVER a host name
// or [address literal]. A malformed line stops the load with an exception
// naming the file, the line number and what to fix (a start-up error).
//
// Speed: the file is read in one piece and parsed in place; 10 million lines
// load in a few seconds (bench/routing/directory_bench.cpp measures it).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "routing/directory.hpp"

namespace mxdp::routing {

struct LoadOptions {
  // Table capacity = entries in the file * growth + extra, so the admin can
  // add recipients later without a rebuild.
  double growth = 1.25;
  std::size_t extra = 1024;
  std::size_t reader_slots = 256;
};

// Parses CSV text into `dir` (upserts). Returns lines loaded. Throws
// std::runtime_error("<origin>:<line>: ...") on the first bad line.
std::size_t load_directory_csv_text(Directory& dir, std::string_view text,
                                    std::string_view origin = "<text>");

// Reads and loads a file into a new Directory sized from it.
std::unique_ptr<Directory> load_directory_csv_file(const std::string& path, const LoadOptions& options = {});

}  // namespace mxdp::routing
