// libFuzzer target: the client's reply parser and the client session on
// arbitrary server bytes (seed corpus: the server side of every golden
// transcript). Checks that every message submitted is reported exactly once
// when the connection ends, whatever the server said.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "smtp/client_session.hpp"
#include "smtp/reply_parser.hpp"

namespace {

using namespace mxdp::smtp;

class CountingObserver : public ClientObserver {
 public:
  std::uint64_t seen = 0;
  std::uint64_t next_cookie = 0;
  void on_result(const MessageResult& r) noexcept override {
    if (r.cookie != next_cookie++) std::abort();  // in order, once each
    if (r.accepted_recipients > r.recipient_codes.size()) std::abort();
    ++seen;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  {
    ReplyParser p;
    std::size_t pos = 0;
    while (pos < in.size()) {
      const auto r = p.next(in.data() + pos, in.size() - pos);
      if (r.consumed == 0 || r.consumed > in.size() - pos) std::abort();
      pos += r.consumed;
      if (r.status == ReplyParser::Status::kLine && (r.line.code < 200 || r.line.code > 559)) std::abort();
    }
  }
  CountingObserver obs;
  ClientConfig config;
  config.max_in_flight = 3;
  config.max_queued = 8;
  config.max_recipients = 4;
  config.prefer_chunking = size % 2 == 0;
  ClientSession c(config, obs);
  const std::string_view rcpts[] = {"a@example.org", "b@example.org"};
  const std::string_view body[] = {"Subject: x\r\n\r\n.dot\r\nbare\n", "end"};
  std::uint64_t submitted = 0;
  for (int i = 0; i < 5; ++i) {
    OutgoingMessage m;
    m.reverse_path = i == 0 ? "" : "s@example.org";
    m.recipients = std::span<const std::string_view>(rcpts, 1 + i % 2);
    m.body = body;
    m.cookie = submitted;
    if (c.submit(m)) ++submitted;
  }
  c.quit();
  std::size_t pos = 0;
  std::size_t step = 1;
  while (pos < in.size() && !c.wants_close()) {
    const std::size_t n = std::min(step, in.size() - pos);
    c.feed(in.substr(pos, n));
    pos += n;
    step = step * 3 % 97 + 1;
    c.consume_output(c.output().size());
  }
  c.connection_lost();
  if (obs.seen != submitted) std::abort();
  return 0;
}
