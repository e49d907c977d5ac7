/* common.c: what the subcommands share: opening the model with the settings and one-line
 * errors (and a hint when a file of another kind was given), checking output paths before any
 * device work, and UTF-8-safe strings for JSON. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void cli_check_cache_dir(const cli_args *a)
{
    const char *c = a->context.cache_dir;
    if (!c || !*c) return;
    char *dir = strdup(c);
    struct stat sb;
    while (dir && stat(dir, &sb) != 0 && errno == ENOENT) { /* the nearest existing folder */
        char *slash = strrchr(dir, '/');
        if (!slash) strcpy(dir, ".");
        else if (slash == dir) slash[1] = '\0';
        else *slash = '\0';
    }
    if (dir && (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode) || access(dir, W_OK) != 0))
        cli_error("%s: warning: cache folder %s: %s is not a folder irv2 can write into: "
                  "nothing is cached, so every start tunes and compiles again (give a writable "
                  "folder, or off)", a->command, c, dir);
    free(dir);
}

/* The hint appended to a failure about weights: what the file is when it is not a
 * checkpoint, and where such a file goes. */
static const char *weights_hint(const char *weights)
{
    const char *kind = cli_file_kind(weights);
    if (!kind) return "";
    if (strcmp(kind, "a .npy array") == 0) return " (it is a .npy array: that is --input)";
    if (strstr(kind, "image")) return " (it is an image: irv2 classify takes images)";
    if (strstr(kind, "pickle") || strstr(kind, "zip"))
        return " (it looks like a PyTorch file: irv2 reads safetensors; save the state_dict "
               "with safetensors.torch.save_file)";
    return "";
}

int cli_fail_model(irv2_status st, const irv2_context *ctx)
{
    const char *log = ctx ? irv2_context_build_log(ctx) : "";
    cli_fail(st, NULL);
    if (st == IRV2_ERR_BUILD && *log) fprintf(stderr, "build log:\n%s\n", log);
    return CLI_EXIT_FAILURE;
}

int cli_open_model(const cli_args *a, irv2_context **ctx, irv2_model **model)
{
    *ctx = NULL, *model = NULL;
    irv2_context_options copt = a->context;
    if (!a->quiet) copt.progress = cli_progress, copt.progress_user = NULL;
    irv2_status st = irv2_context_open(&copt, ctx);
    if (st == IRV2_ERR_DEVICE_SPEC && !a->device_given) {
        cli_error("%s (from IRV2_DEVICE; 'irv2 devices' lists the devices)", irv2_last_error());
        return CLI_EXIT_FAILURE;
    }
    if (st == IRV2_ERR_DEVICE_SPEC) {
        cli_error("%s ('irv2 devices' lists the devices)", irv2_last_error());
        return CLI_EXIT_FAILURE;
    }
    irv2_model_options options = a->model;
    if (a->exact) options.exclude |= IRV2_EXCLUDE_WINOGRAD;
    if (st == IRV2_OK) st = irv2_model_load(*ctx, a->weights, &options, model);
    if (st == IRV2_OK) return 0;
    if (st == IRV2_ERR_FORMAT && *ctx) {
        const char *msg = irv2_last_error();
        cli_error("%s%s", *msg ? msg : irv2_status_string(st), weights_hint(a->weights));
    } else {
        cli_fail_model(st, *ctx);
    }
    irv2_context_free(*ctx);
    *ctx = NULL;
    return CLI_EXIT_FAILURE;
}

int cli_check_output(const char *command, const char *option, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        cli_error("%s: %s %s: is a folder, not a file", command, option, path);
        return -1;
    }
    char *dir = strdup(path);
    if (!dir) {
        cli_error("%s: out of host memory", command);
        return -1;
    }
    char *slash = strrchr(dir, '/');
    if (!slash) strcpy(dir, ".");
    else if (slash == dir) slash[1] = '\0';
    else *slash = '\0';
    int rc = 0;
    if (stat(dir, &sb) != 0) {
        cli_error("%s: %s %s: the folder %s %s", command, option, path, dir,
                  errno == ENOENT ? "does not exist" : strerror(errno));
        rc = -1;
    } else if (!S_ISDIR(sb.st_mode)) {
        cli_error("%s: %s %s: %s is not a folder", command, option, path, dir);
        rc = -1;
    } else if (access(dir, W_OK) != 0) {
        cli_error("%s: %s %s: cannot write into the folder %s: %s", command, option, path, dir,
                  strerror(errno));
        rc = -1;
    }
    free(dir);
    return rc;
}

/* Length of the UTF-8 sequence at p (1 to 4; not overlong, no surrogates, at most U+10FFFF),
 * or 0 when p does not start one. */
static size_t utf8_length(const unsigned char *p)
{
    if (p[0] < 0x80) return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF) return (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        unsigned lo = p[0] == 0xE0 ? 0xA0 : 0x80, hi = p[0] == 0xED ? 0x9F : 0xBF;
        return p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        unsigned lo = p[0] == 0xF0 ? 0x90 : 0x80, hi = p[0] == 0xF4 ? 0x8F : 0xBF;
        return p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 && (p[3] & 0xC0) == 0x80 ? 4
                                                                                            : 0;
    }
    return 0;
}

char *cli_utf8(const char *s, int *lossy)
{
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1); /* each invalid byte becomes the 3 bytes of U+FFFD */
    if (lossy) *lossy = 0;
    if (!out) return NULL;
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t len = utf8_length(p);
        if (len == 0) {
            memcpy(out + k, "\xEF\xBF\xBD", 3);
            k += 3, p++;
            if (lossy) *lossy = 1;
        } else {
            memcpy(out + k, p, len);
            k += len, p += len;
        }
    }
    out[k] = '\0';
    return out;
}

char *cli_base64(const char *s)
{
    static const char digits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(s), k = 0;
    char *out = malloc((n + 2) / 3 * 4 + 1);
    if (!out) return NULL;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        out[k++] = digits[v >> 18 & 63];
        out[k++] = digits[v >> 12 & 63];
        out[k++] = i + 1 < n ? digits[v >> 6 & 63] : '=';
        out[k++] = i + 2 < n ? digits[v & 63] : '=';
    }
    out[k] = '\0';
    return out;
}

void cli_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}
