#include "routing/ids.hpp"

namespace mxdp::routing {

std::string to_string(ShardId id) {
  return "shard" + std::to_string(id.value);
}

}  // namespace mxdp::routing
