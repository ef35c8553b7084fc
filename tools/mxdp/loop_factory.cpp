#include "tools/mxdp/loop_factory.hpp"

#include "dataplane/kernel/event_loop.hpp"

namespace mxdp::cli {

LoopFactory kernel_loops() {
  return [](unsigned) { return std::make_unique<dataplane::kernel::EventLoop>(); };
}

}  // namespace mxdp::cli
