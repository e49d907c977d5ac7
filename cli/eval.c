/* eval.c: `irv2 eval`: top-1 / top-5 error of a model on a labelled image set (a folder per
 * class, or a list file of `path label` lines) with 1, 10 or 144 crops per image, and with
 * --results-file each image's top 5 as CSV. */
#include "cli.h"
#include "files.h"
#include "infer.h"
#include "multidev.h"
#include "ranks.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RESULT_TOP 5

typedef struct eval_state {
    const dataset *d;
    unsigned classes;
    size_t done, failed, top1_wrong, top5_wrong;
    int tty, quiet;
    double t0, last_line;
    /* --results-file: rows in the data set's order; a failure is found before the results
     * of the images ahead of it, so its message waits until they are written */
    FILE *results;
    char **errors;
    size_t next;
    size_t base;             /* this MPI rank's first image (0 in one process) */
} eval_state;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* "1:05" or "1:02:05" */
static void clock_text(double s, char *buf, size_t cap)
{
    long t = s > 0 ? (long)(s + 0.5) : 0;
    if (t >= 3600) snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, cap, "%ld:%02ld", t / 60, t % 60);
}

/* A bar rewritten in place on a terminal; elsewhere a line every 10 s and the last. */
static void progress(eval_state *s, int final)
{
    if (s->quiet) return;
    size_t total = s->d->count, done = s->done + s->failed;
    double now = now_s(), t = now - s->t0, rate = t > 0 ? done / t : 0;
    char eta[32];
    clock_text(rate > 0 ? (total - done) / rate : 0, eta, sizeof eta);
    if (s->tty) {
        int width = 30, fill = total ? (int)(width * done / total) : width;
        fprintf(stderr, "\r[%.*s%*s] %zu/%zu %.2f img/s ETA %s ", fill,
                "==============================", width - fill, "", done, total, rate, eta);
        if (final) fputc('\n', stderr);
    } else if (final || now - s->last_line >= 10.0) {
        if (done == 0 && !final) return;
        s->last_line = now;
        fprintf(stderr, "irv2: eval: %zu/%zu images, %.2f images/s%s%s%s\n", done, total, rate,
                final ? "" : ", about ", final ? "" : eta, final ? "" : " left");
    }
    fflush(stderr);
}


static void results_header(FILE *f)
{
    fputs("image,label", f);
    for (int k = 1; k <= RESULT_TOP; k++) fprintf(f, ",top%d_class,top%d_prob", k, k);
    fputs(",top1_correct,top5_correct,error\n", f);
}

/* The rows of the images before index that failed. */
static void flush_errors(eval_state *s, size_t index)
{
    for (; s->next < index; s->next++) {
        char *error = s->errors[s->next];
        if (!error) continue;
        cli_csv_field(s->results, s->d->paths[s->next]);
        fprintf(s->results, ",%u", s->d->labels[s->next]);
        for (int k = 0; k < RESULT_TOP; k++) fputs(",,", s->results);
        fputs(",,,", s->results);
        cli_csv_field(s->results, error);
        fputc('\n', s->results);
        free(error);
        s->errors[s->next] = NULL;
    }
}

static void result_row(eval_state *s, size_t index, const float *probs, unsigned rank)
{
    unsigned top[RESULT_TOP], k = s->classes < RESULT_TOP ? s->classes : RESULT_TOP;
    for (unsigned i = 0; i < k; i++) { /* most probable first, lower index first on ties */
        int best = -1;
        for (unsigned c = 0; c < s->classes; c++) {
            int taken = 0;
            for (unsigned j = 0; j < i && !taken; j++) taken = top[j] == c;
            if (!taken && (best < 0 || probs[c] > probs[best])) best = (int)c;
        }
        top[i] = (unsigned)best;
    }
    flush_errors(s, index);
    s->next = index + 1;
    cli_csv_field(s->results, s->d->paths[index]);
    fprintf(s->results, ",%u", s->d->labels[index]);
    for (unsigned i = 0; i < RESULT_TOP; i++) {
        if (i < k) fprintf(s->results, ",%u,%.6g", top[i], probs[top[i]]);
        else fputs(",,", s->results);
    }
    fprintf(s->results, ",%d,%d,\n", rank < 1, rank < 5);
}

