/* The sgemm rate of the OpenBLAS that lpom links (the system libopenblas), for the benchmarks'
 * "fraction of the sgemm rate": C = A B with square n × n float32 matrices, timed for at least
 * `seconds`, the best of three, on `threads` OpenBLAS threads. Prints one line:
 *   sgemm n 1024 threads 1 gflops 121.8 core Haswell
 * Build: cc -O2 bench/sgemm_rate.c -o sgemm_rate $(pkg-config --cflags --libs openblas) -lm
 * Usage: sgemm_rate [n=1024] [threads=1] [seconds=1] */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

char *openblas_get_corename(void);
void openblas_set_num_threads(int);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1024, threads = argc > 2 ? atoi(argv[2]) : 1;
    double seconds = argc > 3 ? atof(argv[3]) : 1;
    openblas_set_num_threads(threads);
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
    for (long i = 0; i < (long)n * n; i++) { a[i] = (float)(i % 7) / 7 - 0.5f; b[i] = (float)(i % 5) / 5 - 0.4f; c[i] = 0; }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n); /* warm-up */
    double best = 0;
    for (int round = 0; round < 3; round++) {
        long calls = 0;
        double t0 = now(), t;
        do {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
            calls++;
            t = now() - t0;
        } while (t < seconds / 3);
        double rate = 2.0 * n * n * n * calls / t / 1e9;
        if (rate > best) best = rate;
    }
    printf("sgemm n %d threads %d gflops %.1f core %s\n", n, threads, best, openblas_get_corename());
    free(a); free(b); free(c);
    return 0;
}
