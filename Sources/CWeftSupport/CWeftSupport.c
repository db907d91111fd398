// The C helpers Swift cannot express: a prefetch (an inline function in include/CWeftSupport.h) and the CPU
// count of the affinity mask (CPU_COUNT and sched_getaffinity need _GNU_SOURCE, which Swift's Glibc does not set).
#define _GNU_SOURCE
#include "CWeftSupport.h"

#ifdef __linux__
#include <sched.h>

int weft_affinity_cpu_count(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) {
        return 0;
    }
    return CPU_COUNT(&set);
}
#else
int weft_affinity_cpu_count(void) {
    return 0;
}
#endif
