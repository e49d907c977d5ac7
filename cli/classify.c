/* classify.c: `irv2 classify`: JPEG/PNG files in, the top K classes of each out (text, or JSON
 * lines in the order given); a bad image is reported on stderr (and as an error record in
 * JSON) and the others still get their results. */
#include "cli.h"
#include "files.h"
#include "infer.h"
#include "multidev.h"
#include "ranks.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct classify_state {
    const cli_args *a;
    const labels *names;
    unsigned classes;
    unsigned *top;           /* a->top class indices */
    size_t failed;
    /* --json prints records in the order given; a failure is found before the results of
     * the images ahead of it come back, so its message waits here until they are out */
    char **errors;           /* per image */
    size_t next;             /* the first image whose record is not out yet */
    size_t base;             /* this MPI rank's first image (0 in one process) */
} classify_state;

/* The k most probable classes, most probable first, lower index first on ties. */
static void top_k(const float *p, unsigned classes, unsigned k, unsigned *out)
{
    for (unsigned i = 0; i < k; i++) {
        int best = -1;
        for (unsigned c = 0; c < classes; c++) {
            int taken = 0;
            for (unsigned j = 0; j < i && !taken; j++) taken = out[j] == c;
            if (!taken && (best < 0 || p[c] > p[best] || (isnan(p[best]) && !isnan(p[c]))))
                best = (int)c;
        }
        out[i] = (unsigned)best;
    }
}

/* {"image": path} (and "image_bytes" when the name is not UTF-8); NULL when out of memory. */
static json_t *image_record(const char *path)
{
    int lossy;
    char *name = cli_utf8(path, &lossy);
    json_t *rec = name ? json_object() : NULL;
    if (rec) json_object_set_new(rec, "image", json_string(name));
    if (rec && lossy) {
        char *b64 = cli_base64(path);
        json_object_set_new(rec, "image_bytes", b64 ? json_string(b64) : json_null());
        free(b64);
    }
    free(name);
    return rec;
}

/* Prints a record as one line; JSON_REAL_PRECISION(6) gives probabilities as %.6g. */
static void print_record(json_t *rec)
{
    char *line = rec ? json_dumps(rec, JSON_REAL_PRECISION(6)) : NULL;
    if (line) puts(line);
    else cli_error("classify: out of host memory for a JSON record");
    free(line);
    json_decref(rec);
}

static json_t *top_record(classify_state *s, const char *path, const float *probs, unsigned k)
{
    json_t *rec = image_record(path), *top = json_array();
    for (unsigned i = 0; rec && top && i < k; i++) {
        unsigned c = s->top[i];
        const char *name = s->names->names ? s->names->names[c] : NULL;
        char *label = name ? cli_utf8(name, NULL) : NULL;
        json_t *entry = json_object();
        json_object_set_new(entry, "class", json_integer(c));
        json_object_set_new(entry, "label", label ? json_string(label) : json_null());
        json_object_set_new(entry, "prob", isfinite(probs[c]) ? json_real(probs[c]) : json_null());
        json_array_append_new(top, entry);
        free(label);
    }
    if (rec) json_object_set_new(rec, "top", top);
    else json_decref(top);
    return rec;
}

/* The error records of the images before index that failed. */
static void flush_errors(classify_state *s, size_t index)
{
    for (; s->next < index; s->next++) {
        char *error = s->errors[s->next];
        if (!error) continue;
        json_t *rec = image_record(s->a->operands[s->next]);
        if (rec) json_object_set_new(rec, "error", json_string(error));
        print_record(rec);
        free(error);
        s->errors[s->next] = NULL;
    }
}

static void print_image(classify_state *s, size_t index, const float *probs)
{
    const cli_args *a = s->a;
    const char *path = a->operands[index];
    unsigned k = a->top < s->classes ? a->top : s->classes;
    top_k(probs, s->classes, k, s->top);
    if (a->json) {
        flush_errors(s, index);
        s->next = index + 1;
        print_record(top_record(s, path, probs, k));
        return;
    }
    for (unsigned i = 0; i < k; i++) {
        unsigned c = s->top[i];
        const char *name = s->names->names ? s->names->names[c] : NULL;
        printf("%s: %.4f class %u", path, probs[c], c);
        if (name) printf(" (%s)", name);
        putchar('\n');
    }
}

