/* opt.c: the option tables turned into a parser, each command's --help, `irv2 --help` and the
 * irv2(1) man page (see opt.h); the environment variables and exit statuses they document. */
#include "opt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HELP_WIDTH 80
#define HELP_COLUMN 28  /* where an option's description starts */

typedef struct cli_env {
    const char *name, *help;
} cli_env;

/* The environment variables a model-loading command reads. */
static const cli_env environment[] = {
    {"IRV2_DEVICE", "The default of --device (the same forms)."},
    {"IRV2_TUNE", "The default of --tune: off (or 0), fast or full."},
    {"IRV2_KERNELS", "The default of --kernels: auto, wg, vec or compact."},
    {"IRV2_EXACT", "1: the default of --exact is on."},
    {"IRV2_CACHE_DIR", "The default of --cache-dir (a folder, or off)."},
    {"IRV2_BINARIES", "The default of --binaries."},
    {"IRV2_CLBLAST_TUNING", "The default of --clblast-tuning."},
    {"IRV2_MAX_ALLOC_BYTES", "Lowers the device's largest allocation to this many bytes (to "
                             "try the batch splitting of small devices)."},
    {"IRV2_FAULT", "For tests: alloc:N, build:N or nocompiler makes the Nth device allocation "
                   "or program build, and every later one, fail (or the compiler absent); "
                   "run:N makes the Nth model run fail as on a lost device."},
};

/* The exit statuses every command uses. */
static const cli_env exit_statuses[] = {
    {"0", "Success."},
    {"1", "A runtime failure: a file that cannot be read or written, a device, OpenCL or "
          "memory error, an image that could not be classified, a benchmark entry that failed "
          "(the other images and entries still run and are reported)."},
    {"2", "A usage error: an unknown option, a missing or malformed value, a bad environment "
          "variable; nothing was run."},
    {"3", "run, classify, eval on several devices: everything ran, but a device failed and its "
          "images were run again on the others."},
};

/* ---- lookup --------------------------------------------------------------------------- */

const cli_command *cli_find_command(const char *name)
{
    for (const cli_command *c = cli_commands; c->name; c++)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

static const cli_option *find_long(const cli_command *cmd, const char *name, size_t len)
{
    for (const cli_option *o = cmd->options; o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) return o;
    return NULL;
}

static const cli_option *find_short(const cli_command *cmd, char letter)
{
    for (const cli_option *o = cmd->options; o->name; o++)
        if (o->letter == letter) return o;
    return NULL;
}

/* Edit distance of a[0..n) and b, for "did you mean"; capped, it only ranks near misses. */
static size_t distance(const char *a, size_t n, const char *b)
{
    size_t m = strlen(b), row[64];
    if (n >= 63 || m >= 63) return 99;
    for (size_t j = 0; j <= m; j++) row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[m];
}

/* The option whose name is nearest to name[0..n) (within 2 edits or a prefix), or NULL. */
static const cli_option *nearest(const cli_command *cmd, const char *name, size_t n)
{
    const cli_option *best = NULL;
    size_t best_d = 3;
    for (const cli_option *o = cmd->options; o->name; o++) {
        size_t d = n >= 2 && strncmp(o->name, name, n) == 0 ? 1 : distance(name, n, o->name);
        if (d < best_d) best = o, best_d = d;
    }
    return best;
}

/* ---- values --------------------------------------------------------------------------- */

static void *field(cli_args *a, const cli_option *o) { return (char *)a + o->offset; }

/* "auto, clblast or native" (listed choices). */
/* The listed values of an OPT_CHOICE or OPT_SETTING option, at most cap; returns how many. */
static size_t listed_values(const cli_option *o, const char **out, size_t cap)
{
    size_t n = 0;
    if (o->kind == OPT_SETTING)
        for (int v = 0; v < o->setting->count && n < cap; v++) {
            const char *name = o->setting->name(v);
            if (*name && strcmp(name, "default") != 0) out[n++] = name;
        }
    for (const cli_choice *c = o->kind == OPT_CHOICE ? o->choices : NULL; c && c->name; c++)
        if (!c->hidden && n < cap) out[n++] = c->name;
    return n;
}

static void choice_list(const cli_option *o, char *buf, size_t cap)
{
    const char *names[16];
    size_t count = listed_values(o, names, 16), n = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < count; k++) {
        const char *sep = k == 0 ? "" : k + 1 == count ? " or " : ", ";
        int w = snprintf(buf + n, cap - n, "%s%s", sep, names[k]);
        if (w < 0 || (size_t)w >= cap - n) break;
        n += (size_t)w;
    }
}

