/* sgemm rate of this machine's OpenBLAS (the one lpom links), for bench/surf_bench.sh:
 * C[m,n] = A[m,k] B[k,n], m = 300 (the surf batch), k = n = 1024, repeated for about a second
 * after one warm-up call; prints the best of 5 such runs in GFLOP/s (2mnk per call).
 * Threads: OPENBLAS_NUM_THREADS.   cc -O2 bench/sgemm_rate.c -lopenblas */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
int main(int argc, char **argv) {
    int m = argc > 1 ? atoi(argv[1]) : 300, k = argc > 2 ? atoi(argv[2]) : 1024, n = argc > 3 ? atoi(argv[3]) : 1024;
    float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n), *c = malloc(sizeof(float) * m * n);
    for (long i = 0; i < (long)m * k; i++) a[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    for (long i = 0; i < (long)k * n; i++) b[i] = (float)((i * 104729) % 1000) / 1000.0f - 0.5f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1, a, k, b, n, 0, c, n);
    double best = 0;
    for (int r = 0; r < 5; r++) {
        int calls = 0; double t0 = now(), t;
        do { cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1, a, k, b, n, 0, c, n); calls++; }
        while ((t = now() - t0) < 0.2);
        double rate = 2.0 * m * n * k * calls / t / 1e9;
        if (rate > best) best = rate;
    }
    printf("%.1f\n", best);
    return c[0] == 12345.0f;   /* keep the product live */
}
