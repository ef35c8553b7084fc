#include "dataplane/eal.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

namespace mxdp::dataplane {

namespace {
// Written once at start-up on the main thread; relaxed is enough because
// rte_eal_init itself is not thread safe and is serialised by the caller.
std::atomic<bool> g_started{false};
constexpr const char* kPmdDir = "/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0";

bool hugetlbfs_mounted() {
  std::ifstream mounts("/proc/mounts");
  std::string line;
  while (std::getline(mounts, line)) {
    if (line.find(" hugetlbfs ") != std::string::npos) return true;
  }
  return false;
}

std::string explain_failure(int err, const std::vector<std::string>& argv) {
  bool no_huge = false;
  for (const auto& a : argv)
    no_huge |= (a == "--no-huge");
  if (err == EINVAL) {
    // An argument DPDK does not know or cannot parse (getopt named it above).
    std::string args;
    for (std::size_t i = 1; i < argv.size(); ++i)
      args += (i > 1 ? " " : "") + argv[i];
    return "DPDK rejected the EAL arguments (its message above says which): " + args +
           ". EAL arguments go before '--', mxdp's own after it; 'mxdp CMD -h --' lists the EAL's.";
  }
  std::string msg = "EAL init failed (" + std::string(rte_strerror(err)) + "). ";
  if (geteuid() != 0) msg += "DPDK needs root here: run as root (or with sudo). ";
  if (!no_huge && free_hugepages() == 0) {
    msg +=
        "No hugepages: pass --no-huge -m 512, or reserve them with 'dpdk-hugepages.py --setup 1G' "
        "(or echo 256 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages and mount hugetlbfs "
        "on /dev/hugepages). ";
  }
  if (err == EALREADY) msg += "The EAL is already initialised in this process (it starts once per process). ";
  msg +=
      "For a PCI NIC, bind it to vfio-pci (dpdk-devbind.py -b vfio-pci <pci-addr>); "
      "for work without a NIC pass --no-pci and a --vdev.";
  return msg;
}
}  // namespace

unsigned free_hugepages() noexcept {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  unsigned long value = 0;
  while (meminfo >> key >> value) {
    if (key == "HugePages_Free:") return static_cast<unsigned>(value);
    meminfo.ignore(256, '\n');
  }
  return 0;
}

std::vector<unsigned> worker_lcore_cpus() {
  std::vector<unsigned> cpus;
  unsigned lcore = 0;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    cpus.push_back(rte_lcore_to_cpu_id(static_cast<int>(lcore)));
  }
  return cpus;
}

bool pin_this_thread(unsigned cpu) noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

bool eal_started() noexcept {
  return g_started.load(std::memory_order_relaxed);
}

std::vector<std::string> eal_arguments(const EalOptions& o) {
  std::vector<std::string> a{o.program, "-l", o.lcores};
  bool huge = false;
  switch (o.hugepages) {
    case EalOptions::Huge::kYes:
      huge = true;
      break;
    case EalOptions::Huge::kNo:
      huge = false;
      break;
    case EalOptions::Huge::kAuto:
      huge = free_hugepages() >= 64 && hugetlbfs_mounted();
      break;
  }
  if (huge) {
    // In-memory mode: no files in /var/run, so parallel processes do not meet.
    a.push_back("--in-memory");
  } else {
    // --no-huge with --in-memory fails in 22.11 (DPDK-HERE.md); --no-shconf plus
    // a per-process prefix gives the same isolation.
    a.insert(a.end(), {"--no-huge", "-m", std::to_string(o.memory_mb), "--no-shconf"});
    a.push_back("--file-prefix=mxdp" + std::to_string(getpid()));
  }
  if (!o.pci) a.push_back("--no-pci");
  // Debian's DPDK loads PMDs as plugins; name the directory so vdevs resolve
  // even when the build's autoload path differs.
  if (access(kPmdDir, R_OK) == 0) a.insert(a.end(), {"-d", kPmdDir});
  for (const auto& v : o.vdevs)
    a.push_back("--vdev=" + v);
  if (o.quiet) a.push_back("--log-level=lib.eal:error");
  a.insert(a.end(), o.extra.begin(), o.extra.end());
  return a;
}

void start_eal(const EalOptions& options) {
  start_eal(eal_arguments(options));
}

void start_eal(const std::vector<std::string>& argv) {
  if (eal_started())
    throw std::runtime_error("EAL already started in this process (it starts once per process)");
  // rte_eal_init pins the calling thread to the main lcore's CPU, and every
  // thread created afterwards would inherit that one CPU. The caller places
  // its own threads (worker lcores, eal.hpp), so the main thread gets its
  // old affinity back.
  cpu_set_t before;
  const bool have_before = pthread_getaffinity_np(pthread_self(), sizeof before, &before) == 0;
  std::vector<std::string> copy = argv;  // rte_eal_init may permute argv
  std::vector<char*> raw;
  raw.reserve(copy.size() + 1);
  for (auto& s : copy)
    raw.push_back(s.data());
  raw.push_back(nullptr);
  // DPDK prints its whole usage (some 90 lines) to stdout when it rejects an
  // argument; the error thrown below names the arguments instead. Asked for
  // with -h/--help, the usage is the answer, so then it goes out.
  const bool wants_usage =
      std::any_of(argv.begin(), argv.end(), [](const std::string& a) { return a == "-h" || a == "--help"; });
  int saved_stdout = -1;
  if (!wants_usage) {
    std::fflush(stdout);
    saved_stdout = dup(STDOUT_FILENO);
    const int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (saved_stdout >= 0 && devnull >= 0) dup2(devnull, STDOUT_FILENO);
    if (devnull >= 0) close(devnull);
  }
  const int rc = rte_eal_init(static_cast<int>(copy.size()), raw.data());
  if (saved_stdout >= 0) {
    std::fflush(stdout);
    dup2(saved_stdout, STDOUT_FILENO);
    close(saved_stdout);
  }
  if (rc < 0) throw std::runtime_error(explain_failure(rte_errno, argv));
  if (have_before) pthread_setaffinity_np(pthread_self(), sizeof before, &before);
  g_started.store(true, std::memory_order_relaxed);
}

}  // namespace mxdp::dataplane