/* The value's name in usage lines: metavar, else the listed choices joined by '|'. */
static void value_name(const cli_option *o, char *buf, size_t cap)
{
    if (o->metavar || (o->kind != OPT_CHOICE && o->kind != OPT_SETTING)) {
        snprintf(buf, cap, "%s", o->metavar ? o->metavar : "VALUE");
        return;
    }
    const char *names[16];
    size_t count = listed_values(o, names, 16), n = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < count; k++) {
        int w = snprintf(buf + n, cap - n, "%s%s", n ? "|" : "", names[k]);
        if (w < 0 || (size_t)w >= cap - n) break;
        n += (size_t)w;
    }
}

static int parse_batches(const char *s, unsigned *out, int cap, int *n)
{
    *n = 0;
    while (*s) {
        char *end;
        if (*s < '0' || *s > '9') return -1;
        long v = strtol(s, &end, 10);
        if (v <= 0 || v > 4096 || *n == cap) return -1;
        if (*end && *end != ',') return -1;
        out[(*n)++] = (unsigned)v;
        s = *end == ',' ? end + 1 : end;
    }
    return *n ? 0 : -1;
}

/* Stores value into o's field; prints the error and returns -1 when it is malformed. */
static int set_value(const cli_command *cmd, const cli_option *o, const char *value, cli_args *a)
{
    char list[256];
    switch (o->kind) {
    case OPT_FLAG:
    case OPT_HELP:
        *(int *)field(a, o) = 1;
        return 0;
    case OPT_STRING:
        if (!*value) {
            cli_error("%s: --%s: expected %s, not an empty value", cmd->name, o->name,
                      o->metavar ? o->metavar : "a value");
            return -1;
        }
        *(const char **)field(a, o) = value;
        return 0;
    case OPT_COUNT: {
        char *end;
        unsigned long long v = strtoull(value, &end, 10);
        if (*value < '0' || *value > '9' || *end || v < o->min || v > o->max) {
            cli_error("%s: --%s '%s': expected a whole number from %u to %u", cmd->name, o->name,
                      value, o->min, o->max);
            return -1;
        }
        *(unsigned *)field(a, o) = (unsigned)v;
        return 0;
    }
    case OPT_SECONDS: {
        char *end;
        double v = strtod(value, &end);
        if (end == value || *end || !(v >= 0) || v > o->max) {
            cli_error("%s: --%s '%s': expected seconds from 0 to %u", cmd->name, o->name, value,
                      o->max);
            return -1;
        }
        *(double *)field(a, o) = v;
        return 0;
    }
    case OPT_CHOICE:
        for (const cli_choice *c = o->choices; c->name; c++)
            if (strcmp(value, c->name) == 0) {
                *(int *)field(a, o) = c->value;
                return 0;
            }
        choice_list(o, list, sizeof list);
        cli_error("%s: --%s '%s': expected %s", cmd->name, o->name, value, list);
        return -1;
    case OPT_SETTING:
        if (o->setting->parse(value, (int *)field(a, o)) == IRV2_OK) return 0;
        choice_list(o, list, sizeof list);
        cli_error("%s: --%s '%s': expected %s", cmd->name, o->name, value, list);
        return -1;
    case OPT_BATCHES:
        if (parse_batches(value, a->batches, CLI_MAX_BATCHES, &a->nbatches) != 0) {
            cli_error("%s: --%s '%s': expected a list of batch sizes like 1,8 (each 1 to 4096, "
                      "at most %d)", cmd->name, o->name, value, CLI_MAX_BATCHES);
            return -1;
        }
        return 0;
    }
    return -1;
}

