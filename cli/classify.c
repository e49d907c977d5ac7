/* classify.c: `irv2 classify`: JPEG/PNG files in, the top K classes of each out (text or JSON
 * lines); a bad image is reported on stderr and the others still get their results. */
#include "cli.h"
#include "infer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LABEL_BYTES (64u * 1024u * 1024u)

typedef struct labels {
    char *text;              /* the file, lines split in place */
    char **names;
    size_t count;
} labels;

typedef struct classify_state {
    const cli_args *a;
    const labels *names;
    unsigned classes;
    unsigned *top;           /* a->top class indices */
    size_t failed;
} classify_state;

/* One class name per line; CRLF and a final newline (or none) are fine. */
static int labels_read(const char *path, labels *l)
{
    memset(l, 0, sizeof *l);
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_error("%s: cannot open the labels file", path);
        return -1;
    }
    size_t cap = 1 << 16, len = 0, got;
    l->text = malloc(cap);
    while (l->text && (got = fread(l->text + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len < 2) {
            char *t = cap < MAX_LABEL_BYTES ? realloc(l->text, cap * 2) : NULL;
            if (!t) free(l->text);
            l->text = t, cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!l->text || bad) {
        cli_error("%s: cannot read the labels file%s", path,
                  bad ? "" : " (too large or out of memory)");
        free(l->text);
        return -1;
    }
    l->text[len] = '\0';
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) lines += l->text[i] == '\n';
    lines += len > 0 && l->text[len - 1] != '\n';
    l->names = malloc((lines + 1) * sizeof *l->names);
    if (!l->names) {
        cli_error("%s: out of host memory", path);
        free(l->text);
        return -1;
    }
    for (char *p = l->text; *p && l->count < lines;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        size_t n = strlen(p);
        if (n && p[n - 1] == '\r') p[n - 1] = '\0';
        l->names[l->count++] = p;
        p = nl ? nl + 1 : p + n;
    }
    return 0;
}

static void labels_free(labels *l)
{
    free(l->text);
    free(l->names);
}

static void json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') printf("\\%c", *p);
        else if (*p == '\n') fputs("\\n", stdout);
        else if (*p == '\t') fputs("\\t", stdout);
        else if (*p == '\r') fputs("\\r", stdout);
        else if (*p < 0x20 || *p == 0x7f) printf("\\u%04x", *p);
        else putchar(*p);
    }
    putchar('"');
}

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

static void print_image(classify_state *s, const char *path, const float *probs)
{
    const cli_args *a = s->a;
    unsigned k = a->top < s->classes ? a->top : s->classes;
    top_k(probs, s->classes, k, s->top);
    if (a->json) {
        fputs("{\"image\": ", stdout);
        json_string(path);
        fputs(", \"top\": [", stdout);
    }
    for (unsigned i = 0; i < k; i++) {
        unsigned c = s->top[i];
        const char *name = s->names->names ? s->names->names[c] : NULL;
        if (a->json) {
            printf("%s{\"class\": %u, \"label\": ", i ? ", " : "", c);
            if (name) json_string(name);
            else fputs("null", stdout);
            if (isfinite(probs[c])) printf(", \"prob\": %.6g}", probs[c]);
            else fputs(", \"prob\": null}", stdout);
        } else {
            printf("%s: %.4f class %u", path, probs[c], c);
            if (name) printf(" (%s)", name);
            putchar('\n');
        }
    }
    if (a->json) fputs("]}\n", stdout);
    fflush(stdout);
}

static void on_image(void *user, size_t index, const float *probs, const char *error)
{
    classify_state *s = user;
    const char *path = s->a->operands[index];
    if (probs) {
        print_image(s, path, probs);
        return;
    }
    s->failed++;
    size_t n = strlen(path);
    if (strncmp(error, path, n) == 0 && error[n] == ':') cli_error("%s", error);
    else cli_error("%s: %s", path, error);
}

int cmd_classify(cli_args *a)
{
    labels names = {0};
    irv2_context *ctx = NULL;
    irv2_model *model = NULL;
    int rc = CLI_EXIT_FAILURE;
    if (a->labels && labels_read(a->labels, &names) != 0) goto done;
    if (cli_open_model(a, &ctx, &model) != 0) goto done;
    classify_state s = {a, &names, infer_classes(model), NULL, 0};
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
    infer_job job = {model, a->operands, a->noperands, 1, a->batch, on_image, &s};
    irv2_status st = infer_run(&job);
    free(s.top);
    if (st != IRV2_OK) cli_fail_model(st, ctx);
    else rc = s.failed ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
done:
    irv2_model_free(model);
    irv2_context_free(ctx);
    labels_free(&names);
    return rc;
}
