#include "routing/directory_loader.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

namespace mxdp::routing {

namespace {

[[noreturn]] void fail(std::string_view origin, std::size_t line, const std::string& what) {
  throw std::runtime_error(std::string(origin) + ":" + std::to_string(line) + ": " + what);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

template <typename T>
bool parse_number(std::string_view s, T& out) {
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_shard_mailbox(std::string_view arg, ShardId& shard, MailboxId& mailbox) {
  const std::size_t colon = arg.find(':');
  if (colon == std::string_view::npos) return false;
  return parse_number(arg.substr(0, colon), shard.value) &&
         parse_number(arg.substr(colon + 1), mailbox.value);
}

}  // namespace

std::size_t load_directory_csv_text(Directory& dir, std::string_view text, std::string_view origin) {
  std::unordered_map<std::string_view, ServerId> servers;  // saves the admin lock per referral
  auto server = [&](std::string_view name) {
    auto it = servers.find(name);
    if (it != servers.end()) return it->second;
    const ServerId id = dir.intern_server(name);
    servers.emplace(name, id);
    return id;
  };
  std::size_t line_no = 0, loaded = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    if (line_no == 1 && line == "address,kind,arg") continue;
    const std::size_t c1 = line.find(',');
    const std::size_t c2 = c1 == std::string_view::npos ? c1 : line.find(',', c1 + 1);
    if (c2 == std::string_view::npos) fail(origin, line_no, "expected 'address,kind,arg'");
    const std::string_view address = trim(line.substr(0, c1));
    const std::string_view kind = trim(line.substr(c1 + 1, c2 - c1 - 1));
    const std::string_view arg = trim(line.substr(c2 + 1));
    if (address.empty() || address.find('@') == std::string_view::npos) {
      fail(origin, line_no, "address must be local@domain");
    }
    Entry e;
    if (kind == "mailbox" || kind == "moved-shard") {
      ShardId s;
      MailboxId m;
      if (!parse_shard_mailbox(arg, s, m)) fail(origin, line_no, "expected SHARD:MAILBOX, e.g. 0:17");
      e = kind == "mailbox" ? Entry::mailbox_on(s, m) : Entry::moved_to_shard(s, m);
    } else if (kind == "referral" || kind == "moved-server") {
      if (arg.empty() || arg.find(',') != std::string_view::npos)
        fail(origin, line_no, "expected a server name");
      const ServerId id = server(arg);
      if (id.value == 0) fail(origin, line_no, "too many distinct servers");
      e = kind == "referral" ? Entry::referral_to(id) : Entry::moved_to_server(id);
    } else {
      fail(origin, line_no,
           "unknown kind '" + std::string(kind) + "' (mailbox, referral, moved-shard, moved-server)");
    }
    const DirectoryStatus st = dir.upsert(address, e);
    if (st == DirectoryStatus::kFull)
      fail(origin, line_no, "directory full: construct it with more max_entries");
    if (st != DirectoryStatus::kOk) fail(origin, line_no, "cannot add address");
    ++loaded;
  }
  return loaded;
}

std::unique_ptr<Directory> load_directory_csv_file(const std::string& path, const LoadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error(path + ": cannot open the directory file (check the path and permissions)");
  std::string text;
  in.seekg(0, std::ios::end);
  text.resize(static_cast<std::size_t>(in.tellg()));
  in.seekg(0);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  const auto capacity = static_cast<std::size_t>(static_cast<double>(lines) * options.growth) + options.extra;
  auto dir = std::make_unique<Directory>(capacity, options.reader_slots);
  load_directory_csv_text(*dir, text, path);
  // Loading retires nothing unless the file repeats addresses; free those now.
  dir->reclaim();
  return dir;
}

}  // namespace mxdp::routing
