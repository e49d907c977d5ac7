/* test_cli.c: the irv2 command-line tool as a user runs it (the binary named by $IRV2_CLI,
 * else ../irv2 next to this test's directory), spawned with its stdout and stderr captured.
 *  - every failing `run` exits non-zero, prints exactly one line on stderr naming the file,
 *    tensor, device or option at fault, and creates no output file (nor a temporary one) —
 *    and leaves an output file that existed before untouched;
 *  - `run` on the golden input reproduces tests/data/seed_golden.npy;
 *  - the option parser: every command's --help (and `irv2 help CMD`), --opt=value, short
 *    options, usage errors with exit status 2, bad environment variables, output paths
 *    checked before any device work, a file of the wrong kind named as such;
 *  - `classify --json` is valid JSON for any file name and records failed images in order;
 *    `eval --results-file` writes per-image CSV rows; `eval` on an empty folder stops early;
 *  - `devices` works; `bench --json` follows its schema, and a sweep with an injected failure
 *    (IRV2_FAULT) and a device that does not exist still writes every entry, exiting 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "irv2.h"
#include "net/synthetic.h"
#include "runtime/fault.h"
#include "testutil.h"

#include <jansson.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define IMAGE (3u * 299u * 299u)
#define CLASSES 1000u

/* ---- files shared by the tests ---------------------------------------------------------- */

typedef struct cli_state {
    char cli[4096];
    char dir[4096];          /* a scratch directory of this process under $IRV2_TEST_TMP */
    char input1[4096];       /* 1 x 3 x 299 x 299: the first golden image */
    char input2[4096];       /* 2 x 3 x 299 x 299: the golden input */
    int case_no;
} cli_state;

/* buf = a + b; fails the test if it does not fit. */
static const char *join(char *buf, size_t size, const char *a, const char *b)
{
    int n = snprintf(buf, size, "%s%s", a, b);
    if (n < 0 || (size_t)n >= size) fail_msg("path too long: %s%s", a, b);
    return buf;
}

static const char *in_dir(const cli_state *s, const char *leaf, char *buf, size_t size)
{
    char slash_leaf[256];
    join(slash_leaf, sizeof slash_leaf, "/", leaf);
    return join(buf, size, s->dir, slash_leaf);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- spawning the CLI ------------------------------------------------------------------- */

typedef struct cli_result {
    int exited;     /* normal exit (not killed by a signal) */
    int code;       /* exit status, or the signal */
    char *out, *err;
    double seconds;
} cli_result;

static void result_free(cli_result *r)
{
    free(r->out);
    free(r->err);
}

/* Runs the CLI with args (NULL-terminated, without argv[0]). env_set: "NAME=value" added to
 * (and replacing NAME in) this process's environment, or NULL. */
static cli_result run_cli(cli_state *s, const char *const *args, const char *env_set)
{
    char out_path[4200], err_path[4200];
    snprintf(out_path, sizeof out_path, "%s/.stdout", s->dir);
    snprintf(err_path, sizeof err_path, "%s/.stderr", s->dir);
    const char *argv[32];
    int argc = 0;
    argv[argc++] = s->cli;
    for (int i = 0; args[i]; i++) {
        assert_true(argc < 31);
        argv[argc++] = args[i];
    }
    argv[argc] = NULL;

    size_t nenv = 0;
    while (environ[nenv]) nenv++;
    char **envp = calloc(nenv + 2, sizeof *envp);
    assert_non_null(envp);
    size_t k = 0;
    size_t name_len = env_set ? (size_t)(strchr(env_set, '=') - env_set + 1) : 0;
    for (size_t i = 0; i < nenv; i++)
        if (!env_set || strncmp(environ[i], env_set, name_len) != 0) envp[k++] = environ[i];
    if (env_set) envp[k++] = (char *)env_set;
    envp[k] = NULL;

    posix_spawn_file_actions_t fa;
    assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
    assert_int_equal(posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0), 0);
    assert_int_equal(posix_spawn_file_actions_addopen(&fa, 1, out_path,
                                                      O_WRONLY | O_CREAT | O_TRUNC, 0644), 0);
    assert_int_equal(posix_spawn_file_actions_addopen(&fa, 2, err_path,
                                                      O_WRONLY | O_CREAT | O_TRUNC, 0644), 0);
    pid_t pid;
    double t0 = now_s();
    int rc = posix_spawn(&pid, s->cli, &fa, NULL, (char *const *)argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    free(envp);
    if (rc != 0) fail_msg("cannot start %s: %s", s->cli, strerror(rc));
    int status;
    while (waitpid(pid, &status, 0) < 0) assert_true(errno == EINTR);
    cli_result r = {0};
    r.seconds = now_s() - t0;
    r.exited = WIFEXITED(status);
    r.code = r.exited ? WEXITSTATUS(status) : WIFSIGNALED(status) ? WTERMSIG(status) : -1;
    r.out = read_all(out_path);
    r.err = read_all(err_path);
    assert_non_null(r.out);
    assert_non_null(r.err);
    remove(out_path);
    remove(err_path);
    char line[512] = "";
    for (int i = 1; i < argc && strlen(line) < 400; i++)
        snprintf(line + strlen(line), sizeof line - strlen(line), " %s", argv[i]);
    print_message("  %s%sirv2%s -> %s %d in %.2f s; stderr: %s", env_set ? env_set : "",
                  env_set ? " " : "", line, r.exited ? "exit" : "signal",
                  r.code, r.seconds, *r.err ? r.err : "(empty)\n");
    return r;
}

/* ---- assertions ------------------------------------------------------------------------- */

/* Entries of dir other than "." and "..", and other than skip (a leaf name, or NULL). */
static int dir_entries(const char *dir, const char *skip)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (skip && strcmp(e->d_name, skip) == 0) continue;
        print_message("    entry in %s: %s\n", dir, e->d_name);
        n++;
    }
    closedir(d);
    return n;
}

/* A fresh empty directory for one case's output. */
static const char *case_dir(cli_state *s, char *buf, size_t size)
{
    snprintf(buf, size, "%s/case%d", s->dir, ++s->case_no);
    assert_int_equal(mkdir(buf, 0755), 0);
    return buf;
}

static void expect_one_line(const cli_result *r, const char *m1, const char *m2)
{
    size_t len = strlen(r->err);
    const char *nl = strchr(r->err, '\n');
    if (len == 0 || !nl || nl != r->err + len - 1)
        fail_msg("stderr is not exactly one line: \"%s\"", r->err);
    if (m1 && !strstr(r->err, m1)) fail_msg("stderr \"%s\" does not name '%s'", r->err, m1);
    if (m2 && !strstr(r->err, m2)) fail_msg("stderr \"%s\" does not name '%s'", r->err, m2);
}

/* stderr of a successful command: nothing, or only the lines of the model-building progress
 * ("irv2: batch N: tuning ..." / "compiling ..." / "caching ..."), which a cold cache makes. */
static void expect_progress_only(const char *err)
{
    for (const char *p = err; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)len, p);
        if (strncmp(line, "irv2: batch ", 12) != 0 ||
            (!strstr(line, ": tuning layer ") && !strstr(line, ": compiling layer ") &&
             !strstr(line, ": caching program ")))
            fail_msg("stderr holds more than progress lines: \"%s\"", err);
        p += len + (nl != NULL);
    }
}

/* Runs `irv2 run ARGS... --output <fresh dir>/out.npy` (unless no_output) expecting failure
 * with one stderr line naming m1 (and m2), and an output directory still empty. */
