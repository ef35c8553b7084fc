#include "dataplane/recv_chain.hpp"

#include <rte_mbuf.h>

#include <algorithm>

namespace mxdp::dataplane {

RecvChain::RecvChain(RecvChain&& other) noexcept : count_(other.count_), bytes_(other.bytes_) {
  std::copy_n(other.mbufs_.begin(), count_, mbufs_.begin());
  std::copy_n(other.segments_.begin(), count_, segments_.begin());
  other.count_ = 0;
  other.bytes_ = 0;
}

RecvChain& RecvChain::operator=(RecvChain&& other) noexcept {
  if (this != &other) {
    release();
    count_ = other.count_;
    std::copy_n(other.mbufs_.begin(), count_, mbufs_.begin());
    std::copy_n(other.segments_.begin(), count_, segments_.begin());
    bytes_ = other.bytes_;
    other.count_ = 0;
    other.bytes_ = 0;
  }
  return *this;
}

void RecvChain::append_to(std::string& out) const {
  for (std::size_t i = 0; i < count_; ++i) {
    out.append(reinterpret_cast<const char*>(segments_[i].data), segments_[i].size);
  }
}

void RecvChain::release() noexcept {
  for (std::size_t i = 0; i < count_; ++i)
    rte_pktmbuf_free(mbufs_[i]);
  count_ = 0;
  bytes_ = 0;
}

bool RecvChain::push(rte_mbuf* m) noexcept {
  if (count_ == kMaxSegments) return false;
  mbufs_[count_] = m;
  segments_[count_] = RecvSegment{rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len};
  bytes_ += m->data_len;
  ++count_;
  return true;
}

}  // namespace mxdp::dataplane
