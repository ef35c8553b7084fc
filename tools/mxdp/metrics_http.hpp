#pragma once
// A minimal HTTP/1.1 endpoint for Prometheus scrapes (text exposition format
// 0.0.4) served from a kernel event loop: GET /metrics answers the text the
// callback renders; anything else gets 404 or 400. One request per connection
// (Connection: close), requests bounded at 8 KiB.

#include <functional>
#include <memory>
#include <string>

#include "dataplane/transport/connection.hpp"

namespace mxdp::cli {

using MetricsRenderer = std::function<std::string()>;

std::unique_ptr<dataplane::transport::ConnectionHandler> make_metrics_handler(MetricsRenderer render);

}  // namespace mxdp::cli
