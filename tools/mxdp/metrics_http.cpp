#include "tools/mxdp/metrics_http.hpp"

#include <string_view>

namespace mxdp::cli {

namespace {

using dataplane::transport::Connection;

constexpr std::size_t kMaxRequest = 8 * 1024;

void respond(Connection& c, std::string_view status, std::string_view type, std::string_view body) {
  std::string head = "HTTP/1.1 ";
  head += status;
  head += "\r\nContent-Type: ";
  head += type;
  head += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  c.write(head);
  c.write(body);
  c.close();
}

class MetricsHandler : public dataplane::transport::ConnectionHandler {
 public:
  explicit MetricsHandler(MetricsRenderer render) : render_(std::move(render)) {}

  std::size_t on_input(Connection& c, std::string_view bytes) noexcept override {
    if (answered_) return bytes.size();
    request_.append(bytes);
    if (request_.size() > kMaxRequest) {
      answered_ = true;
      respond(c, "431 Request Header Fields Too Large", "text/plain", "request too large\n");
      return bytes.size();
    }
    auto end = request_.find("\r\n\r\n");
    if (end == std::string::npos) return bytes.size();
    answered_ = true;
    std::string_view line(request_.data(), request_.find("\r\n"));
    if (line.starts_with("GET /metrics ") || line.starts_with("GET /metrics?")) {
      respond(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8", render_());
    } else if (line.starts_with("GET ")) {
      respond(c, "404 Not Found", "text/plain", "try /metrics\n");
    } else {
      respond(c, "400 Bad Request", "text/plain", "GET /metrics only\n");
    }
    return bytes.size();
  }

 private:
  MetricsRenderer render_;
  std::string request_;
  bool answered_ = false;
};

}  // namespace

std::unique_ptr<dataplane::transport::ConnectionHandler> make_metrics_handler(MetricsRenderer render) {
  return std::make_unique<MetricsHandler>(std::move(render));
}

}  // namespace mxdp::cli
