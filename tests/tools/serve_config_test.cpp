#include "tools/mxdp/serve_config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace mxdp::cli {
namespace {

// Files under the test's own temporary directory, removed at exit. The name
// is a plain array (no destructor), so the exit handler can still read it.
char g_dir[] = "/tmp/mxdp-config-test-XXXXXX";

std::string write_temp(const std::string& text) {
  static int n = 0;
  if (n == 0) {
    ::mkdtemp(g_dir);
    std::atexit([] { std::filesystem::remove_all(g_dir); });
  }
  std::string path = std::string(g_dir) + "/" + std::to_string(n++) + ".toml";
  std::ofstream(path) << text;
  return path;
}

TEST(ServeConfig, ExampleFileLoadsWithDefaults) {
  ServeConfig c;
  ASSERT_EQ(load_serve_config(MXDP_SOURCE_ROOT_STR "/docs/mxdp.example.toml", c), "");
  ServeConfig d;
  EXPECT_EQ(c.listen, d.listen);
  EXPECT_EQ(c.smtp.max_recipients, d.smtp.max_recipients);
  EXPECT_EQ(c.smtp.max_message_size, d.smtp.max_message_size);
  EXPECT_EQ(c.relay.max_attempts, d.relay.max_attempts);
}

TEST(ServeConfig, OverridesOnlyWhatIsGiven) {
  ServeConfig c;
  ASSERT_EQ(
      load_serve_config(write_temp("[serve]\nlisten = \"0.0.0.0:25\"\n[smtp]\nmax_recipients = 50\n"), c),
      "");
  EXPECT_EQ(c.listen, "0.0.0.0:25");
  EXPECT_EQ(c.smtp.max_recipients, 50u);
  EXPECT_EQ(c.smtp.max_text_line, 1000u);
}

TEST(ServeConfig, ErrorsNameTheProblem) {
  ServeConfig c;
  EXPECT_NE(load_serve_config(write_temp("[serve]\nlisen = \"x\"\n"), c).find("unknown key 'lisen'"),
            std::string::npos);
  EXPECT_NE(load_serve_config(write_temp("[smtp]\nmax_recipients = \"many\"\n"), c).find("wrong type"),
            std::string::npos);
  EXPECT_NE(load_serve_config(write_temp("[serve\n"), c).find(":1:"), std::string::npos);
  EXPECT_NE(load_serve_config("/nonexistent/mxdp.toml", c), "");
}

}  // namespace
}  // namespace mxdp::cli