/* ---- parsing -------------------------------------------------------------------------- */

/* "--weights W" for messages about a missing option. */
static void option_with_value(const cli_option *o, char *buf, size_t cap)
{
    char v[128];
    value_name(o, v, sizeof v);
    if (o->kind == OPT_FLAG || o->kind == OPT_HELP) snprintf(buf, cap, "--%s", o->name);
    else snprintf(buf, cap, "--%s %s", o->name, v);
}

int cli_parse(const cli_command *cmd, int argc, char **argv, cli_args *a)
{
    memset(a, 0, sizeof *a);
    a->command = cmd->name;
    /* --help wins wherever it is (before "--"), so that `irv2 run --weights --help` helps */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_help_command(cmd, stdout);
            return -1;
        }
    irv2_context_options_init(&a->context);
    irv2_model_options_init(&a->model);
    /* the environment's settings are the defaults the options given replace */
    if (cmd->environment && (irv2_context_options_from_env(&a->context) != IRV2_OK ||
                             irv2_model_options_from_env(&a->model) != IRV2_OK)) {
        cli_error("%s: %s (or unset it, or give the option)", cmd->name, irv2_last_error());
        return CLI_EXIT_USAGE;
    }
    for (const cli_option *o = cmd->options; o->name; o++)
        if (o->def && set_value(cmd, o, o->def, a) != 0) return CLI_EXIT_USAGE;
    a->operands = calloc((size_t)argc + 1, sizeof *a->operands);
    if (!a->operands) {
        cli_error("%s: out of host memory", cmd->name);
        return CLI_EXIT_FAILURE;
    }
    unsigned char given[128] = {0};
    int only_operands = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (only_operands || arg[0] != '-' || arg[1] == '\0') {
            if (!cmd->operands) {
                cli_error("%s: unexpected argument '%s' (see 'irv2 %s --help')", cmd->name, arg,
                          cmd->name);
                return CLI_EXIT_USAGE;
            }
            a->operands[a->noperands++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_operands = 1;
            continue;
        }
        const cli_option *o;
        const char *value = NULL, *shown = arg;
        char spelled[160];
        if (arg[1] == '-') {
            const char *name = arg + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            o = find_long(cmd, name, len);
            if (!o) {
                const cli_option *near = nearest(cmd, name, len);
                if (near)
                    cli_error("%s: unknown option '--%.*s' (did you mean --%s? see 'irv2 %s "
                              "--help')", cmd->name, (int)len, name, near->name, cmd->name);
                else
                    cli_error("%s: unknown option '--%.*s' (see 'irv2 %s --help')", cmd->name,
                              (int)len, name, cmd->name);
                return CLI_EXIT_USAGE;
            }
            if (eq) value = eq + 1;
            snprintf(spelled, sizeof spelled, "--%s", o->name);
            shown = spelled;
        } else {
            o = find_short(cmd, arg[1]);
            if (!o) {
                cli_error("%s: unknown option '-%c' (see 'irv2 %s --help')", cmd->name, arg[1],
                          cmd->name);
                return CLI_EXIT_USAGE;
            }
            snprintf(spelled, sizeof spelled, "-%c", arg[1]);
            shown = spelled;
            if (arg[2] && o->kind != OPT_FLAG) value = arg + 2;
            else if (arg[2]) {
                cli_error("%s: option '-%c' takes no value (in '%s')", cmd->name, arg[1], arg);
                return CLI_EXIT_USAGE;
            }
        }
        if (o->kind == OPT_FLAG || o->kind == OPT_HELP) {
            if (value) {
                cli_error("%s: option '%s' takes no value", cmd->name, shown);
                return CLI_EXIT_USAGE;
            }
        } else if (!value) {
            char v[128];
            value_name(o, v, sizeof v);
            /* a value that looks like an option is one: --weights --input x means a
             * forgotten value, not a file named --input (write --weights=--input for that) */
            const char *next = i + 1 < argc ? argv[i + 1] : NULL;
            if (!next || (next[0] == '-' && next[1] != '\0' && (next[1] < '0' || next[1] > '9'))) {
                cli_error("%s: option '%s' needs a value (%s)", cmd->name, shown, v);
                return CLI_EXIT_USAGE;
            }
            value = argv[++i];
        }
        if (set_value(cmd, o, value, a) != 0) return CLI_EXIT_USAGE;
        given[o - cmd->options] = 1;
    }
    /* the required options that are missing, named together */
    char missing[512] = "";
    int nmissing = 0, total = 0;
    for (const cli_option *o = cmd->options; o->name; o++) total += o->required && !given[o - cmd->options];
    for (const cli_option *o = cmd->options; o->name; o++) {
        if (!o->required || given[o - cmd->options]) continue;
        char one[160];
        option_with_value(o, one, sizeof one);
        size_t n = strlen(missing);
        const char *sep = nmissing == 0 ? "" : nmissing + 1 == total ? " and " : ", ";
        snprintf(missing + n, sizeof missing - n, "%s%s", sep, one);
        nmissing++;
    }
    if (nmissing) {
        cli_error("%s: %s %s required (see 'irv2 %s --help')", cmd->name, missing,
                  nmissing > 1 ? "are" : "is", cmd->name);
        return CLI_EXIT_USAGE;
    }
    if (cmd->operands && a->noperands < cmd->min_operands) {
        cli_error("%s: no %s given (usage: irv2 %s %s)", cmd->name, cmd->operands_noun,
                  cmd->name, cmd->synopsis);
        return CLI_EXIT_USAGE;
    }
    for (const cli_option *o = cmd->options; o->name; o++)
        if (given[o - cmd->options] && o->offset == offsetof(cli_args, context.device))
            a->device_given = 1;
    /* --cache-dir off, as IRV2_CACHE_DIR=off: no cache folder */
    if (a->context.cache_dir && strcmp(a->context.cache_dir, "off") == 0) a->context.cache_dir = "";
    return 0;
}

