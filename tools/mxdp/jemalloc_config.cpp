// jemalloc's compiled-in options for the mxdp program (read once, before the
// first allocation; MALLOC_CONF in the environment still overrides them).
//
// thp:always asks for transparent huge pages (madvise(MADV_HUGEPAGE)) on the
// heap, so the recipient directory, message objects and envelope strings,
// read at random across tens of megabytes, cost fewer TLB misses. It only
// asks: with /sys/kernel/mm/transparent_hugepage/enabled at "never" the
// kernel ignores it, and nothing depends on it. Measured in the commit that
// added it (mxdp bench, the appliance core's busy ns per message).
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's interface (man jemalloc, TUNING).
const char* malloc_conf = "thp:always,metadata_thp:auto";
}
