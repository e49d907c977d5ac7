/* test_eval.c: `irv2 eval` and `irv2 classify` end to end on a tiny data set whose labels are
 * the synthetic:1 model's own predictions (computed through the API first), so eval must
 * report 0% error on it (folder layout, list file, 10 crops) and the right error when labels
 * are changed on purpose; classify's JSON lines, labels and bad-image handling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "irv2.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define WEIGHTS "synthetic:1"
#define BATCH 2 /* the API runs below use the same batches as the CLI, so the same numbers */
#define NIMG 4
#define IMAGE ((size_t)3 * IRV2_INPUT_SIZE * IRV2_INPUT_SIZE)

static const char *const images[NIMG] = {"pattern_500x375.png", "pattern_375x500.png",
                                         "pattern_160x120.jpg", "pattern_1000x1000.png"};

typedef struct eval_state {
    char dir[2048];          /* scratch folder of this test */
    char cli[2048];
    unsigned classes;
    unsigned rank[NIMG][6];  /* the 5 most probable classes and one ranked far lower */
    unsigned top1_10crop;    /* image 0's top-1 over 10 crops */
} eval_state;

static eval_state g;

static const char *in_dir(const char *leaf, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/%s", g.dir, leaf);
    assert_true(n > 0 && (size_t)n < size);
    return buf;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

/* Runs the CLI with argv (NULL-terminated, argv[0] ignored); stdout/stderr to files. */
static int run_cli(const char *const *argv, char **out, char **err)
{
    char out_path[2300], err_path[2300];
    in_dir("stdout.txt", out_path, sizeof out_path);
    in_dir("stderr.txt", err_path, sizeof err_path);
    posix_spawn_file_actions_t fa;
    assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const char *args[32] = {g.cli};
    int n = 1;
    for (int i = 1; argv[i]; i++) args[n++] = argv[i];
    args[n] = NULL;
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, g.cli, &fa, NULL, (char *const *)args, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    int status;
    while (waitpid(pid, &status, 0) < 0) assert_true(errno == EINTR);
    *out = read_text(out_path);
    *err = read_text(err_path);
    print_message("  $ irv2");
    for (int i = 1; i < n; i++) {
        const char *slash = strrchr(args[i], '/');
        print_message(" %s", slash ? slash + 1 : args[i]);
    }
    print_message("\n%s%s", *out, *err);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    assert_non_null(a);
    assert_non_null(b);
    char buf[1 << 14];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0) assert_int_equal(fwrite(buf, 1, n, b), n);
    fclose(a);
    assert_int_equal(fclose(b), 0);
}

static const char *image_path(int i)
{
    static char rel[128];
    snprintf(rel, sizeof rel, "images/%s", images[i]);
    return test_data_path(rel);
}

/* The 5 most probable classes of probs, most probable first, then the 12th. */
static void ranks(const float *p, unsigned classes, unsigned out[6])
{
    unsigned *order = malloc(classes * sizeof *order);
    assert_non_null(order);
    for (unsigned c = 0; c < classes; c++) order[c] = c;
    for (unsigned i = 0; i < 12; i++) /* a selection sort of the head is enough */
        for (unsigned j = i + 1; j < classes; j++)
            if (p[order[j]] > p[order[i]]) {
                unsigned t = order[i];
                order[i] = order[j], order[j] = t;
            }
    for (int i = 0; i < 5; i++) out[i] = order[i];
    out[5] = order[11];
    /* The labels chosen from these (ranks 0, 2 and 11) must not hinge on rounding: they
     * need clear gaps between ranks 0 and 1, 2 and 5, 4 and 11. */
    assert_true(p[order[0]] - p[order[1]] > 1e-6f);
    assert_true(p[order[2]] - p[order[5]] > 1e-6f);
    assert_true(p[order[4]] - p[order[11]] > 1e-6f);
    free(order);
}

