#include "tools/mxdp/serve_config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "routing/router.hpp"

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
  EXPECT_EQ(c.mailbox_log_bytes, d.mailbox_log_bytes);
}

// The operator's default is the router's own: leaving the key out changes nothing.
TEST(ServeConfig, MailboxLogDefaultIsTheRouters) {
  EXPECT_EQ(ServeConfig{}.mailbox_log_bytes, routing::RouterConfig{}.mailbox_log_bytes);
}

TEST(ServeConfig, MailboxLogTakesASizeOrBytes) {
  ServeConfig c;
  ASSERT_EQ(load_serve_config(write_temp("[serve]\nmailbox_log = \"256K\"\n"), c), "");
  EXPECT_EQ(c.mailbox_log_bytes, 256u << 10);
  ASSERT_EQ(load_serve_config(write_temp("[serve]\nmailbox_log = 1048576\n"), c), "");
  EXPECT_EQ(c.mailbox_log_bytes, 1u << 20);
  ASSERT_EQ(load_serve_config(write_temp("[serve]\nmailbox_log = \"64G\"\n"), c), "");
  EXPECT_EQ(c.mailbox_log_bytes, std::uint64_t{64} << 30);
}

TEST(ServeConfig, MailboxLogErrorsNameTheKeyAndTheLimit) {
  ServeConfig c;
  auto error = [&](const std::string& value) {
    return load_serve_config(write_temp("[serve]\nshards = 4\nmailbox_log = " + value + "\n"), c);
  };
  std::string e = error("\"1K\"");
  EXPECT_NE(e.find("[serve] key 'mailbox_log' at line 3: '1K' is below the minimum 64K"), std::string::npos)
      << e;
  e = error("\"65G\"");
  EXPECT_NE(e.find("'65G' is above the maximum 64G"), std::string::npos) << e;
  e = error("\"16MB\"");
  EXPECT_NE(e.find("expected bytes"), std::string::npos) << e;
  e = error("-1");
  EXPECT_NE(e.find("'mailbox_log'"), std::string::npos) << e;
  for (const char* wrong : {"true", "1048576.0", "[16]"}) {
    e = error(wrong);
    EXPECT_NE(e.find("'mailbox_log' at line 3 has the wrong type"), std::string::npos) << wrong << ": " << e;
  }
  EXPECT_EQ(c.mailbox_log_bytes, ServeConfig{}.mailbox_log_bytes);  // a refused value is not taken
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
