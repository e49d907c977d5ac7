/* ranks.h: the CLI across MPI ranks (`mpirun -n R irv2 eval|classify|bench ...`): each rank
 * takes a contiguous share of the images (or runs its own sweep), and rank 0 gathers what the
 * others produced, so that it prints what a single process would. Built with MPI when CMake
 * finds it (IRV2_WITH_MPI); MPI starts only when a launcher started the process, so irv2 run
 * by hand stays a plain process. Without MPI every call here is that of a single rank. */
#ifndef IRV2_CLI_RANKS_H
#define IRV2_CLI_RANKS_H

#include <stddef.h>
#include <stdio.h>

typedef struct cli_mpi {
    int active;      /* started under an MPI launcher, MPI initialised */
    int rank, size;  /* 0 and 1 when not active */
    int local_rank;  /* among the ranks of this machine (selects the device) */
    char host[64];
} cli_mpi;

/* The process's MPI state: initialises MPI when a launcher started the process. */
extern cli_mpi cli_world;

void cli_mpi_init(int *argc, char ***argv);
void cli_mpi_finalize(void);

/* This rank's share of count items: [*first, *first + return value), contiguous, in rank
 * order, so that rank 0's share comes first. */
size_t cli_mpi_share(size_t count, size_t *first);

/* Whether ok holds on every rank (each rank must call it). */
int cli_mpi_all(int ok);

/* Sums n values over the ranks, into every rank's values. */
void cli_mpi_sum(unsigned long long *values, int n);

/* Rank 0 gets the texts of every rank, concatenated in rank order (malloc'ed, NUL-terminated,
 * *len bytes); other ranks get NULL. Returns NULL on rank 0 too when out of memory. */
char *cli_mpi_gather(const char *text, size_t len, size_t *total);

/* What a rank prints on stdout between begin and end, gathered to rank 0's stdout in rank
 * order at the end (every rank calls both), so that shares of a list print in the list's
 * order; nothing changes in a single process. Returns -1 when the output could not be kept
 * (on any rank, for end). */
typedef struct cli_capture {
    int saved;
    FILE *tmp;
} cli_capture;
int cli_capture_begin(cli_capture *c);
int cli_capture_end(cli_capture *c);

#endif
