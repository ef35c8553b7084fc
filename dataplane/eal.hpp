#pragma once
// EAL start-up. The EAL can start once per process; start_eal() fails loudly
// (std::runtime_error) with a message that names the fix. With no hugepages
// reserved it runs with --no-huge; every process gets its own --file-prefix
// and no shared config, so several test processes run at once (ctest -j2).

#include <string>
#include <vector>

namespace mxdp::dataplane {

struct EalOptions {
  std::string program = "mxdp";
  std::string lcores = "0";  // -l list
  unsigned memory_mb = 512;  // -m, used with --no-huge
  bool pci = false;          // false: --no-pci (virtual ports only)
  enum class Huge { kAuto, kYes, kNo } hugepages = Huge::kAuto;
  std::vector<std::string> vdevs;  // each becomes --vdev=...
  std::vector<std::string> extra;  // passed through unchanged (user EAL args)
  bool quiet = true;               // --log-level=lib.eal:error
};

// Builds the argv start_eal() would use (exposed for tests and --verbose).
std::vector<std::string> eal_arguments(const EalOptions& options);

// Starts the EAL. Throws std::runtime_error naming the fix when it cannot.
void start_eal(const EalOptions& options);

// Starts the EAL with a ready argv (the user's EAL args from `mxdp CMD ... --`).
void start_eal(const std::vector<std::string>& argv);

bool eal_started() noexcept;

// The CPUs of the worker lcores of -l (the main lcore excluded), in order:
// where a program pins its polling threads. start_eal() leaves the calling
// thread's affinity as it was (threads it creates are not all on lcore 0).
std::vector<unsigned> worker_lcore_cpus();
bool pin_this_thread(unsigned cpu) noexcept;

// Number of free 2 MB / 1 GB hugepages the kernel reports (for --no-huge auto).
unsigned free_hugepages() noexcept;

}  // namespace mxdp::dataplane
