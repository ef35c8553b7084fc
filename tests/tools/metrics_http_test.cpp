#include "tools/mxdp/metrics_http.hpp"

#include <gtest/gtest.h>

#include "dataplane/kernel/event_loop.hpp"

namespace mxdp::cli {
namespace {

using namespace std::chrono_literals;
using dataplane::kernel::EventLoop;
using dataplane::transport::Connection;
using dataplane::transport::ConnectionHandler;
using dataplane::transport::Endpoint;

std::string fetch(EventLoop& loop, std::uint16_t port, std::string request) {
  // The handler dies with its connection, so the answer lives outside it.
  auto response = std::make_shared<std::string>();
  struct Client : ConnectionHandler {
    std::string request;
    std::shared_ptr<std::string> response;
    void on_connected(Connection& c) noexcept override { c.write(request); }
    std::size_t on_input(Connection&, std::string_view b) noexcept override {
      response->append(b);
      return b.size();
    }
  };
  auto client = std::make_unique<Client>();
  client->request = std::move(request);
  client->response = response;
  Endpoint to = *Endpoint::parse("127.0.0.1:0");
  to.port = port;
  loop.connect(to, std::move(client));
  for (int i = 0; i < 500 && loop.connection_count() > 0; ++i)
    loop.run_once(5ms);
  return *response;
}

TEST(MetricsHttp, ServesMetricsAnd404) {
  EventLoop loop;
  ASSERT_EQ(loop.listen(*Endpoint::parse("127.0.0.1:0"),
                        [](Connection&) { return make_metrics_handler([] { return "mxdp_up 1\n"; }); }),
            "");
  auto ok = fetch(loop, loop.bound_port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(ok.find("200 OK"), std::string::npos) << ok;
  EXPECT_NE(ok.find("mxdp_up 1"), std::string::npos);
  auto missing = fetch(loop, loop.bound_port(), "GET / HTTP/1.1\r\n\r\n");
  EXPECT_NE(missing.find("404"), std::string::npos) << missing;
  auto bad = fetch(loop, loop.bound_port(), "POST /metrics HTTP/1.1\r\n\r\n");
  EXPECT_NE(bad.find("400"), std::string::npos) << bad;
  auto huge = fetch(loop, loop.bound_port(), "GET /metrics HTTP/1.1\r\nX: " + std::string(10000, 'a'));
  EXPECT_NE(huge.find("431"), std::string::npos);
}

}  // namespace
}  // namespace mxdp::cli
