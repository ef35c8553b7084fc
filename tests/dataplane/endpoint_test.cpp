#include "dataplane/transport/endpoint.hpp"

#include <gtest/gtest.h>

namespace mxdp::dataplane::transport {
namespace {

TEST(Endpoint, ParsesAndPrints) {
  auto e = Endpoint::parse("127.0.0.1:2525");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->port, 2525);
  EXPECT_EQ(e->to_string(), "127.0.0.1:2525");
  EXPECT_EQ(Endpoint::parse("localhost:25")->to_string(), "127.0.0.1:25");
}

TEST(Endpoint, RejectsMalformed) {
  for (const char* bad : {"", ":25", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:2x",
                          "300.0.0.1:25", "example.test:25", "127.0.0.1:-1"}) {
    EXPECT_FALSE(Endpoint::parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace mxdp::dataplane::transport
