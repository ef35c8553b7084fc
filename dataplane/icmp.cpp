#include "dataplane/icmp.hpp"

#include "dataplane/checksum.hpp"
#include "dataplane/wire.hpp"

namespace mxdp::dataplane {

IcmpResult icmp_echo_input(std::span<std::uint8_t> message) noexcept {
  IcmpResult r;
  if (message.size() < sizeof(wire::IcmpEcho)) return r;
  if (checksum_finish(checksum_partial(message)) != 0) {
    r.drop = DropReason::kIcmpBadChecksum;
    return r;
  }
  auto* h = reinterpret_cast<wire::IcmpEcho*>(message.data());
  if (h->type != wire::kIcmpEchoRequest || h->code != 0) {
    r.drop = DropReason::kIcmpNotEcho;
    return r;
  }
  h->type = wire::kIcmpEchoReply;
  h->checksum.set(0);
  h->checksum.set(checksum_finish(checksum_partial(message)));
  r.reply = true;
  return r;
}

}  // namespace mxdp::dataplane