static void expect_run_failure(cli_state *s, const char *const *args, const char *env_set,
                               int no_output, const char *m1, const char *m2)
{
    char dir[4200], out[4300];
    case_dir(s, dir, sizeof dir);
    snprintf(out, sizeof out, "%s/out.npy", dir);
    const char *argv[32];
    int argc = 0;
    argv[argc++] = "run";
    for (int i = 0; args[i]; i++) argv[argc++] = args[i];
    if (!no_output) {
        argv[argc++] = "--output";
        argv[argc++] = out;
    }
    argv[argc] = NULL;
    cli_result r = run_cli(s, argv, env_set);
    if (!r.exited) fail_msg("the CLI was killed by signal %d", r.code);
    assert_int_not_equal(r.code, 0);
    expect_one_line(&r, m1, m2);
    assert_false(test_file_exists(out));
    assert_int_equal(dir_entries(dir, NULL), 0); /* no temporary file left either */
    assert_int_equal(rmdir(dir), 0);
    result_free(&r);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- group setup ------------------------------------------------------------------------ */

static int write_input(const char *path, unsigned batch)
{
    float *x = malloc((size_t)2 * IMAGE * sizeof(float));
    if (!x) return -1;
    synthetic_fill("input", 7, -1.0, 1.0, x, (size_t)2 * IMAGE);
    uint64_t shape[4] = {batch, 3, 299, 299};
    irv2_status st = irv2_npy_write(path, 4, shape, x);
    free(x);
    return st == IRV2_OK ? 0 : -1;
}

static int group_setup(void **state)
{
    cli_state *s = calloc(1, sizeof *s);
    if (!s) return -1;
    *state = s;
    const char *cli = getenv("IRV2_CLI");
    if (cli && *cli) {
        snprintf(s->cli, sizeof s->cli, "%s", cli);
    } else {
        /* build/tests/test_cli -> build/irv2 */
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) return -1;
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (!slash) return -1;
        *slash = '\0';
        if (strlen(self) + 9 >= sizeof s->cli) return -1;
        join(s->cli, sizeof s->cli, self, "/../irv2");
    }
    if (access(s->cli, X_OK) != 0) {
        print_message("the irv2 CLI '%s' is not executable: set IRV2_CLI\n", s->cli);
        return -1;
    }
    print_message("CLI: %s\n", s->cli);
    char name[64];
    snprintf(name, sizeof name, "cli_%ld", (long)getpid());
    snprintf(s->dir, sizeof s->dir, "%s", test_tmp_path(name));
    if (mkdir(s->dir, 0755) != 0) return -1;
    in_dir(s, "input1.npy", s->input1, sizeof s->input1);
    in_dir(s, "input2.npy", s->input2, sizeof s->input2);
    if (write_input(s->input1, 1) != 0 || write_input(s->input2, 2) != 0) return -1;
    return 0;
}

static int group_teardown(void **state)
{
    cli_state *s = *state;
    if (!s) return 0;
    int rc = 0;
    if (s->dir[0]) {
        remove(s->input1);
        remove(s->input2);
        int left = dir_entries(s->dir, NULL);
        if (rmdir(s->dir) != 0 || left) {
            print_message("%s: %d entries left\n", s->dir, left);
            rc = -1;
        }
    }
    free(s);
    return rc;
}

/* ---- failing runs ----------------------------------------------------------------------- */

static void test_missing_weights(void **state)
{
    cli_state *s = *state;
    char w[4200];
    in_dir(s, "no_such.safetensors", w, sizeof w);
    expect_run_failure(s, ARGS("--weights", w, "--input", s->input1), NULL, 0, w, NULL);
}

static void test_empty_weights(void **state)
{
    cli_state *s = *state;
    char w[4200];
    in_dir(s, "empty.safetensors", w, sizeof w);
    assert_int_equal(test_write_file(w, "", 0), 0);
    expect_run_failure(s, ARGS("--weights", w, "--input", s->input1), NULL, 0, w, NULL);
    remove(w);
}

static void test_truncated_weights(void **state)
{
    cli_state *s = *state;
    char w[4200];
    in_dir(s, "truncated.safetensors", w, sizeof w);
    /* a well-formed header promising a [32, 3, 3, 3] F32 tensor (3456 bytes), then only the
     * first 1000 bytes of the file */
    static const char header[] =
        "{\"__metadata__\": {\"format\": \"pt\"}, \"stem.conv1.conv.weight\": {\"dtype\": \"F32\", "
        "\"shape\": [32, 3, 3, 3], \"data_offsets\": [0, 3456]}}";
    unsigned char bytes[1000] = {0};
    size_t hlen = sizeof header - 1;
    for (int i = 0; i < 8; i++) bytes[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    memcpy(bytes + 8, header, hlen);
    assert_int_equal(test_write_file(w, bytes, sizeof bytes), 0);
    expect_run_failure(s, ARGS("--weights", w, "--input", s->input1), NULL, 0, w, NULL);
    remove(w);
}

static void test_input_wrong_shape(void **state)
{
    cli_state *s = *state;
    char in[4200];
    in_dir(s, "224.npy", in, sizeof in);
    float *x = calloc((size_t)3 * 224 * 224, sizeof(float));
    assert_non_null(x);
    uint64_t shape[4] = {1, 3, 224, 224};
    assert_int_equal(irv2_npy_write(in, 4, shape, x), IRV2_OK);
    free(x);
    expect_run_failure(s, ARGS("--weights", "synthetic:1", "--input", in), NULL, 0, in, NULL);
    remove(in);
}

static void test_input_float64(void **state)
{
    cli_state *s = *state;
    char in[4200];
    in_dir(s, "f8.npy", in, sizeof in);
    /* NumPy's own layout of np.zeros((1, 3, 299, 299)): a v1 header, the preamble padded with
     * spaces and a '\n' to a multiple of 64 bytes */
    static const char dict[] = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 3, 299, 299), }";
    size_t data = (size_t)IMAGE * 8, pre = (10 + (sizeof dict - 1) + 1 + 63) / 64 * 64;
    unsigned char *bytes = calloc(pre + data, 1);
    assert_non_null(bytes);
    memcpy(bytes, "\x93NUMPY\x01\x00", 8);
    bytes[8] = (unsigned char)(pre - 10), bytes[9] = 0;
    memset(bytes + 10, ' ', pre - 10);
    memcpy(bytes + 10, dict, sizeof dict - 1);
    bytes[pre - 1] = '\n';
    assert_int_equal(test_write_file(in, bytes, pre + data), 0);
    free(bytes);
    expect_run_failure(s, ARGS("--weights", "synthetic:1", "--input", in), NULL, 0, in, "<f8");
    remove(in);
}

static void test_input_not_npy(void **state)
{
    cli_state *s = *state;
    char in[4200];
    in_dir(s, "image.npy", in, sizeof in);
    static const char text[] = "P3\n# this is a PPM picture, not an array\n1 1 255\n0 0 0\n";
    assert_int_equal(test_write_file(in, text, sizeof text - 1), 0);
    expect_run_failure(s, ARGS("--weights", "synthetic:1", "--input", in), NULL, 0, in, NULL);
    remove(in);
    /* and an input that does not exist */
    in_dir(s, "absent.npy", in, sizeof in);
    expect_run_failure(s, ARGS("--weights", "synthetic:1", "--input", in), NULL, 0, in, NULL);
}

static void test_bad_device(void **state)
{
    cli_state *s = *state;
    expect_run_failure(s, ARGS("--weights", "synthetic:1", "--input", s->input1, "--device", "nosuch"),
                       NULL, 0, "nosuch", NULL);
    expect_run_failure(s, ARGS("--weights", "synthetic:1", "--input", s->input1, "--device", "7:7"),
                       NULL, 0, "7:7", NULL);
}