/* ---- help ----------------------------------------------------------------------------- */

/* Writes text (words separated by spaces; "\n" forces a break) from column col, wrapping at
 * HELP_WIDTH to column indent. */
static void wrap(FILE *f, const char *text, int col, int indent)
{
    const char *p = text;
    while (*p) {
        if (*p == '\n') {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
            p++;
            continue;
        }
        if (*p == ' ') {
            p++;
            continue;
        }
        size_t w = strcspn(p, " \n");
        if (col > indent && col + 1 + (int)w > HELP_WIDTH) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', f);
            col++;
        }
        fwrite(p, 1, w, f);
        col += (int)w;
        p += w;
    }
    fputc('\n', f);
}

/* "  LEFT      text", the text wrapped in its column (on the next line when LEFT is long). */
static void item(FILE *f, const char *left, const char *text)
{
    int n = (int)strlen(left);
    fprintf(f, "  %s", left);
    if (n + 2 >= HELP_COLUMN - 1) fprintf(f, "\n%*s", HELP_COLUMN, "");
    else fprintf(f, "%*s", HELP_COLUMN - n - 2, "");
    wrap(f, text, HELP_COLUMN, HELP_COLUMN);
}

static void environment_and_exit(FILE *f, int with_environment)
{
    if (with_environment) {
        fprintf(f, "\nenvironment:\n");
        for (size_t i = 0; i < sizeof environment / sizeof environment[0]; i++)
            item(f, environment[i].name, environment[i].help);
    }
    fprintf(f, "\nexit status:\n");
    for (size_t i = 0; i < sizeof exit_statuses / sizeof exit_statuses[0]; i++)
        item(f, exit_statuses[i].name, exit_statuses[i].help);
}

