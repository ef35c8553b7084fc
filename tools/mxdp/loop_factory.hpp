#pragma once
// Where the appliance, the load generator and the sinks get their event loops:
// one per worker thread, from the transport chosen with --backend
// (dataplane/transport/event_loop.hpp).

#include <functional>
#include <memory>

#include "dataplane/transport/event_loop.hpp"

namespace mxdp::cli {

// Returns the loop for worker `index` (0-based); called on the main thread
// before the workers start.
using LoopFactory = std::function<std::unique_ptr<dataplane::transport::EventLoop>(unsigned index)>;

// Linux sockets (epoll): the `kernel` backend.
LoopFactory kernel_loops();

}  // namespace mxdp::cli
