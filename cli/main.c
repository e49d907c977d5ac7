/* main.c: the irv2 command-line tool: dispatch to devices / run / bench / classify / eval. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: irv2 <command> [options]\n"
            "  devices                         list OpenCL platforms and devices\n"
            "  run --weights W --input X.npy --output Y.npy [--device SPEC] [--softmax]\n"
            "      [--gemm auto|clblast|native] [--variant auto|seed|tf]\n"
            "                                  logits of a float32 N x 3 x 299 x 299 array\n"
            "  bench [--device SPEC|all] [--batch LIST] [--iters N] [--weights W] [--peak]\n"
            "      [--cold] [--layers] [--gemm auto|clblast|native] [--variant auto|seed|tf]\n"
            "      [--json FILE]\n"
            "                                  measure start-up, throughput and latency\n"
            "  classify --weights W [--labels FILE] [--top K] [--json] [--device SPEC]\n"
            "      [--gemm auto|clblast|native] [--variant auto|seed|tf] [--batch B] IMAGE...\n"
            "                                  top K classes of JPEG/PNG images\n"
            "  eval --weights W --data DIR|LIST [--crops 1|10|144] [--limit N] [--device SPEC]\n"
            "      [--gemm auto|clblast|native] [--variant auto|seed|tf] [--batch B]\n"
            "                                  top-1/top-5 error on a labelled image set\n"
            "  compile --out DIR [--device SPEC] [--batch LIST] [--weights W]\n"
            "      [--variant auto|seed|tf]\n"
            "                                  compile every program the plans need into DIR\n"
            "                                  (for devices without a compiler); run, bench,\n"
            "                                  classify and eval take --binaries DIR to use them\n"
            "  --version, -V                   print irv2's version\n"
            "W is a .safetensors file or synthetic[:SEED]; SPEC is cpu, gpu, accelerator, an\n"
            "index from 'irv2 devices', or P:D (default: $IRV2_DEVICE, else the first GPU,\n"
            "else the first device).\n"
            "Environment: IRV2_DEVICE, IRV2_TUNE=0 (no tuning), IRV2_CACHE_DIR (or off),\n"
            "IRV2_KERNELS=auto|wg|vec|compact, IRV2_BINARIES=DIR (as --binaries).\n");
}

int cli_fail(irv2_status st, const char *context)
{
    const char *msg = irv2_last_error();
    if (context && *context)
        fprintf(stderr, "irv2: %s: %s\n", context, *msg ? msg : irv2_status_string(st));
    else
        fprintf(stderr, "irv2: %s\n", *msg ? msg : irv2_status_string(st));
    return 1;
}

/* Parses value into *field from the names of a small enum; -1 when it is none of them. */
static int parse_name(const char *value, const char *const *names, int count, int *field)
{
    for (int i = 0; i < count; i++)
        if (strcmp(value, names[i]) == 0) return *field = i, 0;
    return -1;
}

int cli_parse_batches(const char *s, unsigned *out, int cap, int *n)
{
    *n = 0;
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v <= 0 || v > 4096 || *n == cap) return -1;
        if (*end && *end != ',') return -1;
        out[(*n)++] = (unsigned)v;
        s = *end == ',' ? end + 1 : end;
    }
    return *n ? 0 : -1;
}

int cli_model_option(const char *cmd, const char *option, const char *value,
                     irv2_model_options *opt)
{
    if (strcmp(option, "--binaries") == 0) {
        if (!*value || setenv("IRV2_BINARIES", value, 1) != 0) {
            fprintf(stderr, "irv2: %s: --binaries '%s': expected a folder\n", cmd, value);
            return -1;
        }
        return 1;
    }
    static const char *const gemms[] = {[IRV2_GEMM_AUTO] = "auto", [IRV2_GEMM_CLBLAST] = "clblast",
                                        [IRV2_GEMM_NATIVE] = "native"};
    static const char *const variants[] = {[IRV2_VARIANT_AUTO] = "auto",
                                           [IRV2_VARIANT_SEED] = "seed", [IRV2_VARIANT_TF] = "tf"};
    int v, is_gemm = strcmp(option, "--gemm") == 0;
    if (!is_gemm && strcmp(option, "--variant") != 0) return 0;
    if (is_gemm ? parse_name(value, gemms, 3, &v) : parse_name(value, variants, 3, &v)) {
        fprintf(stderr, "irv2: %s: %s '%s': use %s\n", cmd, option, value,
                is_gemm ? "auto, clblast or native" : "auto, seed or tf");
        return -1;
    }
    if (is_gemm) opt->gemm = (irv2_gemm_backend)v;
    else opt->variant = (irv2_variant)v;
    return 1;
}

int main(int argc, char **argv)
{
    /* Line by line even into a pipe or a file, so that a CI log shows each result as it comes
     * rather than everything at exit. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "devices") == 0) return cmd_devices(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0) return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0) return cmd_bench(argc - 1, argv + 1);
    if (strcmp(cmd, "classify") == 0) return cmd_classify(argc - 1, argv + 1);
    if (strcmp(cmd, "eval") == 0) return cmd_eval(argc - 1, argv + 1);
    if (strcmp(cmd, "compile") == 0) return cmd_compile(argc - 1, argv + 1);
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("irv2 %s\n", irv2_version());
        return 0;
    }
    fprintf(stderr, "irv2: unknown command '%s' (try 'irv2 --help')\n", cmd);
    return 2;
}
