/* MPI latency and bandwidth between 2 ranks, for the cost model of notebooks-md/06-distributed.md.
 * One-way time of a message (half the ping-pong round trip) and the time of an allreduce (sum of
 * floats), for sizes from 8 bytes to 16 MB; the median of REPS repetitions after a warm-up.
 * Build and run (bench/mpi_bench.sh does both):
 *   mpicc -O2 -o mpi_pingpong bench/mpi_pingpong.c && mpirun -np 2 ./mpi_pingpong
 * Prints one line per size: bytes, one-way seconds, allreduce seconds. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size != 2) { if (rank == 0) fprintf(stderr, "mpi_pingpong: run with exactly 2 ranks\n"); MPI_Abort(MPI_COMM_WORLD, 1); }
    const size_t sizes[] = {8, 1024, 16384, 131072, 1048576, 4194304, 16777216};
    enum { REPS = 31 };
    double t[REPS];
    char *buf = malloc(16777216), *out = malloc(16777216);
    memset(buf, 1, 16777216);
    if (rank == 0) printf("bytes one_way_s allreduce_s\n");
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s];
        int reps = n >= 4194304 ? 11 : REPS;
        for (int r = -3; r < reps; r++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            if (rank == 0) {
                MPI_Send(buf, (int)n, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
                MPI_Recv(buf, (int)n, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            } else {
                MPI_Recv(buf, (int)n, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                MPI_Send(buf, (int)n, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
            }
            if (r >= 0) t[r] = (MPI_Wtime() - t0) / 2;
        }
        qsort(t, reps, sizeof *t, cmp);
        double oneway = t[reps / 2];
        int count = n < 4 ? 1 : (int)(n / 4);
        for (int r = -3; r < reps; r++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            MPI_Allreduce(buf, out, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            if (r >= 0) t[r] = MPI_Wtime() - t0;
        }
        qsort(t, reps, sizeof *t, cmp);
        /* Both ranks' medians; the larger is the collective's time. */
        double mine = t[reps / 2], worst;
        MPI_Reduce(&mine, &worst, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
        if (rank == 0) printf("%zu %.3e %.3e\n", n, oneway, worst);
    }
    free(buf); free(out);
    MPI_Finalize();
    return 0;
}