static void test_bad_device_from_environment(void **state)
{
    cli_state *s = *state;
    expect_run_failure(s, ARGS("--weights", "synthetic:1", "--input", s->input1),
                       "IRV2_DEVICE=nosuch", 0, "nosuch", NULL);
}

/* An IRV2_KERNELS value that names no family fails before any work, naming the value. */
static void test_bad_kernel_family(void **state)
{
    cli_state *s = *state;
    expect_run_failure(s, ARGS("--weights", "synthetic:1", "--input", s->input1),
                       "IRV2_KERNELS=gpu", 0,
                       "IRV2_KERNELS=gpu: expected auto, wg, vec or compact", NULL);
    /* the option says it the same way, the library's words; and wins over the variable */
    expect_run_failure(s, ARGS("--weights", "synthetic:1", "--input", s->input1, "--kernels",
                               "gpu"),
                       NULL, 0, "--kernels 'gpu': expected auto, wg, vec or compact", NULL);
    expect_run_failure(s, ARGS("--weights", "nosuch.safetensors", "--input", s->input1,
                               "--kernels", "vec", "--exact", "--cache-dir", "off"),
                       "IRV2_KERNELS=wg", 0, "nosuch.safetensors", NULL);
}

/* `--binaries` at a folder that is not one, and `compile` with an output it cannot use: one
 * line each, no output, before any device work for compile. */
static void test_bad_binaries(void **state)
{
    cli_state *s = *state;
    char dir[4200], file[4300];
    case_dir(s, dir, sizeof dir);
    expect_run_failure(s, ARGS("--weights", "synthetic:1", "--input", s->input1, "--binaries", dir),
                       NULL, 0, dir, "no manifest.json");
    expect_run_failure(s, ARGS("--weights", "synthetic:1", "--input", s->input1),
                       "IRV2_BINARIES=/nonexistent/irv2-binaries", 0,
                       "/nonexistent/irv2-binaries", "no manifest.json");
    snprintf(file, sizeof file, "%s/a-file", dir);
    assert_int_equal(test_write_file(file, "x", 1), 0);
    cli_result r = run_cli(s, ARGS("compile", "--out", file), NULL);
    assert_int_equal(r.code, 1);
    expect_one_line(&r, file, "not a writable folder");
    assert_true(r.seconds < 5.0); /* refused before any device work */
    free(r.out), free(r.err);
    r = run_cli(s, ARGS("compile", "--batch", "1"), NULL);
    assert_int_equal(r.code, 2);
    expect_one_line(&r, "--out DIR is required", NULL);
    free(r.out), free(r.err);
    remove(file);
    assert_int_equal(rmdir(dir), 0);
}

/* Two .npy files of rows x CLASSES logits, equal bit for bit. */
static void expect_same_logits(const char *path1, const char *path2, uint64_t rows)
{
    unsigned nd1 = 0, nd2 = 0;
    uint64_t sh1[8], sh2[8];
    float *a = NULL, *b = NULL;
    assert_int_equal(irv2_npy_read(path1, &nd1, sh1, &a), IRV2_OK);
    assert_int_equal(irv2_npy_read(path2, &nd2, sh2, &b), IRV2_OK);
    assert_int_equal(nd1, 2), assert_int_equal(nd2, 2);
    assert_int_equal(sh1[0], rows), assert_int_equal(sh2[0], rows);
    assert_memory_equal(a, b, rows * CLASSES * sizeof(float));
    free(a), free(b);
}

/* Several devices (here the test device twice: two models, two queues, on any platform):
 * classify and run give exactly the single-device output; a device lost mid-run
 * (IRV2_FAULT=run:2) has its images run on the other, the same output, one stderr line, exit
 * status 3; a malformed list is a usage error. */
static void test_multiple_devices(void **state)
{
    cli_state *s = *state;
    /* three images at batch 2: a full batch and a padded one, two chunks to share */
    static const char *const leaves[] = {"cmyk_64x48.jpg", "pattern_100x50.png",
                                         "pattern_160x120.jpg"};
    char images[3][4096], two[80], dir[4200], out1[4300], out2[4300];
    for (int i = 0; i < 3; i++) {
        char leaf[128];
        snprintf(leaf, sizeof leaf, "images/%s", leaves[i]);
        snprintf(images[i], sizeof images[i], "%s", test_data_path(leaf));
    }
    snprintf(two, sizeof two, "%s,%s", test_device(), test_device());
    /* untuned throughout (also the runs whose one variable is IRV2_FAULT) */
    const char *tune = getenv("IRV2_TUNE");
    char *old_tune = tune ? strdup(tune) : NULL;
    assert_int_equal(setenv("IRV2_TUNE", "0", 1), 0);
#define CLASSIFY(dev)                                                                          \
    ARGS("classify", "--weights", "synthetic:1", "--batch", "2", "--top", "3", "-q",          \
         "--device", dev, images[0], images[1], images[2])
    cli_result one = run_cli(s, CLASSIFY(test_device()), "IRV2_TUNE=0");
    assert_int_equal(one.code, 0);
    cli_result both = run_cli(s, CLASSIFY(two), "IRV2_TUNE=0");
    assert_int_equal(both.code, 0);
    assert_string_equal(both.out, one.out);
    assert_string_equal(both.err, "");
    result_free(&both);
    cli_result lost = run_cli(s, CLASSIFY(two), "IRV2_FAULT=run:2");
    assert_int_equal(lost.code, 3);
    assert_string_equal(lost.out, one.out);
    expect_one_line(&lost, "failed: ", "go to the other devices");
    result_free(&lost);
    result_free(&one);
#undef CLASSIFY

    case_dir(s, dir, sizeof dir);
    snprintf(out1, sizeof out1, "%s/one.npy", dir);
    snprintf(out2, sizeof out2, "%s/two.npy", dir);
    cli_result r1 = run_cli(s, ARGS("run", "-q", "--weights", "synthetic:1", "--input",
                                    s->input2, "--output", out1, "--device", test_device()),
                            "IRV2_TUNE=0");
    cli_result r2 = run_cli(s, ARGS("run", "-q", "--weights", "synthetic:1", "--input",
                                    s->input2, "--output", out2, "--device", two),
                            "IRV2_TUNE=0");
    assert_int_equal(r1.code, 0);
    assert_int_equal(r2.code, 0);
    expect_same_logits(out1, out2, 2);
    result_free(&r1), result_free(&r2);

    cli_result bad = run_cli(s, ARGS("run", "--weights", "synthetic:1", "--input", s->input2,
                                     "--output", out2, "--device", "0,,1"), NULL);
    assert_int_equal(bad.code, 2);
    expect_one_line(&bad, "--device: device list '0,,1'", "item 2 is empty");
    result_free(&bad);
    if (old_tune) setenv("IRV2_TUNE", old_tune, 1);
    else unsetenv("IRV2_TUNE");
    free(old_tune);
}

/* export-synthetic writes what synthetic:1 builds: run on the F32 file gives the logits of
 * --weights synthetic:1 bit for bit; an F16 file loads; a 1001-class seed head and a folder
 * that does not exist are refused in one line. */
