#include "dataplane/dpdk_info.hpp"

#include <rte_version.h>

namespace mxdp::dataplane {

std::string dpdk_version() {
  return rte_version();
}

}  // namespace mxdp::dataplane
