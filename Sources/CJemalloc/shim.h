#ifndef WEFT_CJEMALLOC_SHIM_H
#define WEFT_CJEMALLOC_SHIM_H
#include <stddef.h>

// jemalloc's control interface. Linking the library is what matters: it replaces malloc and free for the whole
// process. jemalloc/jemalloc.h would declare malloc and the rest a second time, so only this one is declared here.
int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);

#endif
