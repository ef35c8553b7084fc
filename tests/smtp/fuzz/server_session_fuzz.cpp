// libFuzzer target: the server session on arbitrary client bytes.
//
// The input is the client's byte stream (the seed corpus is the client side of
// every golden transcript). A hash of it picks the configuration, the span
// boundaries and the sink's verdicts, including deferred answers. Each span
// lives in its own exactly sized heap block, so ASan catches any read past it.
// Invariants checked beyond "no crash":
//   * the output is a sequence of well-formed reply lines;
//   * no delivered message contains a bare CR or bare LF (smuggling);
//   * the sum of body segment sizes equals Body::size;
//   * smtp::peek_recipients, which the appliance runs on every received span
//     before parsing it, reads only inside the span and returns non-empty
//     paths without '>' or line ends.

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "smtp/rcpt_peek.hpp"
#include "smtp/server_session.hpp"

namespace {

using namespace mxdp::smtp;

class FuzzSink : public MessageSink {
 public:
  std::uint64_t state = 0;
  RecipientVerdict check_recipient(std::string_view mailbox, const Envelope& env) noexcept override {
    if (env.recipients.size() > 100000) std::abort();
    if (mailbox.empty()) std::abort();
    return static_cast<RecipientVerdict>((state++ * 7) % 5 % 3);
  }
  SinkAnswer on_message(const Envelope& env, const Body& body, std::uint64_t) noexcept override {
    std::uint64_t total = 0;
    bool after_cr = false;
    for (auto s : body.segments) {
      total += s.size();
      for (const char c : s) {
        // DATA and BDAT content the session hands on never has a bare CR or LF.
        if (c == '\n' && !after_cr) std::abort();
        if (after_cr && c != '\n') std::abort();
        after_cr = c == '\r';
      }
    }
    if (total != body.size) std::abort();
    if (!env.chunked && after_cr) std::abort();
    if (env.recipients.empty()) std::abort();
    const auto v = static_cast<Verdict>(state++ % 4);
    return {v, static_cast<std::uint16_t>(state % 3 == 0 ? 554 : 0), {}, {}};
  }
};

void check_output(std::string_view out) {
  // Every line: three digits, then ' ' or '-' (or the end), then CRLF.
  while (!out.empty()) {
    const std::size_t end = out.find("\r\n");
    if (end == std::string_view::npos || end < 3) std::abort();
    const std::string_view line = out.substr(0, end);
    for (int i = 0; i < 3; ++i) {
      if (line[i] < '0' || line[i] > '9') std::abort();
    }
    if (line.size() > 3 && line[3] != ' ' && line[3] != '-') std::abort();
    if (line.find('\r') != std::string_view::npos || line.find('\n') != std::string_view::npos) std::abort();
    out.remove_prefix(end + 2);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < size; ++i)
    h = (h ^ data[i]) * 1099511628211ull;

  ServerConfig config;
  if (h & 1) {
    config.max_recipients = 2;
    config.max_message_size = 64;
    config.max_text_line = 64;
    config.max_command_line = 64;
    config.max_errors = 5;
  }
  config.output_capacity = 4096;
  FuzzSink sink;
  sink.state = h >> 8;
  ServerSession s(config, sink);
  s.start(Time{0});
  std::string out(s.output());
  s.consume_output(out.size());

  std::vector<std::unique_ptr<char[]>> spans;  // kept alive: bodies point into them
  std::size_t pos = 0;
  std::uint64_t rng = h | 1;
  std::string carry;  // bytes not consumed yet, fed again with the next span
  while ((pos < size || !carry.empty()) && !s.wants_close()) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    const std::size_t n = std::min<std::size_t>(size - pos, 1 + rng % 300);
    carry.append(reinterpret_cast<const char*>(data) + pos, n);
    pos += n;
    spans.emplace_back(new char[carry.size()]);
    std::memcpy(spans.back().get(), carry.data(), carry.size());
    const std::string_view span(spans.back().get(), carry.size());
    std::string_view rcpts[8];
    const std::size_t found = peek_recipients(span, rcpts);
    for (std::size_t i = 0; i < found; ++i) {
      const std::string_view r = rcpts[i];
      if (r.empty() || r.data() < span.data() || r.data() + r.size() > span.data() + span.size())
        std::abort();
      if (r.find_first_of(">\r\n") != std::string_view::npos) std::abort();
    }
    const std::size_t used = s.feed(std::string_view(spans.back().get(), carry.size()), Time{1});
    carry.erase(0, used);
    if (s.awaiting_sink()) {
      const Verdict v = static_cast<Verdict>(rng % 3);
      // A transaction id nobody asked for is refused, the right one completes.
      if (s.complete(~0ull, {v, 0, {}, {}})) std::abort();
      for (std::uint64_t t = 0; t < 1000000 && s.awaiting_sink(); ++t)
        s.complete(t, {v, 0, {}, {}});
      if (s.awaiting_sink()) std::abort();
    }
    out.append(s.output());
    s.consume_output(s.output().size());
    if (used == 0 && pos >= size && !s.awaiting_sink()) break;
  }
  s.on_tick(Time{1} + config.total_timeout);
  out.append(s.output());
  check_output(out);
  return 0;
}
