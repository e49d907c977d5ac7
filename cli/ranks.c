/* ranks.c: the CLI's MPI layer (ranks.h): start-up under a launcher, shares, reductions and the
 * gathering of texts to rank 0; a single rank's answers when built without MPI. */
#include "ranks.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef IRV2_WITH_MPI
#include <mpi.h>
#endif

cli_mpi cli_world = {0, 0, 1, 0, ""};

/* A launcher (Open MPI, MPICH/Hydra, PMIx) leaves these in the environment of each rank. */
static int launched(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

void cli_mpi_init(int *argc, char ***argv)
{
    if (gethostname(cli_world.host, sizeof cli_world.host) != 0) strcpy(cli_world.host, "?");
    cli_world.host[sizeof cli_world.host - 1] = '\0';
#ifdef IRV2_WITH_MPI
    if (!launched() || MPI_Init(argc, argv) != MPI_SUCCESS) return;
    cli_world.active = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &cli_world.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &cli_world.size);
    MPI_Comm local;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, cli_world.rank, MPI_INFO_NULL,
                            &local) == MPI_SUCCESS) {
        MPI_Comm_rank(local, &cli_world.local_rank);
        MPI_Comm_free(&local);
    }
#else
    (void)argc, (void)argv;
    (void)launched;
#endif
}

void cli_mpi_finalize(void)
{
#ifdef IRV2_WITH_MPI
    if (cli_world.active) MPI_Finalize();
    cli_world.active = 0;
#endif
}

size_t cli_mpi_share(size_t count, size_t *first)
{
    const size_t r = (size_t)cli_world.rank, n = (size_t)cli_world.size;
    *first = count * r / n;
    return count * (r + 1) / n - *first;
}

int cli_mpi_all(int ok)
{
#ifdef IRV2_WITH_MPI
    if (cli_world.active) {
        int all = 0;
        MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
        return all;
    }
#endif
    return ok;
}

void cli_mpi_sum(unsigned long long *values, int n)
{
#ifdef IRV2_WITH_MPI
    if (cli_world.active)
        MPI_Allreduce(MPI_IN_PLACE, values, n, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
#else
    (void)values, (void)n;
#endif
}

char *cli_mpi_gather(const char *text, size_t len, size_t *total)
{
    *total = 0;
#ifdef IRV2_WITH_MPI
    if (cli_world.active) {
        const int size = cli_world.size, root = cli_world.rank == 0;
        /* lengths first (as long long: a rank's text may pass 2 GiB in counts of int) */
        long long mine = (long long)len, *lens = root ? calloc((size_t)size, sizeof *lens) : NULL;
        MPI_Gather(&mine, 1, MPI_LONG_LONG, lens, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
        char *all = NULL;
        if (root) {
            size_t sum = 0;
            for (int r = 0; lens && r < size; r++) sum += (size_t)lens[r];
            all = lens ? malloc(sum + 1) : NULL;
            if (!all) MPI_Abort(MPI_COMM_WORLD, 1); /* the others would wait to send forever */
            if (all) {
                memcpy(all, text, len);
                size_t at = len;
                for (int r = 1; r < size; r++) {
                    /* in pieces of at most 1 GiB: MPI counts are ints */
                    for (size_t got = 0; got < (size_t)lens[r];) {
                        size_t piece = (size_t)lens[r] - got;
                        if (piece > (1u << 30)) piece = 1u << 30;
                        MPI_Recv(all + at + got, (int)piece, MPI_CHAR, r, 7, MPI_COMM_WORLD,
                                 MPI_STATUS_IGNORE);
                        got += piece;
                    }
                    at += (size_t)lens[r];
                }
                all[at] = '\0';
                *total = at;
            }
            free(lens);
            return all;
        }
        for (size_t sent = 0; sent < len;) {
            size_t piece = len - sent > (1u << 30) ? 1u << 30 : len - sent;
            MPI_Send(text + sent, (int)piece, MPI_CHAR, 0, 7, MPI_COMM_WORLD);
            sent += piece;
        }
        return NULL;
    }
#endif
    char *all = malloc(len + 1);
    if (!all) return NULL;
    memcpy(all, text, len);
    all[len] = '\0';
    *total = len;
    return all;
}

int cli_capture_begin(cli_capture *c)
{
    c->saved = -1;
    c->tmp = NULL;
    if (!cli_world.active || cli_world.size < 2) return 0;
    fflush(stdout);
    c->tmp = tmpfile();
    c->saved = c->tmp ? dup(STDOUT_FILENO) : -1;
    if (c->saved < 0 || dup2(fileno(c->tmp), STDOUT_FILENO) < 0) {
        if (c->saved >= 0) close(c->saved);
        if (c->tmp) fclose(c->tmp);
        c->saved = -1, c->tmp = NULL;
        return -1;
    }
    return 0;
}

int cli_capture_end(cli_capture *c)
{
    if (!c->tmp) return 0;
    fflush(stdout);
    dup2(c->saved, STDOUT_FILENO);
    close(c->saved);
    /* what this rank printed, then every rank's in rank order on rank 0's stdout */
    long len = fseek(c->tmp, 0, SEEK_END) == 0 ? ftell(c->tmp) : -1;
    char *text = len >= 0 ? malloc((size_t)len + 1) : NULL;
    int ok = text && fseek(c->tmp, 0, SEEK_SET) == 0 &&
             fread(text, 1, (size_t)len, c->tmp) == (size_t)len;
    fclose(c->tmp);
    c->tmp = NULL;
    size_t total = 0;
    char *all = cli_mpi_gather(ok ? text : "", ok ? (size_t)len : 0, &total);
    if (all) fwrite(all, 1, total, stdout);
    fflush(stdout);
    free(all);
    free(text);
    return cli_mpi_all(ok) ? 0 : -1;
}
