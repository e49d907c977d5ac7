/* classify.c: `irv2 classify`: JPEG/PNG files in, the top K classes of each out (text or JSON
 * lines); a bad image is reported on stderr and the others still get their results. */
#include "cli.h"
#include "infer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LABEL_BYTES (64u * 1024u * 1024u)

typedef struct classify_args {
    const char *weights, *labels, *device;
    unsigned top, batch;
    int json;
    irv2_model_options options;
    const char **images;
    size_t nimages;
} classify_args;

typedef struct labels {
    char *text;              /* the file, lines split in place */
    char **names;
    size_t count;
} labels;

typedef struct classify_state {
    const classify_args *a;
    const labels *names;
    unsigned classes;
    unsigned *top;           /* a->top class indices */
    size_t failed;
} classify_state;

static int parse(int argc, char **argv, classify_args *a)
{
    int known;
    memset(a, 0, sizeof *a);
    a->top = 5, a->batch = 8;
    a->images = calloc((size_t)argc, sizeof *a->images);
    if (!a->images) {
        fprintf(stderr, "irv2: classify: out of host memory\n");
        return -1;
    }
    int only_images = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (only_images || strncmp(o, "--", 2) != 0) {
            a->images[a->nimages++] = o;
            continue;
        }
        if (strcmp(o, "--") == 0) {
            only_images = 1;
            continue;
        }
        if (strcmp(o, "--json") == 0) {
            a->json = 1;
            continue;
        }
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (!v) {
            fprintf(stderr, "irv2: classify: option '%s' needs a value\n", o);
            return -1;
        }
        if (strcmp(o, "--weights") == 0) a->weights = v;
        else if (strcmp(o, "--labels") == 0) a->labels = v;
        else if (strcmp(o, "--device") == 0) a->device = v;
        else if (strcmp(o, "--top") == 0) {
            if (infer_parse_count(v, 100000, &a->top) != 0) {
                fprintf(stderr, "irv2: classify: --top '%s': expected a positive count\n", v);
                return -1;
            }
        } else if (strcmp(o, "--batch") == 0) {
            if (infer_parse_count(v, 256, &a->batch) != 0) {
                fprintf(stderr, "irv2: classify: --batch '%s': expected 1 to 256\n", v);
                return -1;
            }
        } else if ((known = cli_model_option("classify", o, v, &a->options)) != 0) {
            if (known < 0) return -1;
        } else {
            fprintf(stderr, "irv2: classify: unknown option '%s'\n", o);
            return -1;
        }
    }
    if (!a->weights || a->nimages == 0) {
        fprintf(stderr, "irv2: classify: --weights and at least one image are required\n");
        return -1;
    }
    return 0;
}

/* One class name per line; CRLF and a final newline (or none) are fine. */
static int labels_read(const char *path, labels *l)
{
    memset(l, 0, sizeof *l);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "irv2: %s: cannot open the labels file\n", path);
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
        fprintf(stderr, "irv2: %s: cannot read the labels file%s\n", path,
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
        fprintf(stderr, "irv2: %s: out of host memory\n", path);
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
    const classify_args *a = s->a;
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
    const char *path = s->a->images[index];
    if (probs) {
        print_image(s, path, probs);
        return;
    }
    s->failed++;
    size_t n = strlen(path);
    if (strncmp(error, path, n) == 0 && error[n] == ':') fprintf(stderr, "irv2: %s\n", error);
    else fprintf(stderr, "irv2: %s: %s\n", path, error);
}

int cmd_classify(int argc, char **argv)
{
    classify_args a;
    if (parse(argc, argv, &a) != 0) {
        free(a.images);
        return 2;
    }
    labels names = {0};
    irv2_context *ctx = NULL;
    irv2_model *model = NULL;
    int rc = 1;
    if (a.labels && labels_read(a.labels, &names) != 0) goto done;
    if (infer_open(a.device, a.weights, &a.options, &ctx, &model) != 0) goto done;
    classify_state s = {&a, &names, infer_classes(model), NULL, 0};
    if (a.labels && names.count < s.classes) {
        fprintf(stderr, "irv2: %s: has %zu class names, the model has %u classes\n", a.labels,
                names.count, s.classes);
        goto done;
    }
    s.top = malloc((a.top < s.classes ? a.top : s.classes) * sizeof *s.top);
    if (!s.top) {
        cli_fail(IRV2_ERR_HOST_MEMORY, "classify");
        goto done;
    }
    infer_job job = {model, a.images, a.nimages, 1, a.batch, on_image, &s};
    irv2_status st = infer_run(&job);
    free(s.top);
    if (st != IRV2_OK) cli_fail(st, NULL);
    else rc = s.failed ? 1 : 0;
done:
    irv2_model_free(model);
    irv2_context_free(ctx);
    labels_free(&names);
    free(a.images);
    return rc;
}