/* Runs crops (n x image floats) in batches of BATCH as the CLI does; averages the softmax. */
static void average_probs(irv2_model *m, const float *crops, unsigned n, float *mean)
{
    unsigned classes = irv2_model_num_classes(m);
    float *out = malloc((size_t)BATCH * classes * sizeof(float));
    double *acc = calloc(classes, sizeof(double));
    assert_non_null(out);
    assert_non_null(acc);
    for (unsigned i = 0; i < n; i += BATCH) {
        unsigned b = n - i < BATCH ? n - i : BATCH;
        assert_int_equal(irv2_model_run(m, crops + i * IMAGE, b, out, 1), IRV2_OK);
        for (unsigned k = 0; k < b; k++)
            for (unsigned c = 0; c < classes; c++) acc[c] += out[(size_t)k * classes + c];
    }
    for (unsigned c = 0; c < classes; c++) mean[c] = (float)(acc[c] / n);
    free(out);
    free(acc);
}

static int setup(void **state)
{
    (void)state;
    const char *cli = getenv("IRV2_CLI");
    snprintf(g.cli, sizeof g.cli, "%s", cli && *cli ? cli : "../irv2");
    snprintf(g.dir, sizeof g.dir, "%s", test_tmp_path("eval_data"));
    mkdir(g.dir, 0755);
    irv2_context *ctx;
    irv2_model *m;
    if (irv2_context_create(NULL, &ctx) != IRV2_OK) return -1;
    if (irv2_model_load(ctx, WEIGHTS, NULL, &m) != IRV2_OK) return -1;
    g.classes = irv2_model_num_classes(m);
    float *crops = malloc(10 * IMAGE * sizeof(float)), *mean = malloc(g.classes * sizeof(float));
    if (!crops || !mean) return -1;
    for (int i = 0; i < NIMG; i += BATCH) {
        for (int k = 0; k < BATCH; k++) {
            irv2_image img;
            if (irv2_image_load(image_path(i + k), &img) != IRV2_OK) return -1;
            if (irv2_image_preprocess(&img, crops + k * IMAGE) != IRV2_OK) return -1;
            irv2_image_free(&img);
        }
        float *out = malloc((size_t)BATCH * g.classes * sizeof(float));
        if (!out || irv2_model_run(m, crops, BATCH, out, 1) != IRV2_OK) return -1;
        for (int k = 0; k < BATCH; k++)
            ranks(out + (size_t)k * g.classes, g.classes, g.rank[i + k]);
        free(out);
    }
    irv2_image img;
    irv2_crop_box boxes[IRV2_MAX_CROPS];
    unsigned n;
    if (irv2_image_load(image_path(0), &img) != IRV2_OK) return -1;
    if (irv2_crop_boxes(img.width, img.height, 10, boxes, &n) != IRV2_OK || n != 10) return -1;
    for (unsigned k = 0; k < n; k++)
        if (irv2_image_crop(&img, &boxes[k], crops + k * IMAGE) != IRV2_OK) return -1;
    irv2_image_free(&img);
    average_probs(m, crops, 10, mean);
    unsigned r[6];
    ranks(mean, g.classes, r);
    g.top1_10crop = r[0];
    for (int i = 0; i < NIMG; i++) print_message("  image %d: top-1 %u\n", i, g.rank[i][0]);
    free(crops);
    free(mean);
    irv2_model_free(m);
    irv2_context_free(ctx);
    return 0;
}

/* A list file of the images with the given labels; returns its path. */
static const char *write_list(const char *name, const unsigned *labels, char *buf, size_t size)
{
    FILE *f = fopen(in_dir(name, buf, size), "w");
    assert_non_null(f);
    fprintf(f, "# path label\n");
    for (int i = 0; i < NIMG; i++) {
        char dst[2300], leaf[160];
        snprintf(leaf, sizeof leaf, "list images/%s", images[i]); /* a space in the path */
        mkdir(in_dir("list images", dst, sizeof dst), 0755);
        copy_file(image_path(i), in_dir(leaf, dst, sizeof dst));
        fprintf(f, "%s %u\r\n", leaf, labels[i]);
    }
    fclose(f);
    return buf;
}

static void expect_errors(const char *out, const char *top1, const char *top5)
{
    char want[64];
    snprintf(want, sizeof want, "top-1 error: %s%%", top1);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof want, "top-5 error: %s%%", top5);
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "images/s: "));
}