static void on_image(void *user, size_t index, const float *probs, const char *error)
{
    eval_state *s = user;
    index += s->base; /* the job holds this rank's share of the data set */
    if (!probs) {
        const char *path = s->d->paths[index];
        size_t n = strlen(path);
        if (s->tty && !s->quiet) fputc('\n', stderr);
        if (strncmp(error, path, n) == 0 && error[n] == ':') cli_error("%s", error);
        else cli_error("%s: %s", path, error);
        if (s->results && !s->errors[index]) s->errors[index] = strdup(error);
        s->failed++;
        progress(s, 0);
        return;
    }
    /* Rank of the true class: classes more probable, or as probable with a lower index. */
    unsigned label = s->d->labels[index], rank = 0;
    for (unsigned c = 0; c < s->classes; c++)
        rank += probs[c] > probs[label] || (probs[c] == probs[label] && c < label);
    s->top1_wrong += rank >= 1;
    s->top5_wrong += rank >= 5;
    s->done++;
    if (s->results) result_row(s, index, probs, rank);
    progress(s, 0);
}

/* MPI: the rows of the other ranks (each its share, in rank order) appended to rank 0's
 * results file; every rank calls it. Returns -1 when they could not be written. */
static int gather_rows(eval_state *s)
{
    const int root = cli_world.rank == 0;
    char *rows = NULL;
    long len = 0;
    if (!root) { /* this rank's rows, from its temporary file */
        fflush(s->results);
        len = fseek(s->results, 0, SEEK_END) == 0 ? ftell(s->results) : -1;
        rows = len > 0 ? malloc((size_t)len) : NULL;
        if (len > 0 && (!rows || fseek(s->results, 0, SEEK_SET) != 0 ||
                        fread(rows, 1, (size_t)len, s->results) != (size_t)len))
            len = 0;
        if (len < 0) len = 0;
    }
    size_t total = 0;
    char *all = cli_mpi_gather(rows ? rows : "", (size_t)len, &total);
    free(rows);
    int bad = root && (!all || fwrite(all, 1, total, s->results) != total);
    free(all);
    return cli_mpi_all(!bad) ? 0 : -1;
}

/* The counts every rank adds up (cli_mpi_sum) for the summary and the exit status. */
typedef struct eval_counts {
    unsigned long long done, failed, top1_wrong, top5_wrong;
    unsigned long long stopped;   /* a rank could not go on (reported where it happened) */
    unsigned long long redone;    /* a device failed and the others ran its images */
} eval_counts;

static void sum_counts(eval_counts *c)
{
    unsigned long long v[6] = {c->done, c->failed, c->top1_wrong, c->top5_wrong, c->stopped,
                               c->redone};
    cli_mpi_sum(v, 6);
    *c = (eval_counts){v[0], v[1], v[2], v[3], v[4], v[5]};
}

/* --data: a folder of class folders or a list file, cut to --limit. */
static int load_dataset(const cli_args *a, dataset *d)
{
    struct stat st_data;
    if (stat(a->data, &st_data) != 0) {
        cli_error("%s: no such folder or list file", a->data);
        return -1;
    }
    if (S_ISDIR(st_data.st_mode) ? dataset_from_dir(a->data, d) : dataset_from_list(a->data, d))
        return -1;
    for (; a->limit && d->count > a->limit; d->count--) free(d->paths[d->count - 1]);
    return 0;
}

/* --results-file: rank 0 writes the file atomically (its header first); the other ranks keep
 * their rows in a temporary file until they are gathered. */
static int open_results(const cli_args *a, eval_state *s, cli_output *out)
{
    if (!a->results_file) return 0;
    if (!(s->errors = calloc(s->d->count ? s->d->count : 1, sizeof *s->errors))) {
        cli_error("eval: out of host memory");
        return -1;
    }
    if (cli_world.rank == 0) {
        if (cli_output_open(out, "eval", "--results-file", a->results_file) != 0) return -1;
        s->results = out->f;
        results_header(s->results);
    } else if (!(s->results = tmpfile())) {
        cli_error("eval: --results-file %s: cannot write a temporary file: %s", a->results_file,
                  strerror(errno));
        return -1;
    }
    return 0;
}

/* Every label is one of the model's classes. */
static int check_labels(const cli_args *a, const dataset *d, unsigned classes)
{
    unsigned max_label = 0;
    for (size_t i = 0; i < d->count; i++)
        if (d->labels[i] > max_label) max_label = d->labels[i];
    if (max_label < classes) return 0;
    cli_error("%s: label %u is out of range for the model's %u classes", a->data, max_label,
              classes);
    return -1;
}

