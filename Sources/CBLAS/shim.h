#include <cblas.h>
/* OpenBLAS thread control (declared in cblas.h of OpenBLAS). */