static void test_export_synthetic(void **state)
{
    cli_state *s = *state;
    char dir[4200], ckpt[4300], f16[4300], from_file[4300], from_memory[4300], bad[4300];
    case_dir(s, dir, sizeof dir);
    snprintf(ckpt, sizeof ckpt, "%s/seed1.safetensors", dir);
    snprintf(f16, sizeof f16, "%s/seed1_f16.safetensors", dir);
    snprintf(from_file, sizeof from_file, "%s/file.npy", dir);
    snprintf(from_memory, sizeof from_memory, "%s/memory.npy", dir);
    snprintf(bad, sizeof bad, "%s/no/such/folder/x.safetensors", dir);
    cli_result r = run_cli(s, ARGS("export-synthetic", "--output", ckpt), NULL);
    assert_int_equal(r.code, 0);
    result_free(&r);
    r = run_cli(s, ARGS("export-synthetic", "--dtype", "F16", "--output", f16), NULL);
    assert_int_equal(r.code, 0);
    result_free(&r);
    r = run_cli(s, ARGS("run", "-q", "--weights", ckpt, "--input", s->input1, "--output",
                        from_file), "IRV2_TUNE=0");
    assert_int_equal(r.code, 0);
    result_free(&r);
    r = run_cli(s, ARGS("run", "-q", "--weights", "synthetic:1", "--input", s->input1,
                        "--output", from_memory), "IRV2_TUNE=0");
    assert_int_equal(r.code, 0);
    result_free(&r);
    expect_same_logits(from_file, from_memory, 1);
    r = run_cli(s, ARGS("run", "-q", "--weights", f16, "--input", s->input1, "--output",
                        from_file), "IRV2_TUNE=0");
    assert_int_equal(r.code, 0);
    result_free(&r);
    r = run_cli(s, ARGS("export-synthetic", "--classes", "1001", "--output", ckpt), NULL);
    assert_int_equal(r.code, 2);
    expect_one_line(&r, "--classes 1001", "--variant tf");
    result_free(&r);
    r = run_cli(s, ARGS("export-synthetic", "--output", bad), NULL);
    assert_int_equal(r.code, 1);
    expect_one_line(&r, "no/such/folder", NULL);
    result_free(&r);
}

static void test_bad_options(void **state)
{
    cli_state *s = *state;
    expect_run_failure(s, ARGS("--weights", "synthetic:1", "--input", s->input1, "--frobnicate", "3"),
                       NULL, 0, "--frobnicate", NULL);
    expect_run_failure(s, ARGS("--weights", "synthetic:1", "--input", s->input1), NULL, 1,
                       "--output", NULL);
    expect_run_failure(s, ARGS("--weights", "synthetic:1", "--input", s->input1, "--gemm", "foo"),
                       NULL, 0, "foo", NULL);
    /* an option at the end without its value */
    expect_run_failure(s, ARGS("--input", s->input1, "--output", "x.npy", "--weights"), NULL, 1,
                       "--weights", NULL);
    assert_false(test_file_exists("x.npy"));
}

static void test_unknown_command(void **state)
{
    cli_state *s = *state;
    cli_result r = run_cli(s, ARGS("frobnicate"), NULL);
    assert_true(r.exited);
    assert_int_not_equal(r.code, 0);
    expect_one_line(&r, "frobnicate", NULL);
    result_free(&r);
}

/* A failing run leaves an existing output file as it was. */
static void test_failure_keeps_existing_output(void **state)
{
    cli_state *s = *state;
    char dir[4200], out[4300], w[4300];
    case_dir(s, dir, sizeof dir);
    snprintf(out, sizeof out, "%s/out.npy", dir);
    snprintf(w, sizeof w, "%s/no_such.safetensors", dir);
    static const char before[] = "results of an earlier run\n";
    assert_int_equal(test_write_file(out, before, sizeof before - 1), 0);
    cli_result r = run_cli(s, ARGS("run", "--weights", w, "--input", s->input1, "--output", out), NULL);
    assert_true(r.exited);
    assert_int_not_equal(r.code, 0);
    expect_one_line(&r, w, NULL);
    char *after = read_all(out);
    assert_non_null(after);
    assert_string_equal(after, before);
    free(after);
    assert_int_equal(dir_entries(dir, "out.npy"), 0);
    result_free(&r);
    remove(out);
    assert_int_equal(rmdir(dir), 0);
}

/* A failure at the very end (the output path is a directory): the network ran, but neither
 * the output nor its temporary file may remain. */
static void test_failure_writing_output(void **state)
{
    cli_state *s = *state;
    char dir[4200], out[4300];
    case_dir(s, dir, sizeof dir);
    snprintf(out, sizeof out, "%s/out.npy", dir);
    assert_int_equal(mkdir(out, 0755), 0);
    cli_result r = run_cli(s, ARGS("run", "--weights", "synthetic:1", "--input", s->input1,
                                   "--gemm", "native", "--output", out),
                           NULL);
    assert_true(r.exited);
    assert_int_not_equal(r.code, 0);
    expect_one_line(&r, out, NULL);
    assert_int_equal(dir_entries(dir, "out.npy"), 0);
    assert_int_equal(dir_entries(out, NULL), 0);
    result_free(&r);
    assert_int_equal(rmdir(out), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* ---- successful commands ---------------------------------------------------------------- */

static void test_run_matches_golden(void **state)
{
    cli_state *s = *state;
    char dir[4200], out[4300];
    case_dir(s, dir, sizeof dir);
    snprintf(out, sizeof out, "%s/out.npy", dir);
    cli_result r = run_cli(s, ARGS("run", "--weights", "synthetic:1", "--input", s->input2,
                                   "--output", out),
                           NULL);
    assert_true(r.exited);
    assert_int_equal(r.code, 0);
    expect_progress_only(r.err);
    result_free(&r);
    assert_int_equal(dir_entries(dir, "out.npy"), 0);

    unsigned ndim, gdim;
    uint64_t shape[8], gshape[8];
    float *y = NULL, *g = NULL;
    assert_int_equal(irv2_npy_read(out, &ndim, shape, &y), IRV2_OK);
    assert_int_equal(irv2_npy_read(test_data_path("seed_golden.npy"), &gdim, gshape, &g), IRV2_OK);
    assert_int_equal(ndim, 2);
    assert_int_equal(gdim, 2);
    assert_int_equal(shape[0], 2);
    assert_int_equal(shape[1], CLASSES);
    assert_int_equal(gshape[0], 2);
    assert_int_equal(gshape[1], CLASSES);
    double d = 0, m = 0;
    for (size_t i = 0; i < 2 * CLASSES; i++) {
        double e = fabs((double)y[i] - g[i]);
        if (!(e <= d)) d = isnan(e) ? INFINITY : e;
        if (fabs(g[i]) > m) m = fabs(g[i]);
    }
    print_message("  out.npy vs golden: %.3e of max|ref|\n", d / m);
    /* float32 against the float64 reference: see test_e2e.c for why 1e-3 */
    assert_true(d / m <= 1e-3);
    free(y);
    free(g);
    remove(out);
    assert_int_equal(rmdir(dir), 0);
}

static void test_devices(void **state)
{
    cli_state *s = *state;
    cli_result r = run_cli(s, ARGS("devices"), NULL);
    assert_true(r.exited);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "spec"));
    result_free(&r);
    /* devices takes no arguments */
    r = run_cli(s, ARGS("devices", "extra"), NULL);
    assert_true(r.exited);
    assert_int_not_equal(r.code, 0);
    expect_one_line(&r, "devices", NULL);
    result_free(&r);
}

/* ---- bench's JSON ---------------------------------------------------------------------- */

static json_t *load_json(const char *path)
{
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    if (!doc) fail_msg("%s: not JSON: %s (line %d)", path, err.text, err.line);
    return doc;
}

static json_t *get(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!v) fail_msg("the JSON lacks \"%s\"", key);
    return v;
}

static double get_number(const json_t *o, const char *key)
{
    json_t *v = get(o, key);
    if (!json_is_number(v)) fail_msg("\"%s\" is not a number", key);
    return json_number_value(v);
}