/* "  -d, --device SPEC" */
static int option_spec(const cli_option *o, char *buf, size_t cap)
{
    char v[128] = "";
    if (o->kind != OPT_FLAG && o->kind != OPT_HELP) value_name(o, v, sizeof v);
    int n;
    if (o->letter)
        n = snprintf(buf, cap, "-%c, --%s%s%s", o->letter, o->name, *v ? " " : "", v);
    else
        n = snprintf(buf, cap, "    --%s%s%s", o->name, *v ? " " : "", v);
    return n;
}

/* The option's help with its default (and "required") appended. */
static void option_text(const cli_option *o, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s", o->help);
    if (n < 0 || (size_t)n >= cap) return;
    if (o->required) n += snprintf(buf + n, cap - (size_t)n, " Required.");
    else if (o->def_doc) n += snprintf(buf + n, cap - (size_t)n, " Default: %s.", o->def_doc);
    else if (o->def) n += snprintf(buf + n, cap - (size_t)n, " Default: %s.", o->def);
    (void)n;
}

static void paragraphs(FILE *f, const char *text, int indent)
{
    char *copy = strdup(text);
    if (!copy) return;
    for (char *p = copy; p && *p;) {
        char *end = strstr(p, "\n\n");
        if (end) *end = '\0';
        fprintf(f, "%*s", indent, "");
        wrap(f, p, indent, indent);
        p = end ? end + 2 : NULL;
        if (p) fputc('\n', f);
    }
    free(copy);
}

void cli_help_command(const cli_command *cmd, FILE *f)
{
    fprintf(f, "usage: irv2 %s %s\n\n", cmd->name, cmd->synopsis);
    paragraphs(f, cmd->description, 0);
    fprintf(f, "\noptions:\n");
    for (const cli_option *o = cmd->options; o->name; o++) {
        char spec[192], text[1024];
        option_spec(o, spec, sizeof spec);
        option_text(o, text, sizeof text);
        item(f, spec, text);
    }
    environment_and_exit(f, cmd->environment);
    if (cmd->examples) {
        fprintf(f, "\nexamples:\n");
        for (const char *p = cmd->examples; *p;) {
            size_t w = strcspn(p, "\n");
            fprintf(f, "  %.*s\n", (int)w, p);
            p += w + (p[w] == '\n');
        }
    }
}

void cli_help_main(FILE *f)
{
    fprintf(f, "usage: irv2 COMMAND [options]\n"
               "       irv2 help COMMAND | irv2 COMMAND --help\n"
               "       irv2 --version\n\n");
    paragraphs(f, "irv2 runs the Inception-ResNet-v2 image classifier on any OpenCL 1.2 device "
                  "and reads safetensors checkpoints (W below is such a file, or synthetic[:SEED] "
                  "for deterministic weights built in memory).", 0);
    fprintf(f, "\ncommands:\n");
    for (const cli_command *c = cli_commands; c->name; c++) item(f, c->name, c->summary);
    fprintf(f, "\noptions:\n");
    item(f, "-h, --help", "Show this help (a command's: 'irv2 COMMAND --help').");
    item(f, "-V, --version", "Print irv2's version.");
    environment_and_exit(f, 1);
}

/* ---- the man page --------------------------------------------------------------------- */

/* text for roff: backslashes escaped, '-' as \-, a line never starting with '.' or '\''. */
static void roff(FILE *f, const char *text)
{
    int bol = 1;
    for (const char *p = text; *p; p++) {
        if (bol && (*p == '.' || *p == '\'')) fputs("\\&", f);
        bol = 0;
        if (*p == '\\') fputs("\\e", f);
        else if (*p == '-') fputs("\\-", f);
        else if (*p == '\n') fputc('\n', f), bol = 1;
        else fputc(*p, f);
    }
}

