// The C helpers Swift cannot express (a prefetch); all of them are inline functions in include/CWeftSupport.h.
#include "CWeftSupport.h"
