#include "tools/mxdp/sink_server.hpp"

#include "dataplane/kernel/event_loop.hpp"
#include "smtp/server_session.hpp"
#include "tools/mxdp/smtp_server_connection.hpp"

namespace mxdp::cli {

using dataplane::transport::Connection;
using dataplane::transport::Endpoint;
using dataplane::transport::EventLoop;

class CountingSink : public smtp::MessageSink {
 public:
  CountingSink(std::atomic<std::uint64_t>& m, std::atomic<std::uint64_t>& r, std::atomic<std::uint64_t>& b)
      : messages_(m), recipients_(r), bytes_(b) {}
  smtp::RecipientVerdict check_recipient(std::string_view, const smtp::Envelope&) noexcept override {
    return smtp::RecipientVerdict::kAccept;
  }
  smtp::SinkAnswer on_message(const smtp::Envelope& env, const smtp::Body& body,
                              std::uint64_t) noexcept override {
    messages_.fetch_add(1, std::memory_order_relaxed);
    recipients_.fetch_add(env.recipients.size(), std::memory_order_relaxed);
    bytes_.fetch_add(body.size, std::memory_order_relaxed);
    return {smtp::Verdict::kAccept, 250, "2.0.0", "Ok: sunk"};
  }

 private:
  std::atomic<std::uint64_t>&messages_, &recipients_, &bytes_;
};

struct SinkServer::Impl {
  std::unique_ptr<EventLoop> own_loop;
  smtp::ServerConfig config;
  std::unique_ptr<CountingSink> sink;
};

SinkServer::SinkServer() : impl_(std::make_unique<Impl>()) {}

SinkServer::~SinkServer() {
  stop();
}

std::string SinkServer::start(const std::string& at) {
  impl_->own_loop = std::make_unique<dataplane::kernel::EventLoop>();
  std::string err = attach(*impl_->own_loop, at);
  if (!err.empty()) return err;
  Impl* m = impl_.get();
  thread_ = std::thread([m] { m->own_loop->run(); });
  return "";
}

std::string SinkServer::attach(EventLoop& loop, const std::string& at) {
  auto ep = Endpoint::parse(at);
  if (!ep) return "bad sink address '" + at + "'";
  impl_->config.hostname = "sink.mxdp.test";
  impl_->config.max_recipients = 1000;
  impl_->config.max_message_size = 256u << 20;
  if (!impl_->sink) impl_->sink = std::make_unique<CountingSink>(messages_, recipients_, bytes_);
  Impl* m = impl_.get();
  std::string err = loop.listen(*ep, [m](Connection& c) {
    auto h = std::make_unique<SmtpServerConnection>(m->config, *m->sink);
    h->start(c);
    return h;
  });
  if (!err.empty()) return err;
  port_ = loop.bound_port();
  return "";
}

void SinkServer::stop() {
  if (!thread_.joinable()) return;
  impl_->own_loop->stop();
  thread_.join();
  impl_->own_loop->close_all();
}

}  // namespace mxdp::cli