/* The document's parts every bench JSON has, whatever was measured. */
static void check_document(const json_t *doc, size_t nresults)
{
    assert_string_equal(json_string_value(get(doc, "schema")), "irv2-bench/1");
    const json_t *irv2 = get(doc, "irv2");
    assert_string_equal(json_string_value(get(irv2, "version")), irv2_version());
    assert_true(json_is_string(get(irv2, "commit")));
    assert_int_equal(strlen(json_string_value(get(doc, "time"))), 20); /* 2026-01-02T03:04:05Z */
    const json_t *host = get(doc, "host");
    assert_true(json_is_string(get(host, "os")));
    assert_true(get_number(host, "cpus") >= 1);
    const json_t *settings = get(doc, "settings");
    static const char *const keys[] = {"gemm", "variant", "tune", "kernels"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_true(json_is_string(get(settings, keys[i])));
    assert_true(json_is_integer(get(settings, "warmup")));
    assert_true(json_is_integer(get(settings, "min_iterations")));
    assert_true(json_is_array(get(doc, "devices")));
    assert_int_equal(json_array_size(get(doc, "results")), nresults);
    assert_true(json_is_integer(get(doc, "failures")));
}

/* A measured result: its run counts, every timed run, the statistics in order. */
static void check_measured(const json_t *r, unsigned warmup, unsigned iters)
{
    assert_string_equal(json_string_value(get(r, "status")), "ok");
    assert_true(json_is_null(get(r, "error")));
    assert_int_equal(get_number(r, "warmup"), warmup);
    double n = get_number(r, "iterations");
    assert_true(n >= iters);
    const json_t *times = get(r, "times_ms");
    assert_int_equal(json_array_size(times), (size_t)n);
    const json_t *lat = get(r, "latency_ms");
    double min = get_number(lat, "min"), median = get_number(lat, "median");
    double p90 = get_number(lat, "p90"), p99 = get_number(lat, "p99"), max = get_number(lat, "max");
    assert_true(min > 0 && min <= median && median <= p90 && p90 <= p99 && p99 <= max);
    assert_true(n < 2 ? json_is_null(get(lat, "stddev")) : get_number(lat, "stddev") >= 0);
    assert_true(get_number(r, "images_per_s") > 0);
    assert_true(get_number(r, "gflops") > 0);
    assert_true(json_is_boolean(get(r, "noisy")));
    const json_t *kinds = get(r, "kinds");
    assert_true(json_array_size(kinds) > 0);
    int conv1x1 = 0;
    size_t i;
    const json_t *k;
    json_array_foreach(kinds, i, k) {
        conv1x1 |= strcmp(json_string_value(get(k, "kind")), "conv1x1") == 0;
        /* a kind without arithmetic (a pool) has no GFLOP/s, and without --peak no fraction */
        if (get_number(k, "gflop") == 0) assert_true(json_is_null(get(k, "gflops")));
    }
    assert_true(conv1x1);
}

static void test_bench_json(void **state)
{
    cli_state *s = *state;
    char dir[4200], json[4300];
    case_dir(s, dir, sizeof dir);
    snprintf(json, sizeof json, "%s/f.json", dir);
    cli_result r = run_cli(s, ARGS("bench", "--device", test_device(), "--iters", "3", "--warmup",
                                   "2", "--batch", "1", "--layers", "--format", "jsonl", "--json",
                                   json),
                           NULL);
    assert_true(r.exited);
    assert_int_equal(r.code, 0);
    /* stdout: one compact JSON object per result, the same as the file's */
    json_error_t err;
    json_t *line = json_loads(r.out, 0, &err);
    if (!line) fail_msg("stdout is not one JSON object: %s\n%s", err.text, r.out);
    result_free(&r);
    json_t *doc = load_json(json);
    check_document(doc, 1);
    const json_t *res = json_array_get(get(doc, "results"), 0);
    assert_true(json_equal(line, (json_t *)res));
    check_measured(res, 2, 3);
    assert_int_equal(get_number(res, "batch"), 1);
    /* --layers: one row per layer in execution order, the stem first */
    const json_t *layers = get(res, "layers");
    assert_true(json_array_size(layers) > 100);
    assert_non_null(strstr(json_string_value(get(json_array_get(layers, 0), "layer")), "stem"));
    /* what was not asked for is null, not 0 or -1 */
    const json_t *dev = json_array_get(get(doc, "devices"), 0);
    assert_true(json_is_string(get(dev, "name")) && json_is_string(get(dev, "driver")));
    assert_true(json_is_string(get(dev, "vendor")) && json_is_string(get(dev, "type")));
    assert_true(json_is_integer(get(dev, "index")));
    assert_true(json_is_null(get(get(dev, "start_ms"), "cold")));
    assert_true(get_number(get(dev, "start_ms"), "warm") > 0);
    assert_true(json_is_null(get(dev, "sgemm_peak")));
    assert_true(json_is_null(get(dev, "error")));
    assert_int_equal(get_number(doc, "failures"), 0);
    json_decref(line);
    json_decref(doc);
    assert_int_equal(dir_entries(dir, "f.json"), 0); /* no temporary file left */
    remove(json);
    assert_int_equal(rmdir(dir), 0);
}

/* The device allocations (IRV2_FAULT=alloc counts) that bench makes before and after planning
 * batch 2, measured in this process the way bench runs: batch 1 planned, run and profiled,
 * then batch 2 planned. */
static void count_allocations(unsigned *after_batch1, unsigned *after_batch2)
{
    irv2_context *ctx = NULL;
    irv2_model *model = NULL;
    irv2_model_options opt = test_model_options(IRV2_GEMM_NATIVE);
    opt.tune = IRV2_TUNE_OFF;
    float *in = calloc((size_t)2 * IMAGE, sizeof(float)), out[2 * CLASSES];
    assert_non_null(in);
    irv2_fault_set(FAULT_ALLOC, 1000000000u); /* counts, never fails */
    assert_int_equal(irv2_context_create(test_device(), &ctx), IRV2_OK);
    assert_int_equal(irv2_model_load(ctx, "synthetic", &opt, &model), IRV2_OK);
    assert_int_equal(irv2_model_run(model, in, 1, out, 0), IRV2_OK);
    assert_int_equal(irv2_model_set_profiling(model, 1), IRV2_OK);
    assert_int_equal(irv2_model_run(model, in, 1, out, 0), IRV2_OK);
    assert_int_equal(irv2_model_set_profiling(model, 0), IRV2_OK);
    *after_batch1 = irv2_fault_checks(FAULT_ALLOC);
    assert_int_equal(irv2_model_run(model, in, 2, out, 0), IRV2_OK);
    *after_batch2 = irv2_fault_checks(FAULT_ALLOC);
    irv2_fault_clear();
    irv2_model_free(model);
    irv2_context_free(ctx);
    free(in);
}

/* A sweep over a working device and one that does not exist, with an allocation fault
 * injected in batch 2's plan: every entry is reported (CSV on stdout, JSON in the file), the
 * failures with their errors, and the exit status is 1. */
static void test_bench_sweep_failures(void **state)
{
    cli_state *s = *state;
    unsigned k1, k2;
    count_allocations(&k1, &k2);
    print_message("  allocations: %u through batch 1, %u through batch 2\n", k1, k2);
    assert_true(k2 > k1 + 2);
    char dir[4200], json[4300], fault[64], devices[160];
    case_dir(s, dir, sizeof dir);
    snprintf(json, sizeof json, "%s/sweep.json", dir);
    snprintf(fault, sizeof fault, "IRV2_FAULT=alloc:%u", k1 + (k2 - k1) / 2);
    snprintf(devices, sizeof devices, "%s,7:7", test_device());
    cli_result r = run_cli(s, ARGS("bench", "--device", devices, "--batch", "1,2", "--iters", "1",
                                   "--gemm", "native", "--tune", "off", "--format", "csv", "--json",
                                   json),
                           fault);
    assert_true(r.exited);
    assert_int_equal(r.code, 1);
    /* stderr: one line per failed entry (after any progress lines) */
    assert_non_null(strstr(r.err, ", batch 2: "));
    assert_non_null(strstr(r.err, "cannot allocate"));
    assert_non_null(strstr(r.err, "7:7, batch 1: "));
    /* stdout: the CSV header and four rows, in the order measured */
    static const char *const rows[] = {",1,ok,", ",2,failed,", ",1,failed,", ",2,failed,"};
    const char *p = r.out;
    assert_true(strncmp(p, "device,device_index,batch,status,", 33) == 0);
    for (size_t i = 0; i < 4; i++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
        char row[2048];
        snprintf(row, sizeof row, "%.*s", (int)strcspn(p, "\n"), p);
        if (!strstr(row, rows[i])) fail_msg("CSV row %zu \"%s\" lacks \"%s\"", i + 1, row, rows[i]);
    }
    result_free(&r);

    json_t *doc = load_json(json);
    check_document(doc, 4);
    assert_int_equal(get_number(doc, "failures"), 3);
    const json_t *results = get(doc, "results");
    check_measured(json_array_get(results, 0), 1, 1);
    for (size_t i = 1; i < 4; i++) {
        const json_t *e = json_array_get(results, i);
        assert_string_equal(json_string_value(get(e, "status")), "failed");
        assert_true(json_is_string(get(e, "error")));
        assert_true(json_is_null(get(e, "images_per_s")) && json_is_null(get(e, "latency_ms")));
        assert_true(json_is_null(get(e, "times_ms")) && json_is_null(get(e, "kinds")));
        assert_int_equal(get_number(e, "batch"), i == 2 ? 1 : 2);
    }
    assert_non_null(strstr(json_string_value(get(json_array_get(results, 1), "error")),
                           "cannot allocate"));
    assert_non_null(strstr(json_string_value(get(json_array_get(results, 2), "error")), "7:7"));
    const json_t *devs = get(doc, "devices");
    assert_int_equal(json_array_size(devs), 2);
    assert_true(json_is_null(get(json_array_get(devs, 0), "error")));
    assert_true(json_is_string(get(json_array_get(devs, 1), "error")));
    assert_true(json_is_null(get(json_array_get(devs, 1), "name")));
    json_decref(doc);
    remove(json);
    assert_int_equal(dir_entries(dir, NULL), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* ---- the option parser ------------------------------------------------------------------ */

/* text with every run of spaces and line breaks made one space, for phrases that the help
 * may wrap; in place. */
static char *squash(char *text)
{
    char *w = text;
    for (const char *r = text; *r; r++) {
        int space = *r == ' ' || *r == '\n';
        if (space && w > text && w[-1] == ' ') continue;
        *w++ = space ? ' ' : *r;
    }
    *w = '\0';
    return text;
}

static const char *const commands[] = {"devices", "run", "bench", "classify", "eval",
                                       "compile", "preprocess"};

/* Every command's --help, -h and `irv2 help CMD` print the same text: every option with its
 * default, the environment variables of the model-loading commands and the exit statuses. */
static void test_help(void **state)
{
    cli_state *s = *state;
    cli_result top = run_cli(s, ARGS("--help"), NULL);
    assert_int_equal(top.code, 0);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const char *c = commands[i];
        char usage[64];
        snprintf(usage, sizeof usage, "\n  %s ", c);
        if (!strstr(top.out, usage)) fail_msg("irv2 --help does not list %s", c);
        cli_result a = run_cli(s, ARGS(c, "--help"), NULL);
        cli_result b = run_cli(s, ARGS(c, "-h"), NULL);
        cli_result h = run_cli(s, ARGS("help", c), NULL);
        assert_int_equal(a.code, 0);
        assert_int_equal(b.code, 0);
        assert_int_equal(h.code, 0);
        assert_string_equal(a.err, "");
        assert_string_equal(a.out, b.out);
        assert_string_equal(a.out, h.out);
        snprintf(usage, sizeof usage, "usage: irv2 %s", c);
        assert_non_null(strstr(a.out, usage));
        assert_non_null(strstr(a.out, "--help"));
        assert_non_null(strstr(a.out, "exit status:"));
        int loads = strcmp(c, "devices") != 0 && strcmp(c, "preprocess") != 0;
        static const char *const env[] = {"IRV2_DEVICE", "IRV2_TUNE", "IRV2_CACHE_DIR",
                                          "IRV2_KERNELS", "IRV2_CLBLAST_TUNING", "IRV2_BINARIES"};
        for (size_t k = 0; loads && k < sizeof env / sizeof env[0]; k++)
            if (!strstr(a.out, env[k])) fail_msg("irv2 %s --help does not name %s", c, env[k]);
        if (loads) {
            squash(a.out);
            assert_non_null(strstr(a.out, "--tune off|fast|full"));
            assert_non_null(strstr(a.out, "Default: $IRV2_TUNE, else fast."));
            assert_non_null(strstr(a.out, "-q, --quiet"));
        }
        result_free(&a), result_free(&b), result_free(&h);
    }
    /* `help` asked for its own help gives the main help */
    static const char *const help_forms[] = {"--help", "-h"};
    for (size_t i = 0; i < 2; i++) {
        cli_result h = run_cli(s, ARGS("help", help_forms[i]), NULL);
        assert_int_equal(h.code, 0);
        assert_string_equal(h.out, top.out);
        result_free(&h);
    }
    result_free(&top);
    /* a few defaults, as the help states them */
    static const char *const want[][2] = {
        {"bench", "--iters N"}, {"bench", "Default: 5."}, {"bench", "--warmup N"},
        {"bench", "--time S"}, {"bench", "--format table|md|csv|json|jsonl"},
        {"bench", "Default: synthetic."}, {"classify", "Default: 8."},
        {"eval", "--results-file FILE"}, {"eval", "--crops 1|10|144"}, {"run", "Required."}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        cli_result h = run_cli(s, ARGS(want[i][0], "--help"), NULL);
        if (!strstr(squash(h.out), want[i][1])) fail_msg("irv2 %s --help lacks '%s'", want[i][0], want[i][1]);
        result_free(&h);
    }
    /* --help wins over anything else on the line, even where a value was due */
    cli_result r = run_cli(s, ARGS("run", "--weights", "--help"), NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "usage: irv2 run"));
    result_free(&r);
    r = run_cli(s, ARGS("-V"), NULL);
    assert_int_equal(r.code, 0);
    assert_true(strncmp(r.out, "irv2 ", 5) == 0);
    result_free(&r);
    /* the man page comes from the same table */
    r = run_cli(s, ARGS("help", "--man"), NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, ".TH IRV2 \"1\""));
    assert_non_null(strstr(r.out, ".SH EXIT STATUS"));
    assert_non_null(strstr(r.out, "IRV2_CLBLAST_TUNING"));
    assert_non_null(strstr(r.out, "results\\-file"));
    result_free(&r);
}

