/* sgemm on ordinary and on denormal operands (OpenBLAS, one thread): the cost of denormals.
 *
 *   cc -O2 bench/sgemm_denormal.c -o /tmp/sgemm_denormal $(pkg-config --cflags --libs openblas)
 *   OPENBLAS_CORETYPE=Cooperlake OPENBLAS_NUM_THREADS=1 /tmp/sgemm_denormal 1       # A in [0, 1)
 *   OPENBLAS_CORETYPE=Cooperlake OPENBLAS_NUM_THREADS=1 /tmp/sgemm_denormal 1e-39   # A denormal
 *
 * The product is the paper generator's widest layer for a batch of 103 rows (103 × 1024 by
 * 1024 × 6272). 2026-12-06, Intel Xeon family 6 model 207: 97.5 and 0.7 GFLOP/s — why lpom sets
 * flush-to-zero at start-up (`Denormals` in Sources/LiftedTrain/Core/OpenBLAS.swift). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
int main(int c,char**v){int M=103,K=1024,N=6272; float scale=atof(v[1]);
float*A=calloc((size_t)M*K,4),*B=calloc((size_t)K*N,4),*C=calloc((size_t)M*N,4);
for(size_t i=0;i<(size_t)M*K;i++)A[i]=scale*(rand()/(float)RAND_MAX);for(size_t i=0;i<(size_t)K*N;i++)B[i]=rand()/(float)RAND_MAX;
struct timespec t0,t1;int R=10;
clock_gettime(CLOCK_PROCESS_CPUTIME_ID,&t0);for(int r=0;r<R;r++)cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,M,N,K,1,A,K,B,N,0,C,N);
clock_gettime(CLOCK_PROCESS_CPUTIME_ID,&t1);double s=(t1.tv_sec-t0.tv_sec)+(t1.tv_nsec-t0.tv_nsec)*1e-9;printf("scale %g: %.1f GFLOP/s\n",scale,2.0*M*K*N*R/s/1e9);}
