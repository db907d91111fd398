#ifndef WEFT_MALLOC_COUNTER_H
#define WEFT_MALLOC_COUNTER_H

/// Allocation calls (malloc, calloc, realloc, aligned allocations) made by the whole process so far.
unsigned long weft_malloc_count(void);

/// free calls made by the whole process so far.
unsigned long weft_free_count(void);

#endif