/* This rank's images [first, first + mine) on its devices, with the progress line; then every
 * rank's counts, and the rows on rank 0 after its own. */
static eval_counts run_share(const cli_args *a, multi_models *mm, eval_state *s, size_t first,
                             size_t mine)
{
    infer_job job = {NULL, (const char *const *)s->d->paths + first, mine, a->crops, a->batch,
                     on_image, s};
    s->t0 = now_s();
    progress(s, 0);
    const int ran = mine ? cli_devices_infer(mm, &job) : CLI_EXIT_OK;
    progress(s, 1);
    if (s->results) flush_errors(s, first + mine);
    eval_counts c = {s->done, s->failed, s->top1_wrong, s->top5_wrong, ran == CLI_EXIT_FAILURE,
                     ran == CLI_EXIT_REDONE};
    sum_counts(&c);
    if (s->results && cli_world.size > 1 && gather_rows(s) != 0) c.stopped++;
    return c;
}

static int exit_status(const eval_counts *c)
{
    return c->failed || c->done == 0 ? CLI_EXIT_FAILURE : c->redone ? CLI_EXIT_REDONE : CLI_EXIT_OK;
}

static void print_summary(const cli_args *a, const eval_counts *c, double secs)
{
    size_t n = (size_t)c->done;
    printf("images: %zu evaluated, %llu failed, %u crop%s each\n", n, c->failed, a->crops,
           a->crops > 1 ? "s" : "");
    printf("top-1 error: %.2f%% (%llu of %zu)\n", n ? 100.0 * c->top1_wrong / n : 0.0,
           c->top1_wrong, n);
    printf("top-5 error: %.2f%% (%llu of %zu)\n", n ? 100.0 * c->top5_wrong / n : 0.0,
           c->top5_wrong, n);
    printf("images/s: %.3f\n", secs > 0 ? (c->done + c->failed) / secs : 0.0);
}

/* The models on every rank, each stopping when one cannot open its device or (rc) failed
 * before; the labels checked against them. Returns 0 or the exit status. */
static int open_models(const cli_args *a, const dataset *d, multi_models *mm, eval_state *s,
                       int rc)
{
    int opened = rc ? rc : cli_devices_open(a, mm);
    if (!cli_mpi_all(opened == 0)) {
        if (opened == 0 && cli_world.rank == 0)
            cli_error("eval: another MPI rank could not open its device");
        return opened ? opened : CLI_EXIT_FAILURE;
    }
    s->classes = infer_classes(mm->models[0]);
    return check_labels(a, d, s->classes) == 0 ? 0 : CLI_EXIT_FAILURE;
}

int cmd_eval(cli_args *a)
{
    if (a->results_file && cli_check_output("eval", "--results-file", a->results_file) != 0)
        return CLI_EXIT_FAILURE;
    dataset d = {0};
    if (load_dataset(a, &d) != 0) {
        dataset_free(&d);
        return CLI_EXIT_FAILURE;
    }
    multi_models mm;
    memset(&mm, 0, sizeof mm);
    /* MPI: this rank's contiguous share of the images; rank 0 reports for all */
    size_t first = 0, mine = cli_mpi_share(d.count, &first);
    const int root = cli_world.rank == 0;
    eval_state s = {.d = &d, .tty = isatty(STDERR_FILENO), .quiet = a->quiet || !root,
                    .next = first, .base = first};
    cli_output out = {0};
    int rc = open_results(a, &s, &out) != 0 ? CLI_EXIT_FAILURE : 0;
    rc = open_models(a, &d, &mm, &s, rc);
    if (rc == 0) {
        eval_counts c = run_share(a, &mm, &s, first, mine);
        double secs = now_s() - s.t0;
        rc = c.stopped ? CLI_EXIT_FAILURE : exit_status(&c); /* a stop was reported already */
        if (root && !c.stopped) print_summary(a, &c, secs);
        if (root && !c.stopped && s.results) {
            s.results = NULL;
            if (cli_output_commit(&out) != 0) rc = CLI_EXIT_FAILURE;
        }
    }
    if (s.results && !root) fclose(s.results);
    cli_output_discard(&out);
    for (size_t i = 0; s.errors && i < d.count; i++) free(s.errors[i]);
    free(s.errors);
    multi_models_free(&mm);
    dataset_free(&d);
    return rc;
}
