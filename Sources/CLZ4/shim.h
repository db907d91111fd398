#ifndef WEFT_CLZ4_SHIM_H
#define WEFT_CLZ4_SHIM_H
#include <lz4.h>
#endif