static void roff_paragraphs(FILE *f, const char *text)
{
    char *copy = strdup(text);
    if (!copy) return;
    for (char *p = copy; p && *p;) {
        char *end = strstr(p, "\n\n");
        if (end) *end = '\0';
        fputs(".PP\n", f);
        for (char *q = p; *q; q++)
            if (*q == '\n') *q = ' ';
        roff(f, p);
        fputc('\n', f);
        p = end ? end + 2 : NULL;
    }
    free(copy);
}

void cli_man_page(FILE *f)
{
    fprintf(f, ".\\\" irv2.1: generated by `irv2 help --man` from the CLI's option tables.\n");
    fprintf(f, ".TH IRV2 \"1\" \"\" \"irv2 %s\" \"User Commands\"\n", irv2_version());
    fputs(".SH NAME\nirv2 \\- OpenCL inference engine for the Inception\\-ResNet\\-v2 image "
          "classifier\n.SH SYNOPSIS\n", f);
    for (const cli_command *c = cli_commands; c->name; c++) {
        fprintf(f, ".B irv2 %s\n", c->name);
        if (*c->synopsis) {
            roff(f, c->synopsis);
            fputc('\n', f);
        }
        fputs(".br\n", f);
    }
    fputs(".B irv2 help\n[\\fICOMMAND\\fR]\n.br\n.B irv2 \\-\\-version\n", f);
    fputs(".SH DESCRIPTION\n", f);
    roff_paragraphs(f, "irv2 runs the Inception-ResNet-v2 image classifier on any OpenCL 1.2 "
                       "device (CPUs through PoCL, GPUs, accelerators from cached program "
                       "binaries) and reads safetensors checkpoints directly. W below is such a "
                       "file, or synthetic[:SEED] for deterministic weights built in memory.\n\n"
                       "Every command takes --help. Errors are one line on standard error, "
                       "starting with 'irv2:' and naming the file, option or device at fault.");
    fputs(".SH COMMANDS\n", f);
    for (const cli_command *c = cli_commands; c->name; c++) {
        fprintf(f, ".SS \"irv2 %s\"\n", c->name);
        roff_paragraphs(f, c->description);
        for (const cli_option *o = c->options; o->name; o++) {
            char v[128] = "", text[1024];
            if (o->kind != OPT_FLAG && o->kind != OPT_HELP) value_name(o, v, sizeof v);
            option_text(o, text, sizeof text);
            fputs(".TP\n", f);
            if (o->letter) fprintf(f, "\\fB\\-%c\\fR, ", o->letter);
            fputs("\\fB\\-\\-", f);
            roff(f, o->name);
            fputs("\\fR", f);
            if (*v) {
                fputs(" \\fI", f);
                roff(f, v);
                fputs("\\fR", f);
            }
            fputc('\n', f);
            roff(f, text);
            fputc('\n', f);
        }
        if (c->examples) {
            fputs(".PP\nExamples:\n.PP\n.nf\n.RS\n", f);
            roff(f, c->examples);
            fputs("\n.RE\n.fi\n", f);
        }
    }
    fputs(".SH ENVIRONMENT\n", f);
    for (size_t i = 0; i < sizeof environment / sizeof environment[0]; i++) {
        fprintf(f, ".TP\n.B %s\n", environment[i].name);
        roff(f, environment[i].help);
        fputc('\n', f);
    }
    fputs(".SH EXIT STATUS\n", f);
    for (size_t i = 0; i < sizeof exit_statuses / sizeof exit_statuses[0]; i++) {
        fprintf(f, ".TP\n.B %s\n", exit_statuses[i].name);
        roff(f, exit_statuses[i].help);
        fputc('\n', f);
    }
    fputs(".SH FILES\n.TP\n.I ~/.cache/irv2\n", f);
    roff(f, "the tuning choices and compiled programs of each device (IRV2_CACHE_DIR moves it).");
    fputs("\n.SH SEE ALSO\n", f);
    roff(f, "The README (/usr/share/doc/irv2/README.md) for the published weights and the C "
            "API (irv2.h); docs/usage.md beside it for the evaluation protocols, "
            "docs/settings.md for every setting.");
    fputc('\n', f);
}
