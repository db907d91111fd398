#ifndef WEFT_SUPPORT_H
#define WEFT_SUPPORT_H

/// Asks the CPU to start loading the cache line at `address`, for reading, without waiting for it. A hint only:
/// it never faults, whatever the address.
static inline void weft_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
