/* eval.c: `irv2 eval`: top-1 / top-5 error of a model on a labelled image set (a folder per
 * class, or a list file of `path label` lines) with 1, 10 or 144 crops per image. */
#include "cli.h"
#include "infer.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct eval_args {
    const char *weights, *data, *device;
    unsigned crops, batch, limit;
    irv2_model_options options;
} eval_args;

/* The data set: image paths and their labels (class indices in ImageNet's numbering). */
typedef struct dataset {
    char **paths;
    unsigned *labels;
    size_t count, cap;
} dataset;

typedef struct eval_state {
    const dataset *d;
    unsigned classes;
    size_t done, failed, top1_wrong, top5_wrong;
    int tty;
    double t0;
} eval_state;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int parse(int argc, char **argv, eval_args *a)
{
    int known;
    memset(a, 0, sizeof *a);
    a->crops = 1, a->batch = 8;
    for (int i = 1; i < argc; i += 2) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "irv2: eval: option '%s' needs a value\n", o);
            return -1;
        }
        if (strcmp(o, "--weights") == 0) a->weights = v;
        else if (strcmp(o, "--data") == 0) a->data = v;
        else if (strcmp(o, "--device") == 0) a->device = v;
        else if (strcmp(o, "--crops") == 0) {
            if (infer_parse_count(v, 144, &a->crops) != 0 ||
                (a->crops != 1 && a->crops != 10 && a->crops != 144)) {
                fprintf(stderr, "irv2: eval: --crops '%s': use 1, 10 or 144\n", v);
                return -1;
            }
        } else if (strcmp(o, "--limit") == 0) {
            if (infer_parse_count(v, 0xFFFFFFFFu, &a->limit) != 0) {
                fprintf(stderr, "irv2: eval: --limit '%s': expected a positive count\n", v);
                return -1;
            }
        } else if (strcmp(o, "--batch") == 0) {
            if (infer_parse_count(v, 256, &a->batch) != 0) {
                fprintf(stderr, "irv2: eval: --batch '%s': expected 1 to 256\n", v);
                return -1;
            }
        } else if ((known = cli_model_option("eval", o, v, &a->options)) != 0) {
            if (known < 0) return -1;
        } else {
            fprintf(stderr, "irv2: eval: unknown option '%s'\n", o);
            return -1;
        }
    }
    if (!a->weights || !a->data) {
        fprintf(stderr, "irv2: eval: --weights and --data are required\n");
        return -1;
    }
    return 0;
}

/* "dir/name" (name alone when it is absolute or dir is empty), malloc'ed; NULL if out of
 * memory. */
static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    if (!path) return NULL;
    if (*dir && name[0] != '/') {
        strcpy(path, dir);
        strcat(path, "/");
        strcat(path, name);
    } else {
        strcpy(path, name);
    }
    return path;
}

static int dataset_add(dataset *d, const char *dir, const char *name, unsigned label)
{
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 1024;
        char **p = realloc(d->paths, cap * sizeof *p);
        if (p) d->paths = p;
        unsigned *l = p ? realloc(d->labels, cap * sizeof *l) : NULL;
        if (!l) return -1;
        d->labels = l, d->cap = cap;
    }
    char *path = join(dir, name);
    if (!path) return -1;
    d->paths[d->count] = path;
    d->labels[d->count++] = label;
    return 0;
}

static void dataset_free(dataset *d)
{
    for (size_t i = 0; i < d->count; i++) free(d->paths[i]);
    free(d->paths);
    free(d->labels);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_image_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 ||
                   strcasecmp(dot, ".png") == 0);
}

/* Sorted names of the entries of dir that are folders (want_dirs) or image files. */
static char **list_dir(const char *dir, int want_dirs, size_t *count)
{
    DIR *dp = opendir(dir);
    *count = 0;
    if (!dp) return NULL;
    size_t cap = 64, n = 0;
    char **names = malloc(cap * sizeof *names);
    struct dirent *e;
    while (names && (e = readdir(dp))) {
        if (e->d_name[0] == '.') continue;
        struct stat st;
        char *path = join(dir, e->d_name);
        int found = path && stat(path, &st) == 0;
        free(path);
        if (!found) continue;
        if (want_dirs ? !S_ISDIR(st.st_mode) : !(S_ISREG(st.st_mode) && has_image_ext(e->d_name)))
            continue;
        if (n == cap) {
            char **p = realloc(names, (cap *= 2) * sizeof *p);
            if (!p) {
                for (size_t i = 0; i < n; i++) free(names[i]);
                free(names);
            }
            names = p;
        }
        if (names && !(names[n++] = strdup(e->d_name))) n--;
    }
    closedir(dp);
    if (names) qsort(names, n, sizeof *names, cmp_str);
    *count = n;
    return names;
}

static int dataset_from_dir(const char *root, dataset *d)
{
    size_t nclasses;
    char **classes = list_dir(root, 1, &nclasses);
    int rc = classes ? 0 : -1;
    for (size_t c = 0; c < nclasses && rc == 0; c++) {
        size_t nfiles = 0;
        char *dir = join(root, classes[c]);
        char **files = dir ? list_dir(dir, 0, &nfiles) : NULL;
        if (!files) rc = -1;
        for (size_t i = 0; i < nfiles && rc == 0; i++)
            rc = dataset_add(d, dir, files[i], (unsigned)c);
        for (size_t i = 0; i < nfiles; i++) free(files[i]);
        free(files);
        free(dir);
    }
    for (size_t c = 0; c < nclasses; c++) free(classes[c]);
    free(classes);
    if (rc != 0) fprintf(stderr, "irv2: %s: cannot list the folder\n", root);
    else if (nclasses == 0) fprintf(stderr, "irv2: %s: no class folders inside\n", root), rc = -1;
    return rc;
}

