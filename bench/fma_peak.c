/* fma_peak.c: irv2-fma-peak, the CPU's fp32 FMA throughput with 256-bit (AVX2) and, where the
 * CPU has them, 512-bit (AVX-512) vectors, on one thread and on every CPU this process may use:
 * the ceiling that no fp32 convolution on this machine can pass (irv2's and its peers' GFLOP/s
 * are fractions of it). Each thread runs 12 independent chains of vector FMAs from registers
 * (no memory traffic); the figure is the best of 5 timed runs of about 0.2 s.
 * Usage: irv2-fma-peak [threads] */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHAINS 12

typedef struct job {
    long iters;
    int wide;     /* 1: 512-bit vectors, 0: 256-bit */
    float result; /* written through the job, so the chains are not optimised away */
} job;

__attribute__((target("avx2,fma"))) static float run256(long iters)
{
    __m256 acc[CHAINS];
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int c = 0; c < CHAINS; c++) acc[c] = _mm256_set1_ps((float)c);
    for (long i = 0; i < iters; i++)
        for (int c = 0; c < CHAINS; c++) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
    float s = 0;
    for (int c = 0; c < CHAINS; c++) s += _mm256_cvtss_f32(acc[c]);
    return s;
}

__attribute__((target("avx512f"))) static float run512(long iters)
{
    __m512 acc[CHAINS];
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int c = 0; c < CHAINS; c++) acc[c] = _mm512_set1_ps((float)c);
    for (long i = 0; i < iters; i++)
        for (int c = 0; c < CHAINS; c++) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
    float s = 0;
    for (int c = 0; c < CHAINS; c++) s += _mm512_reduce_add_ps(acc[c]);
    return s;
}

static void *worker(void *arg)
{
    job *j = arg;
    j->result = j->wide ? run512(j->iters) : run256(j->iters);
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Seconds for `threads` threads to run `iters` iterations each; -1 when a thread failed to start. */
static double timed(int threads, int wide, long iters)
{
    pthread_t tid[256];
    job jobs[256];
    int started = 0;
    double t0 = now_s();
    for (; started < threads; started++) {
        jobs[started] = (job){iters, wide, 0};
        if (pthread_create(&tid[started], NULL, worker, &jobs[started]) != 0) break;
    }
    for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);
    return started == threads ? now_s() - t0 : -1;
}

/* GFLOP/s: the best of 5 runs, each calibrated to about 0.2 s; -1 on failure. */
static double peak(int threads, int wide)
{
    const int lanes = wide ? 16 : 8;
    long iters = 1 << 16;
    double t;
    while ((t = timed(1, wide, iters)) >= 0 && t < 0.05) iters *= 2;
    if (t < 0) return -1;
    iters = (long)(iters * 0.2 / t) + 1;
    double best = -1;
    for (int r = 0; r < 5; r++) {
        double s = timed(threads, wide, iters);
        if (s < 0) return -1;
        if (best < 0 || s < best) best = s;
    }
    return 2.0 * lanes * CHAINS * (double)iters * threads / best * 1e-9;
}

int main(int argc, char **argv)
{
    cpu_set_t set;
    int cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    int threads = argc > 1 ? atoi(argv[1]) : cpus;
    if (argc > 2 || threads < 1 || threads > 256) {
        fprintf(stderr, "usage: irv2-fma-peak [threads 1..256]\n");
        return 2;
    }
    __builtin_cpu_init();
    int has512 = __builtin_cpu_supports("avx512f") != 0;
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        fprintf(stderr, "irv2-fma-peak: this CPU has no AVX2 with FMA\n");
        return 1;
    }
    printf("fp32 FMA peak, %d CPUs available, best of 5 runs of about 0.2 s:\n", cpus);
    for (int wide = 0; wide <= has512; wide++) {
        int counts[2] = {1, threads};
        for (int k = 0; k < (threads > 1 ? 2 : 1); k++) {
            double g = peak(counts[k], wide);
            if (g < 0) {
                fprintf(stderr, "irv2-fma-peak: could not start %d threads\n", counts[k]);
                return 1;
            }
            printf("  %s  %d thread%s  %7.1f GFLOP/s\n", wide ? "512-bit" : "256-bit", counts[k],
                   counts[k] > 1 ? "s" : " ", g);
        }
    }
    if (!has512) printf("  (no AVX-512 on this CPU)\n");
    return 0;
}
