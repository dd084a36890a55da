#include <cblas.h>
/* OpenBLAS thread control (declared in cblas.h of OpenBLAS). */

/* OpenBLAS (pthreads build): stops and joins its thread pool; the next threaded call starts a
   new pool from the calling thread, whose floating-point control the new threads inherit. */
extern int blas_thread_shutdown_(void);

/* The calling thread's SSE control and status register (x86-64): bit 15 flush-to-zero, bit 6
   denormals-are-zero. lpom sets both at start-up (LiftedTrain's `Denormals`): on Intel CPUs a
   product with denormal operands runs through microcode assists (sgemm 97 → 0.7 GFLOP/s measured
   on Xeon model 207, 2026-12-06). Elsewhere these read 0 and set nothing. */
static inline unsigned int lpom_fp_control_get(void) {
#if defined(__x86_64__)
    unsigned int c;
    __asm__ __volatile__("stmxcsr %0" : "=m"(c));
    return c;
#else
    return 0;
#endif
}
static inline void lpom_fp_control_set(unsigned int c) {
#if defined(__x86_64__)
    __asm__ __volatile__("ldmxcsr %0" : : "m"(c));
#else
    (void)c;
#endif
}