static void test_eval_folders(void **state)
{
    (void)state;
    char root[2300], path[2400];
    in_dir("folders", root, sizeof root);
    mkdir(root, 0755);
    unsigned max = 0;
    for (int i = 0; i < NIMG; i++) max = g.rank[i][0] > max ? g.rank[i][0] : max;
    for (unsigned c = 0; c <= max; c++) { /* folder names sort as class indices */
        snprintf(path, sizeof path, "%s/n%04u", root, c);
        mkdir(path, 0755);
    }
    for (int i = 0; i < NIMG; i++) {
        snprintf(path, sizeof path, "%s/n%04u/%s", root, g.rank[i][0], images[i]);
        copy_file(image_path(i), path);
    }
    snprintf(path, sizeof path, "%s/n0000/notes.txt", root); /* not an image: skipped */
    assert_int_equal(test_write_file(path, "x", 1), 0);
    char *out, *err;
    const char *argv[] = {"", "eval", "--weights", WEIGHTS, "--data", root, "--batch", "2", NULL};
    assert_int_equal(run_cli(argv, &out, &err), 0);
    expect_errors(out, "0.00", "0.00");
    assert_non_null(strstr(out, "images: 4 evaluated, 0 failed"));
    free(out), free(err);
}

static void test_eval_list(void **state)
{
    (void)state;
    unsigned right[NIMG], wrong[NIMG];
    for (int i = 0; i < NIMG; i++) right[i] = wrong[i] = g.rank[i][0];
    wrong[1] = g.rank[1][2]; /* top-1 wrong, top-5 right */
    wrong[3] = g.rank[3][5]; /* both wrong */
    char list[2300], *out, *err;
    const char *argv[] = {"", "eval", "--weights", WEIGHTS, "--data", list, "--batch", "2", NULL};
    write_list("right.txt", right, list, sizeof list);
    assert_int_equal(run_cli(argv, &out, &err), 0);
    expect_errors(out, "0.00", "0.00");
    free(out), free(err);
    write_list("wrong.txt", wrong, list, sizeof list);
    assert_int_equal(run_cli(argv, &out, &err), 0);
    expect_errors(out, "50.00", "25.00");
    free(out), free(err);
    /* --limit 1: only the first image, whose label is right. */
    const char *lim[] = {"", "eval", "--weights", WEIGHTS, "--data", list, "--limit", "1",
                         "--batch", "2", NULL};
    assert_int_equal(run_cli(lim, &out, &err), 0);
    expect_errors(out, "0.00", "0.00");
    assert_non_null(strstr(out, "images: 1 evaluated"));
    free(out), free(err);
}

static void test_eval_10_crops(void **state)
{
    (void)state;
    char list[2300], *out, *err;
    FILE *f = fopen(in_dir("ten.txt", list, sizeof list), "w");
    assert_non_null(f);
    fprintf(f, "%s %u\n", image_path(0), g.top1_10crop); /* an absolute path */
    fclose(f);
    const char *argv[] = {"", "eval", "--weights", WEIGHTS, "--data", list, "--crops", "10",
                          "--batch", "2", NULL};
    assert_int_equal(run_cli(argv, &out, &err), 0);
    expect_errors(out, "0.00", "0.00");
    assert_non_null(strstr(out, "10 crops each"));
    free(out), free(err);
}