typedef struct usage_case {
    const char *args[12];
    const char *env;
    const char *m1, *m2;     /* what the one stderr line names */
} usage_case;

/* Usage errors: one line naming the option or value, exit status 2, nothing run. */
static void test_usage_errors(void **state)
{
    cli_state *s = *state;
    static const usage_case cases[] = {
        {{"run", "--weigts", "x"}, NULL, "--weigts", "did you mean --weights?"},
        {{"run", "--device=gpu", "--gemm=fast", "-w", "x", "-i", "y", "-o", "z"}, NULL,
         "--gemm 'fast'", "auto, clblast or native"},
        {{"run", "--softmax=yes"}, NULL, "--softmax", "takes no value"},
        {{"run", "-w", "synthetic", "-i", "x.npy"}, NULL, "--output Y.npy is required", NULL},
        {{"classify", "--weights", "synthetic"}, NULL, "no images given", NULL},
        {{"classify", "-w", "synthetic", "--top", "0", "a.jpg"}, NULL, "--top '0'", "1 to"},
        {{"eval", "--data", "d", "--weights"}, NULL, "--weights", "needs a value"},
        {{"eval", "--crops", "7", "--weights", "w", "--data", "d"}, NULL, "--crops '7'",
         "1, 10 or 144"},
        {{"bench", "--batch", "1,,8"}, NULL, "--batch '1,,8'", NULL},
        {{"bench", "--time", "-1"}, NULL, "--time '-1'", NULL},
        {{"bench", "--format", "xml"}, NULL, "--format 'xml'", "jsonl"},
        /* one device-list grammar (irv2_device_list) for every command that opens devices,
         * checked before any work, from the option or the environment */
        {{"bench", "--device", "0,"}, NULL, "bench: --device: device list '0,'",
         "ends with a comma"},
        {{"run", "-w", "synthetic", "-i", "x.npy", "-o", "y.npy", "--device", "0,"}, NULL,
         "run: --device: device list '0,'", "ends with a comma"},
        {{"classify", "-w", "synthetic", "-d", "0,,1", "a.jpg"}, NULL,
         "classify: --device: device list '0,,1'", "item 2 is empty"},
        {{"eval", "-w", "synthetic", "--data", "d", "--device", "nosuch"}, NULL,
         "eval: --device: device list 'nosuch'", "unknown device 'nosuch'"},
        {{"compile", "--out", "o", "--device", "GPU"}, NULL,
         "compile: --device: device list 'GPU'", "unknown device 'GPU'"},
        {{"bench"}, "IRV2_DEVICE=0,", "bench: IRV2_DEVICE: device list '0,'",
         "ends with a comma"},
        {{"compile", "--out", "o", "--device", "0,0"}, NULL, "compile: --device '0,0'",
         "names 2 devices"},
        {{"devices", "extra"}, NULL, "unexpected argument 'extra'", NULL},
        {{"help", "nosuch"}, NULL, "nosuch", NULL},
        {{"--frobnicate"}, NULL, "--frobnicate", NULL},
        {{"run", "-w", "synthetic", "-i", "x.npy", "-o", "y.npy"}, "IRV2_TUNE=fastest",
         "IRV2_TUNE=fastest", "off, fast or full"},
        {{"run", "-w", "synthetic", "-i", "x.npy", "-o", "y.npy"}, "IRV2_KERNELS=gpu",
         "IRV2_KERNELS=gpu", "expected auto, wg, vec or compact"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cli_result r = run_cli(s, cases[i].args, cases[i].env);
        assert_true(r.exited);
        if (r.code != 2) fail_msg("case %zu: exit %d, not 2", i, r.code);
        expect_one_line(&r, cases[i].m1, cases[i].m2);
        assert_string_equal(r.out, "");
        assert_true(r.seconds < 5.0); /* nothing was loaded */
        result_free(&r);
    }
}

/* --opt=value, -o value and -ovalue, options after operands and "--" before an operand that
 * starts with '-': preprocess (no device) writes the same array from each. */
static void test_option_forms(void **state)
{
    cli_state *s = *state;
    char dir[4200], a[4300], b[4300], c[4300], dash[4300], eq[4400], glued[4400];
    case_dir(s, dir, sizeof dir);
    snprintf(a, sizeof a, "%s/a.npy", dir);
    snprintf(b, sizeof b, "%s/b.npy", dir);
    snprintf(c, sizeof c, "%s/c.npy", dir);
    snprintf(dash, sizeof dash, "%s/-image.png", dir);
    char *png = read_all(test_data_path("images/pattern_100x50.png"));
    assert_non_null(png);
    free(png);
    /* copy the image byte for byte under a name that starts with '-' */
    FILE *in = fopen(test_data_path("images/pattern_100x50.png"), "rb"), *out = fopen(dash, "wb");
    assert_non_null(in);
    assert_non_null(out);
    int ch;
    while ((ch = fgetc(in)) != EOF) fputc(ch, out);
    fclose(in);
    assert_int_equal(fclose(out), 0);
    const char *img = test_data_path("images/pattern_160x120.jpg");
    char img_copy[4200];
    snprintf(img_copy, sizeof img_copy, "%s", img);
    snprintf(eq, sizeof eq, "--output=%s", a);
    snprintf(glued, sizeof glued, "-o%s", c);
    cli_result r = run_cli(s, ARGS("preprocess", eq, img_copy, "--", dash), NULL);
    assert_int_equal(r.code, 0);
    assert_string_equal(r.err, "");
    result_free(&r);
    r = run_cli(s, ARGS("preprocess", img_copy, "-o", b, "-q", "--", dash), NULL);
    assert_int_equal(r.code, 0);
    result_free(&r);
    r = run_cli(s, ARGS("preprocess", glued, img_copy, "--", dash), NULL);
    assert_int_equal(r.code, 0);
    result_free(&r);
    char *x = read_all(a), *y = read_all(b), *z = read_all(c);
    assert_non_null(x);
    assert_non_null(y);
    assert_non_null(z);
    assert_string_equal(x, y);
    assert_string_equal(x, z);
    free(x), free(y), free(z);
    unsigned ndim;
    uint64_t shape[8];
    float *data = NULL;
    assert_int_equal(irv2_npy_read(a, &ndim, shape, &data), IRV2_OK);
    assert_int_equal(ndim, 4);
    assert_int_equal(shape[0], 2);
    assert_int_equal(shape[1], 3);
    assert_int_equal(shape[2], 299);
    assert_int_equal(shape[3], 299);
    /* the same preprocessing as the library's */
    irv2_image im;
    float *ref = malloc(IMAGE * sizeof(float));
    assert_non_null(ref);
    assert_int_equal(irv2_image_load(img_copy, &im), IRV2_OK);
    assert_int_equal(irv2_image_preprocess(&im, ref), IRV2_OK);
    irv2_image_free(&im);
    assert_memory_equal(ref, data, IMAGE * sizeof(float));
    free(ref);
    free(data);
    remove(a), remove(b), remove(c), remove(dash);
    assert_int_equal(rmdir(dir), 0);
}

/* Output paths are checked before any device work: a missing folder, a folder given as the
 * file. */
static void test_outputs_checked_first(void **state)
{
    cli_state *s = *state;
    static const char *const bad = "/nonexistent/irv2-dir/out";
    cli_result r = run_cli(s, ARGS("run", "-w", "synthetic", "-i", s->input1, "-o", bad), NULL);
    assert_int_equal(r.code, 1);
    expect_one_line(&r, bad, "does not exist");
    assert_true(r.seconds < 5.0);
    result_free(&r);
    r = run_cli(s, ARGS("bench", "--json", bad), NULL);
    assert_int_equal(r.code, 1);
    expect_one_line(&r, "--json", bad);
    assert_true(r.seconds < 5.0);
    result_free(&r);
    r = run_cli(s, ARGS("eval", "-w", "synthetic", "--data", s->dir, "--results-file", s->dir),
                NULL);
    assert_int_equal(r.code, 1);
    expect_one_line(&r, "--results-file", "is a folder");
    assert_true(r.seconds < 5.0);
    result_free(&r);
}

/* A file of another kind where a checkpoint, an array or a list is expected is named as what
 * it is; an empty data folder is refused before the model is loaded. */
static void test_wrong_files(void **state)
{
    cli_state *s = *state;
    const char *jpg = test_data_path("images/pattern_160x120.jpg");
    char jpg_copy[4200];
    snprintf(jpg_copy, sizeof jpg_copy, "%s", jpg);
    char dir[4200], out[4300];
    case_dir(s, dir, sizeof dir);
    snprintf(out, sizeof out, "%s/out.npy", dir);
    cli_result r = run_cli(s, ARGS("run", "-w", "synthetic", "-i", jpg_copy, "-o", out), NULL);
    assert_int_equal(r.code, 1);
    expect_one_line(&r, jpg_copy, "irv2 preprocess");
    result_free(&r);
    r = run_cli(s, ARGS("run", "-w", s->input1, "-i", s->input1, "-o", out), NULL);
    assert_int_equal(r.code, 1);
    expect_one_line(&r, s->input1, "that is --input");
    result_free(&r);
    r = run_cli(s, ARGS("eval", "-w", "synthetic", "--data", jpg_copy), NULL);
    assert_int_equal(r.code, 1);
    expect_one_line(&r, jpg_copy, "not a list file");
    result_free(&r);
    /* class folders without images */
    char cls[4300];
    snprintf(cls, sizeof cls, "%s/n01440764", dir);
    assert_int_equal(mkdir(cls, 0755), 0);
    r = run_cli(s, ARGS("eval", "-w", "synthetic", "--data", dir), NULL);
    assert_int_equal(r.code, 1);
    expect_one_line(&r, dir, "no images");
    assert_true(r.seconds < 5.0);
    result_free(&r);
    assert_int_equal(rmdir(cls), 0);
    assert_int_equal(dir_entries(dir, NULL), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* Copies a test image to dir/leaf. */
static void copy_image(const char *image, const char *dir, const char *leaf, char *path,
                       size_t cap)
{
    snprintf(path, cap, "%s/%s", dir, leaf);
    FILE *in = fopen(test_data_path(image), "rb"), *out = fopen(path, "wb");
    assert_non_null(in);
    assert_non_null(out);
    int ch;
    while ((ch = fgetc(in)) != EOF) fputc(ch, out);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

/* classify --json: one valid JSON object per image in the order given, a name that is not
 * UTF-8 replaced and also given as base64, failed images as error records; and eval
 * --results-file: the same images as CSV rows. */
static void test_classify_and_results(void **state)
{
    cli_state *s = *state;
    char dir[4200], good[4300], latin1[4300], missing[4300], list[4300], csv[4300];
    case_dir(s, dir, sizeof dir);
    copy_image("images/pattern_160x120.jpg", dir, "good \"1\".jpg", good, sizeof good);
    copy_image("images/pattern_100x50.png", dir, "caf\xe9.png", latin1, sizeof latin1);
    snprintf(missing, sizeof missing, "%s/missing.png", dir);
    cli_result r = run_cli(s, ARGS("classify", "-w", "synthetic:1", "--json", "--top", "3",
                                   "-d", test_device(), "-q", "-b", "2", missing, good, latin1),
                           NULL);
    assert_int_equal(r.code, 1);
    expect_one_line(&r, missing, NULL);
    const char *p = r.out;
    json_t *rec[3];
    for (int i = 0; i < 3; i++) {
        json_error_t err;
        size_t len = strcspn(p, "\n");
        assert_true(p[len] == '\n');
        /* strict: jansson refuses invalid UTF-8 and lone surrogates */
        rec[i] = json_loadb(p, len, 0, &err);
        if (!rec[i]) fail_msg("line %d is not JSON: %s: %.*s", i + 1, err.text, (int)len, p);
        p += len + 1;
    }
    assert_string_equal(p, "");
    assert_string_equal(json_string_value(get(rec[0], "image")), missing);
    assert_non_null(strstr(json_string_value(get(rec[0], "error")), "missing.png"));
    assert_string_equal(json_string_value(get(rec[1], "image")), good);
    assert_int_equal(json_array_size(get(rec[1], "top")), 3);
    assert_null(json_object_get(rec[1], "image_bytes"));
    char want[4400];
    snprintf(want, sizeof want, "%s/caf\xef\xbf\xbd.png", dir);
    assert_string_equal(json_string_value(get(rec[2], "image")), want);
    assert_int_equal(json_array_size(get(rec[2], "top")), 3);
    /* image_bytes: the name's bytes in base64 ("caf\xe9.png" ends the path) */
    const char *b64 = json_string_value(get(rec[2], "image_bytes"));
    assert_non_null(b64);
    assert_int_equal(strlen(b64), (strlen(latin1) + 2) / 3 * 4);
    for (int i = 0; i < 3; i++) json_decref(rec[i]);
    result_free(&r);

    /* eval --results-file over a list of the same three images, label 0 */
    snprintf(list, sizeof list, "%s/val.txt", dir);
    snprintf(csv, sizeof csv, "%s/top5.csv", dir);
    FILE *f = fopen(list, "w");
    assert_non_null(f);
    fprintf(f, "missing.png 0\ngood \"1\".jpg 0\ncaf\xe9.png 0\n");
    assert_int_equal(fclose(f), 0);
    r = run_cli(s, ARGS("eval", "-w", "synthetic:1", "--data", list, "-d", test_device(), "-q",
                        "--results-file", csv),
                NULL);
    assert_int_equal(r.code, 1); /* one image failed */
    expect_one_line(&r, "missing.png", NULL);
    assert_non_null(strstr(r.out, "images: 2 evaluated, 1 failed"));
    result_free(&r);
    char *text = read_all(csv);
    assert_non_null(text);
    const char *line = text;
    assert_true(strncmp(line, "image,label,top1_class,top1_prob,", 33) == 0);
    static const char *const starts[] = {"", "missing.png,0,", "\"", "caf"};
    for (int i = 1; i < 4; i++) {
        line = strchr(line, '\n');
        assert_non_null(line);
        line++;
        char row[8192];
        snprintf(row, sizeof row, "%.*s", (int)strcspn(line, "\n"), line);
        if (!strstr(row, starts[i])) fail_msg("row %d \"%s\" lacks \"%s\"", i, row, starts[i]);
        int commas = 0;
        for (const char *c = row; *c; c++) commas += *c == ',';
        if (i == 2) assert_non_null(strstr(row, "good \"\"1\"\".jpg\",0,")); /* quoted */
        if (i == 1) assert_non_null(strstr(row, "cannot open"));
        if (i == 3) assert_int_equal(commas, 14); /* 15 fields, the error empty */
    }
    assert_string_equal(strchr(line, '\n'), "\n");
    free(text);
    remove(csv), remove(list), remove(good), remove(latin1);
    assert_int_equal(dir_entries(dir, NULL), 0);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_weights),
        cmocka_unit_test(test_empty_weights),
        cmocka_unit_test(test_truncated_weights),
        cmocka_unit_test(test_input_wrong_shape),
        cmocka_unit_test(test_input_float64),
        cmocka_unit_test(test_input_not_npy),
        cmocka_unit_test(test_bad_device),
        cmocka_unit_test(test_bad_device_from_environment),
        cmocka_unit_test(test_bad_kernel_family),
        cmocka_unit_test(test_bad_binaries),
        cmocka_unit_test(test_multiple_devices),
        cmocka_unit_test(test_export_synthetic),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_unknown_command),
        cmocka_unit_test(test_failure_keeps_existing_output),
        cmocka_unit_test(test_failure_writing_output),
        cmocka_unit_test(test_run_matches_golden),
        cmocka_unit_test(test_devices),
        cmocka_unit_test(test_bench_json),
        cmocka_unit_test(test_bench_sweep_failures),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_option_forms),
        cmocka_unit_test(test_outputs_checked_first),
        cmocka_unit_test(test_wrong_files),
        cmocka_unit_test(test_classify_and_results),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
