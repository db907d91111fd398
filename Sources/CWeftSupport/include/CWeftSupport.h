#ifndef WEFT_SUPPORT_H
#define WEFT_SUPPORT_H

/// Asks the CPU to start loading the cache line at `address`, for reading, without waiting for it. A hint only:
/// it never faults, whatever the address.
static inline void weft_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// How many CPUs the calling thread may run on (its affinity mask, inherited from `taskset`, systemd's
/// `CPUAffinity=` or `numactl`), or 0 if the mask cannot be read (a machine with more than 1024 CPUs).
int weft_affinity_cpu_count(void);

#endif
