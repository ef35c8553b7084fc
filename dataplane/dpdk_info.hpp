#pragma once
// Facts about the DPDK build mxdp is linked with, for --version and reports.
// Deliberately free of DPDK types: callers above the dataplane never see them.

#include <string>

namespace mxdp::dataplane {

// "DPDK 22.11.x" as reported by rte_version().
std::string dpdk_version();

}  // namespace mxdp::dataplane