/* Lines `path label`; the path (which may hold spaces) relative to the list's folder. */
static int dataset_from_list(const char *list, dataset *d)
{
    FILE *f = fopen(list, "r");
    if (!f) {
        fprintf(stderr, "irv2: %s: cannot open the list file\n", list);
        return -1;
    }
    char *dir = strdup(list);
    if (!dir) {
        fclose(f);
        fprintf(stderr, "irv2: %s: out of host memory\n", list);
        return -1;
    }
    char *slash = strrchr(dir, '/');
    if (slash) slash[slash == dir] = '\0'; /* "/x.txt" -> "/" */
    else strcpy(dir, ".");
    char line[8192];
    int rc = 0;
    for (unsigned no = 1; rc == 0 && fgets(line, sizeof line, f); no++) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
                     line[n - 1] == '\t'))
            line[--n] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (!*p || *p == '#') continue;
        char *sp = strrchr(p, ' '), *tab = strrchr(p, '\t');
        if (!sp || (tab && tab > sp)) sp = tab;
        char *end;
        unsigned long label = sp ? strtoul(sp + 1, &end, 10) : 0;
        if (!sp || sp[1] < '0' || sp[1] > '9' || *end || label > 1000000) {
            fprintf(stderr, "irv2: %s:%u: expected 'path label'\n", list, no);
            rc = -1;
            break;
        }
        while (sp > p && (sp[-1] == ' ' || sp[-1] == '\t')) sp--;
        *sp = '\0';
        if (dataset_add(d, dir, p, (unsigned)label) != 0) {
            fprintf(stderr, "irv2: %s: out of host memory\n", list);
            rc = -1;
        }
    }
    fclose(f);
    free(dir);
    if (rc == 0 && d->count == 0) fprintf(stderr, "irv2: %s: no images listed\n", list), rc = -1;
    return rc;
}

static void progress(const eval_state *s, int final)
{
    if (!s->tty) return;
    size_t total = s->d->count, done = s->done + s->failed;
    double t = now_s() - s->t0, rate = t > 0 ? s->done / t : 0;
    double eta = rate > 0 ? (total - done) / rate : 0;
    int width = 30, fill = total ? (int)(width * done / total) : width;
    fprintf(stderr, "\r[%.*s%*s] %zu/%zu %.2f img/s ETA %d:%02d ", fill,
            "==============================", width - fill, "", done, total, rate,
            (int)eta / 60, (int)eta % 60);
    if (final) fputc('\n', stderr);
    fflush(stderr);
}

static void on_image(void *user, size_t index, const float *probs, const char *error)
{
    eval_state *s = user;
    if (!probs) {
        const char *path = s->d->paths[index];
        size_t n = strlen(path);
        if (s->tty) fputc('\n', stderr);
        if (strncmp(error, path, n) == 0 && error[n] == ':') fprintf(stderr, "irv2: %s\n", error);
        else fprintf(stderr, "irv2: %s: %s\n", path, error);
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
    progress(s, 0);
}

int cmd_eval(int argc, char **argv)
{
    eval_args a;
    if (parse(argc, argv, &a) != 0) return 2;
    dataset d = {0};
    struct stat st_data;
    if (stat(a.data, &st_data) != 0) {
        fprintf(stderr, "irv2: %s: no such folder or list file\n", a.data);
        return 1;
    }
    int rc = S_ISDIR(st_data.st_mode) ? dataset_from_dir(a.data, &d)
                                      : dataset_from_list(a.data, &d);
    if (rc != 0) {
        dataset_free(&d);
        return 1;
    }
    for (; a.limit && d.count > a.limit; d.count--) free(d.paths[d.count - 1]);
    irv2_context *ctx = NULL;
    irv2_model *model = NULL;
    rc = 1;
    if (infer_open(a.device, a.weights, &a.options, &ctx, &model) == 0) {
        eval_state s = {&d, infer_classes(model), 0, 0, 0, 0, isatty(STDERR_FILENO), now_s()};
        unsigned max_label = 0;
        for (size_t i = 0; i < d.count; i++)
            if (d.labels[i] > max_label) max_label = d.labels[i];
        if (max_label >= s.classes) {
            fprintf(stderr, "irv2: %s: label %u is out of range for the model's %u classes\n",
                    a.data, max_label, s.classes);
        } else {
            infer_job job = {model, (const char *const *)d.paths, d.count, a.crops, a.batch,
                             on_image, &s};
            progress(&s, 0);
            irv2_status st = infer_run(&job);
            progress(&s, 1);
            double secs = now_s() - s.t0;
            if (st != IRV2_OK) {
                cli_fail(st, NULL);
            } else {
                size_t n = s.done;
                printf("images: %zu evaluated, %zu failed, %u crop%s each\n", n, s.failed, a.crops,
                       a.crops > 1 ? "s" : "");
                printf("top-1 error: %.2f%% (%zu of %zu)\n", n ? 100.0 * s.top1_wrong / n : 0.0,
                       s.top1_wrong, n);
                printf("top-5 error: %.2f%% (%zu of %zu)\n", n ? 100.0 * s.top5_wrong / n : 0.0,
                       s.top5_wrong, n);
                printf("images/s: %.3f\n", secs > 0 ? (s.done + s.failed) / secs : 0.0);
                rc = s.failed || n == 0 ? 1 : 0;
            }
        }
    }
    irv2_model_free(model);
    irv2_context_free(ctx);
    dataset_free(&d);
    return rc;
}