static void test_eval_bad_input(void **state)
{
    (void)state;
    char list[2300], *out, *err;
    FILE *f = fopen(in_dir("bad.txt", list, sizeof list), "w");
    assert_non_null(f);
    fprintf(f, "%s 5000\n", image_path(0));
    fclose(f);
    const char *argv[] = {"", "eval", "--weights", WEIGHTS, "--data", list, NULL};
    assert_int_equal(run_cli(argv, &out, &err), 1);
    assert_non_null(strstr(err, "label 5000"));
    free(out), free(err);
    const char *crops[] = {"", "eval", "--weights", WEIGHTS, "--data", list, "--crops", "7", NULL};
    assert_int_equal(run_cli(crops, &out, &err), 2);
    assert_non_null(strstr(err, "--crops"));
    free(out), free(err);
    /* A truncated image among good ones: reported, counted, the others still scored. */
    char trunc[2300];
    FILE *in = fopen(image_path(2), "rb");
    assert_non_null(in);
    static char bytes[4096];
    size_t n = fread(bytes, 1, sizeof bytes, in);
    fclose(in);
    assert_int_equal(test_write_file(in_dir("trunc.jpg", trunc, sizeof trunc), bytes, n / 2), 0);
    f = fopen(list, "w");
    assert_non_null(f);
    fprintf(f, "trunc.jpg 1\n%s %u\n", image_path(0), g.rank[0][0]);
    fclose(f);
    assert_int_equal(run_cli(argv, &out, &err), 1);
    assert_non_null(strstr(err, trunc));
    assert_non_null(strstr(err, "truncated"));
    assert_non_null(strstr(out, "images: 1 evaluated, 1 failed"));
    expect_errors(out, "0.00", "0.00");
    free(out), free(err);
}

static void test_classify(void **state)
{
    (void)state;
    char labels[2300], bad[2300], a[2300], b[2300];
    snprintf(a, sizeof a, "%s", image_path(0));
    snprintf(b, sizeof b, "%s", image_path(2));
    assert_int_equal(test_write_file(in_dir("bad.jpg", bad, sizeof bad), "not a jpeg", 10), 0);
    FILE *f = fopen(in_dir("labels.txt", labels, sizeof labels), "wb");
    assert_non_null(f);
    for (unsigned c = 0; c < g.classes; c++) /* CRLF, a quote and a backslash in each name */
        fprintf(f, "name %u \"q\\%s", c, c + 1 < g.classes ? "\r\n" : "\n");
    fclose(f);
    char *out, *err;
    const char *argv[] = {"", "classify", "--weights", WEIGHTS, "--json", "--top", "3", "--labels",
                          labels, "--batch", "2", a, bad, b, NULL};
    assert_int_equal(run_cli(argv, &out, &err), 1);
    /* stderr: one line, naming the bad file */
    assert_non_null(strstr(err, bad));
    assert_non_null(strstr(err, "irv2: "));
    int lines = 0;
    for (const char *p = err; *p; p++) lines += *p == '\n';
    assert_int_equal(lines, 1);
    /* stdout: one JSON object per good image, in order, with 3 entries each */
    char *line2 = strchr(out, '\n');
    assert_non_null(line2);
    *line2++ = '\0';
    assert_int_equal(strncmp(out, "{\"image\": \"", 11), 0);
    assert_non_null(strstr(out, a));
    assert_non_null(strstr(line2, b));
    assert_null(strstr(out, bad));
    char want[2400];
    snprintf(want, sizeof want, "{\"class\": %u, \"label\": \"name %u \\\"q\\\\\", \"prob\": 0.",
             g.rank[0][0], g.rank[0][0]);
    assert_non_null(strstr(out, want));
    int entries = 0;
    for (const char *p = out; (p = strstr(p, "\"class\": ")); p++) entries++;
    assert_int_equal(entries, 3);
    assert_int_equal(strcmp(out + strlen(out) - 2, "]}"), 0);
    free(out), free(err);

    /* plain text: `path: p class c`, and a labels file that is too short */
    const char *text[] = {"", "classify", "--weights", WEIGHTS, "--top", "1", a, NULL};
    assert_int_equal(run_cli(text, &out, &err), 0);
    snprintf(want, sizeof want, "%s: 0.", a);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof want, " class %u\n", g.rank[0][0]);
    assert_non_null(strstr(out, want));
    free(out), free(err);
    f = fopen(labels, "w");
    fprintf(f, "tench\ngoldfish\n");
    fclose(f);
    const char *shrt[] = {"", "classify", "--weights", WEIGHTS, "--labels", labels, a, NULL};
    assert_int_equal(run_cli(shrt, &out, &err), 1);
    assert_non_null(strstr(err, labels));
    assert_non_null(strstr(err, "has 2 class names"));
    free(out), free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval_folders),
        cmocka_unit_test(test_eval_list),
        cmocka_unit_test(test_eval_10_crops),
        cmocka_unit_test(test_eval_bad_input),
        cmocka_unit_test(test_classify),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
