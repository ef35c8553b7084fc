#pragma once
// One EAL per test binary (it starts once per process): a gtest Environment
// that starts it with --no-huge (unless hugepages are free), --no-pci, a
// per-process file prefix, and whatever vdevs the binary needs.

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "dataplane/eal.hpp"

namespace mxdp::dataplane::testing {

class EalEnvironment : public ::testing::Environment {
 public:
  explicit EalEnvironment(EalOptions options = {}) : options_(std::move(options)) {}
  void SetUp() override {
    try {
      start_eal(options_);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "EAL start failed: %s\n", e.what());
      std::abort();
    }
  }

 private:
  EalOptions options_;
};

}  // namespace mxdp::dataplane::testing