static void on_image(void *user, size_t index, const float *probs, const char *error)
{
    classify_state *s = user;
    index += s->base; /* the job holds this rank's share of the images */
    const char *path = s->a->operands[index];
    if (probs) {
        print_image(s, index, probs);
        return;
    }
    s->failed++;
    /* the message names the file as the library words it ("F: ..."), or gets it in front */
    size_t n = strlen(path);
    char *line = NULL;
    const char *kind = cli_file_kind(path);
    const char *hint = kind && !strstr(kind, "image") && strcmp(kind, "a folder") != 0 ? kind : NULL;
    size_t cap = strlen(error) + n + (hint ? strlen(hint) : 0) + 32;
    line = malloc(cap);
    if (!line) {
        cli_error("%s: %s", path, error);
        return;
    }
    if (strncmp(error, path, n) == 0 && error[n] == ':') snprintf(line, cap, "%s", error);
    else snprintf(line, cap, "%s: %s", path, error);
    if (hint) snprintf(line + strlen(line), cap - strlen(line), " (it is %s)", hint);
    cli_error("%s", line);
    if (s->a->json && index < s->next) {
        /* the records after it are out already (several devices): this one comes late
         * rather than never */
        json_t *rec = image_record(path);
        if (rec) json_object_set_new(rec, "error", json_string(line));
        print_record(rec);
        free(line);
    } else if (s->a->json && !s->errors[index]) {
        s->errors[index] = line;
    } else {
        free(line);
    }
}

int cmd_classify(cli_args *a)
{
    labels names = {0};
    multi_models mm;
    memset(&mm, 0, sizeof mm);
    classify_state s = {a, &names, 0, NULL, 0, NULL, 0, 0};
    int rc = CLI_EXIT_FAILURE;
    if (a->labels && labels_read(a->labels, &names) != 0) goto done;
    s.errors = calloc(a->noperands, sizeof *s.errors);
    if (!s.errors) {
        cli_fail(IRV2_ERR_HOST_MEMORY, "classify");
        goto done;
    }
    /* MPI: this rank's contiguous share of the images, its output gathered to rank 0 */
    size_t first = 0, mine = cli_mpi_share(a->noperands, &first);
    s.base = s.next = first;
    int opened = cli_devices_open(a, &mm);
    if (!cli_mpi_all(opened == 0)) { /* every rank stops when one cannot open its device */
        if (opened == 0 && cli_world.rank == 0)
            cli_error("classify: another MPI rank could not open its device");
        rc = opened ? opened : CLI_EXIT_FAILURE;
        goto done;
    }
    rc = CLI_EXIT_FAILURE;
    s.classes = infer_classes(mm.models[0]);
    if (a->labels && names.count < s.classes) {
        cli_error("%s: has %zu class names, the model has %u classes", a->labels, names.count,
                  s.classes);
        goto done;
    }
    s.top = malloc((a->top < s.classes ? a->top : s.classes) * sizeof *s.top);
    if (!s.top) {
        cli_fail(IRV2_ERR_HOST_MEMORY, "classify");
        goto done;
    }
    infer_job job = {NULL, a->operands + first, mine, 1, a->batch, on_image, &s};
    cli_capture out;
    const int captured = cli_capture_begin(&out);
    rc = mine ? cli_devices_infer(&mm, &job) : CLI_EXIT_OK;
    if (a->json) flush_errors(&s, first + mine);
    const int gathered = cli_capture_end(&out);
    /* every rank's outcome: failed images, a failure that stopped a rank, devices redone */
    unsigned long long c[3] = {s.failed, rc == CLI_EXIT_FAILURE || captured || gathered,
                               rc == CLI_EXIT_REDONE};
    cli_mpi_sum(c, 3);
    rc = c[0] || c[1] ? CLI_EXIT_FAILURE : c[2] ? CLI_EXIT_REDONE : CLI_EXIT_OK;
done:
    for (size_t i = 0; s.errors && i < a->noperands; i++) free(s.errors[i]);
    free(s.errors);
    free(s.top);
    multi_models_free(&mm);
    labels_free(&names);
    return rc;
}
