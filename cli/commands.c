/* commands.c: every subcommand's options, defaults and description: the one table the parser,
 * each --help, `irv2 --help` and the irv2(1) man page are made from (opt.h). */
#include "opt.h"

#include <stddef.h>

#define FIELD(f) offsetof(cli_args, f)

/* The library's settings, parsed and named by the library (irv2.h "Settings"). */
#define SETTING(var, type, fn, count)                                                         \
    static irv2_status parse_##fn(const char *text, int *out)                                 \
    {                                                                                         \
        type v;                                                                               \
        irv2_status st = irv2_##fn##_parse(text, &v);                                         \
        if (st == IRV2_OK) *out = (int)v;                                                     \
        return st;                                                                            \
    }                                                                                         \
    static const char *name_##fn(int v) { return irv2_##fn##_name((type)v); }                 \
    static const cli_setting var = {parse_##fn, name_##fn, count};
SETTING(gemm_setting, irv2_gemm_backend, gemm, IRV2_GEMM_NATIVE + 1)
SETTING(variant_setting, irv2_variant, variant, IRV2_VARIANT_TF + 1)
SETTING(tune_setting, irv2_tune_mode, tune_mode, IRV2_TUNE_FULL + 1)
SETTING(kernels_setting, irv2_kernels, kernels, IRV2_KERNELS_COMPACT + 1)
static const cli_choice crop_choices[] = {{"1", 1, 0}, {"10", 10, 0}, {"144", 144, 0}, {NULL, 0, 0}};
static const cli_choice layout_choices[] = {{"seed", IRV2_VARIANT_SEED, 0},
                                            {"tf", IRV2_VARIANT_TF, 0}, {NULL, 0, 0}};
static const cli_choice dtype_choices[] = {{"F32", 0, 0}, {"F16", 1, 0}, {"BF16", 2, 0},
                                           {NULL, 0, 0}};
static const cli_choice class_choices[] = {{"1000", 1000, 0}, {"1001", 1001, 0}, {NULL, 0, 0}};
static const cli_choice format_choices[] = {
    {"table", CLI_FORMAT_TABLE, 0}, {"md", CLI_FORMAT_MD, 0}, {"csv", CLI_FORMAT_CSV, 0},
    {"json", CLI_FORMAT_JSON, 0}, {"jsonl", CLI_FORMAT_JSONL, 0}, {NULL, 0, 0}};

/* The options shared by the commands that load a model. */
#define OPT_WEIGHTS_REQUIRED                                                                   \
    {.name = "weights", .letter = 'w', .kind = OPT_STRING, .offset = FIELD(weights),          \
     .metavar = "W", .required = 1,                                                            \
     .help = "The checkpoint: a .safetensors file (seed or tf layout; F32, F16 or BF16), or "  \
             "synthetic[:SEED] for deterministic weights built in memory."}
#define OPT_WEIGHTS_SYNTHETIC                                                                  \
    {.name = "weights", .letter = 'w', .kind = OPT_STRING, .offset = FIELD(weights),          \
     .metavar = "W", .def = "synthetic",                                                       \
     .help = "The checkpoint: a .safetensors file, or synthetic[:SEED]."}
/* What run, classify and eval do with several devices (--device). */
#define SEVERAL_DEVICES                                                                        \
    "\n\nWith several devices (--device 0,2, gpu, all) each runs a model and takes the next "   \
    "images from one queue; results keep the input order, and the images of a device that "    \
    "fails go to the others (exit status 3)."

/* Every command that opens a device reads one device list, the library's (irv2_device_list),
 * into the context's settings; what several devices do is each command's (its description). */
#define OPT_DEVICES                                                                            \
    {.name = "device", .letter = 'd', .kind = OPT_STRING, .offset = FIELD(context.device),    \
     .metavar = "LIST",                                                                        \
     .def_doc = "$IRV2_DEVICE, else the first GPU, else the first device",                     \
     .help = "The OpenCL devices, as a comma-separated list of: an index from 'irv2 devices', " \
             "P:D (platform:device), cpu, gpu or accelerator (every device of that type), or "  \
             "all (every device). A device named twice is used twice. run, classify and eval "  \
             "share the images among several devices, bench measures each in turn, compile "   \
             "takes one."}
#define OPT_GEMM                                                                               \
    {.name = "gemm", .kind = OPT_SETTING, .offset = FIELD(model.gemm),                        \
     .setting = &gemm_setting, .def = "auto",                                                  \
     .help = "How 1x1 convolutions and the classifier run: auto times CLBlast and irv2's own "  \
             "kernels per layer shape at first use and keeps the faster; clblast and native "   \
             "force one side."}
#define OPT_VARIANT                                                                            \
    {.name = "variant", .kind = OPT_SETTING, .offset = FIELD(model.variant),                  \
     .setting = &variant_setting, .def = "auto",                                               \
     .help = "The checkpoint's layout: auto detects it from the keys (synthetic weights are "  \
             "seed)."}
#define OPT_TUNE                                                                               \
    {.name = "tune", .kind = OPT_SETTING, .offset = FIELD(model.tune), .setting = &tune_setting, \
     .def_doc = "$IRV2_TUNE, else fast",                                                       \
     .help = "How much to measure on the device before choosing each convolution's kernels, "  \
             "the first time a batch size is planned (the choices are cached): off uses each "  \
             "device's default kernels, fast a short list of candidates, full every "          \
             "candidate."}
#define OPT_BINARIES                                                                           \
    {.name = "binaries", .kind = OPT_STRING, .offset = FIELD(context.binaries),               \
     .metavar = "DIR", .def_doc = "$IRV2_BINARIES, else none",                                 \
     .help = "Take every program from DIR, written by 'irv2 compile', and compile none."}
/* The rest of the settings of a context and a model (irv2.h, docs/settings.md). */
#define OPT_SETTINGS                                                                           \
    {.name = "kernels", .kind = OPT_SETTING, .offset = FIELD(context.kernels),                \
     .setting = &kernels_setting, .def_doc = "$IRV2_KERNELS, else auto",                       \
     .help = "The convolution kernel families offered: auto (on a GPU both the vector and "    \
             "the work-group families, elsewhere vec), vec, wg, or compact (wg as one program " \
             "per kernel file, for devices without a compiler)."},                             \
    {.name = "exact", .kind = OPT_FLAG, .offset = FIELD(exact),                               \
     .def_doc = "$IRV2_EXACT=1, else off",                                                     \
     .help = "Direct convolutions only: no Winograd forms, whose rounding differs."},          \
    {.name = "cache-dir", .kind = OPT_STRING, .offset = FIELD(context.cache_dir),             \
     .metavar = "DIR|off",                                                                     \
     .def_doc = "$IRV2_CACHE_DIR, else $XDG_CACHE_HOME/irv2, else ~/.cache/irv2",              \
     .help = "Where tuning choices and compiled programs are kept; off keeps none."},          \
    {.name = "clblast-tuning", .kind = OPT_STRING, .offset = FIELD(context.clblast_tuning),   \
     .metavar = "DIR", .def_doc = "$IRV2_CLBLAST_TUNING, else CLBlast's defaults",             \
     .help = "A folder of CLBlast tuner results (JSON) to apply to the device's CLBlast "      \
             "kernels."}
#define OPT_QUIET                                                                              \
    {.name = "quiet", .letter = 'q', .kind = OPT_FLAG, .offset = FIELD(quiet),                \
     .help = "No progress lines on stderr (tuning, compiling, images done)."}
#define OPT_HELP_ENTRY                                                                         \
    {.name = "help", .letter = 'h', .kind = OPT_HELP, .offset = FIELD(quiet),                 \
     .help = "Show this help and exit."}
#define OPT_END {.name = NULL}

static const cli_option devices_options[] = {OPT_HELP_ENTRY, OPT_END};

static const cli_option run_options[] = {
    OPT_WEIGHTS_REQUIRED,
    {.name = "input", .letter = 'i', .kind = OPT_STRING, .offset = FIELD(input),
     .metavar = "X.npy", .required = 1,
     .help = "A float32 NumPy array N x 3 x 299 x 299 (NCHW, already normalised; 'irv2 "
             "preprocess' makes one from images)."},
    {.name = "output", .letter = 'o', .kind = OPT_STRING, .offset = FIELD(output),
     .metavar = "Y.npy", .required = 1,
     .help = "Where the N x classes float32 logits go (written atomically; its folder is "
             "checked before any device work)."},
    {.name = "softmax", .kind = OPT_FLAG, .offset = FIELD(softmax),
     .help = "Write probabilities instead of logits."},
    OPT_DEVICES, OPT_GEMM, OPT_VARIANT, OPT_TUNE, OPT_BINARIES, OPT_SETTINGS, OPT_QUIET,
    OPT_HELP_ENTRY, OPT_END};

static const cli_option bench_options[] = {
    OPT_DEVICES, OPT_WEIGHTS_SYNTHETIC,
    {.name = "batch", .letter = 'b', .kind = OPT_BATCHES, .metavar = "LIST", .def = "1",
     .help = "The batch sizes to measure, like 1,8."},
    {.name = "iters", .letter = 'n', .kind = OPT_COUNT, .offset = FIELD(iters), .metavar = "N",
     .def = "5", .min = 1, .max = 1000000,
     .help = "The fewest timed runs per batch size."},
    {.name = "time", .kind = OPT_SECONDS, .offset = FIELD(min_time), .metavar = "S",
     .def = "0", .max = 86400,
     .help = "Keep timing runs until S seconds have passed (and at least --iters runs)."},
    {.name = "warmup", .kind = OPT_COUNT, .offset = FIELD(warmup), .metavar = "N", .def = "1",
     .min = 0, .max = 10000, .help = "Untimed runs before the timed ones, per batch size."},
    {.name = "peak", .kind = OPT_FLAG, .offset = FIELD(peak),
     .help = "Also measure the device's SGEMM peak (the median of 5 measurements), and each "
             "layer kind's share of it."},
    {.name = "cold", .kind = OPT_FLAG, .offset = FIELD(cold),
     .help = "Also measure a start-up with empty irv2 and PoCL caches (tuning and compiling "
             "included)."},
    {.name = "layers", .kind = OPT_FLAG, .offset = FIELD(layers),
     .help = "Also report every layer's device time (JSON: the \"layers\" rows)."},
    {.name = "json", .kind = OPT_STRING, .offset = FIELD(json_path), .metavar = "FILE",
     .help = "Write everything measured to FILE as JSON (also when an entry fails)."},
    {.name = "format", .kind = OPT_CHOICE, .offset = FIELD(format), .choices = format_choices,
     .def = "table",
     .help = "What goes to stdout: a table, a markdown table, CSV, the JSON document, or one "
             "JSON object per result (jsonl). With md, csv, json and jsonl the other lines go "
             "to stderr."},
    OPT_GEMM, OPT_VARIANT, OPT_TUNE, OPT_BINARIES, OPT_SETTINGS, OPT_QUIET, OPT_HELP_ENTRY,
    OPT_END};

static const cli_option classify_options[] = {
    OPT_WEIGHTS_REQUIRED,
    {.name = "labels", .kind = OPT_STRING, .offset = FIELD(labels), .metavar = "FILE",
     .help = "Class names, one per line in the model's order (ImageNet's for 1000 classes)."},
    {.name = "top", .letter = 'k', .kind = OPT_COUNT, .offset = FIELD(top), .metavar = "K",
     .def = "5", .min = 1, .max = 100000, .help = "How many classes to report per image."},
    {.name = "batch", .letter = 'b', .kind = OPT_COUNT, .offset = FIELD(batch), .metavar = "B",
     .def = "8", .min = 1, .max = 256, .help = "Images per device run."},
    {.name = "json", .kind = OPT_FLAG, .offset = FIELD(json),
     .help = "One JSON object per image per line, in the order given: {\"image\", \"top\": "
             "[{\"class\", \"label\", \"prob\"}]}, or {\"image\", \"error\"} for an image that "
             "could not be read. A file name that is not UTF-8 is also given as "
             "\"image_bytes\" (base64)."},
    OPT_DEVICES, OPT_GEMM, OPT_VARIANT, OPT_TUNE, OPT_BINARIES, OPT_SETTINGS, OPT_QUIET,
    OPT_HELP_ENTRY, OPT_END};

static const cli_option eval_options[] = {
    OPT_WEIGHTS_REQUIRED,
    {.name = "data", .kind = OPT_STRING, .offset = FIELD(data), .metavar = "DIR|LIST",
     .required = 1,
     .help = "A folder with one subfolder of images per class (sorted names are the class "
             "indices), or a list file of 'path label' lines (paths relative to it)."},
    {.name = "crops", .kind = OPT_CHOICE, .offset = FIELD(crops), .metavar = "1|10|144",
     .choices = crop_choices, .def = "1",
     .help = "1: the centre crop; 10: the corners, the centre and their mirrors; 144: the seed's "
             "multi-scale protocol. The softmax is averaged over the crops."},
    {.name = "limit", .kind = OPT_COUNT, .offset = FIELD(limit), .metavar = "N", .min = 1,
     .max = 0xFFFFFFFFu, .def_doc = "every image", .help = "Evaluate the first N images only."},
    {.name = "batch", .letter = 'b', .kind = OPT_COUNT, .offset = FIELD(batch), .metavar = "B",
     .def = "8", .min = 1, .max = 256, .help = "Crops per device run."},
    {.name = "results-file", .kind = OPT_STRING, .offset = FIELD(results_file),
     .metavar = "FILE",
     .help = "Write each image's top 5 classes and probabilities, its label and whether it was "
             "right as CSV (as timm's validate.py and inference.py do), in the data set's "
             "order; an image that could not be read gets its error."},
    OPT_DEVICES, OPT_GEMM, OPT_VARIANT, OPT_TUNE, OPT_BINARIES, OPT_SETTINGS, OPT_QUIET,
    OPT_HELP_ENTRY, OPT_END};

static const cli_option compile_options[] = {
    {.name = "out", .letter = 'o', .kind = OPT_STRING, .offset = FIELD(out), .metavar = "DIR",
     .required = 1,
     .help = "The folder to write the binaries and manifest.json into (created if missing)."},
    OPT_DEVICES,
    {.name = "batch", .letter = 'b', .kind = OPT_BATCHES, .metavar = "LIST", .def = "1",
     .help = "The batch sizes whose plans' programs are compiled, like 1,8."},
    OPT_WEIGHTS_SYNTHETIC, OPT_VARIANT, OPT_TUNE, OPT_SETTINGS, OPT_QUIET, OPT_HELP_ENTRY,
    OPT_END};

static const cli_option preprocess_options[] = {
    {.name = "output", .letter = 'o', .kind = OPT_STRING, .offset = FIELD(output),
     .metavar = "X.npy", .required = 1,
     .help = "The N x 3 x 299 x 299 float32 array to write (one image per row, in the order "
             "given)."},
    OPT_QUIET, OPT_HELP_ENTRY, OPT_END};

static const cli_option export_options[] = {
    {.name = "output", .letter = 'o', .kind = OPT_STRING, .offset = FIELD(output),
     .metavar = "F.safetensors", .required = 1, .help = "The checkpoint to write."},
    {.name = "seed", .kind = OPT_COUNT, .offset = FIELD(seed), .metavar = "N", .def = "1",
     .min = 0, .max = 4294967295u, .help = "The seed: the weights of synthetic:N."},
    {.name = "variant", .kind = OPT_CHOICE, .offset = FIELD(model.variant),
     .choices = layout_choices, .def = "seed",
     .help = "The layout: seed (the design document's names) or tf (timm's names)."},
    {.name = "classes", .kind = OPT_CHOICE, .offset = FIELD(classes), .choices = class_choices,
     .def = "1000", .help = "The classifier's outputs: 1000, or 1001 (tf only: a TF-slim "
                            "head with the background class)."},
    {.name = "dtype", .kind = OPT_CHOICE, .offset = FIELD(dtype), .choices = dtype_choices,
     .def = "F32", .help = "The tensors' type; F16 and BF16 are rounded to nearest even."},
    OPT_HELP_ENTRY, OPT_END};

const cli_command cli_commands[] = {
    {.name = "devices", .summary = "list OpenCL platforms and devices", .synopsis = "",
     .description = "Lists every OpenCL device over all platforms: its name, type, vendor, "
                    "driver, memory and whether it has a compiler, with the spec that selects "
                    "it (for --device and IRV2_DEVICE).",
     .options = devices_options, .run = cmd_devices},
    {.name = "run", .summary = "logits of a float32 N x 3 x 299 x 299 .npy array",
     .synopsis = "--weights W --input X.npy --output Y.npy [options]",
     .description = "Runs the network on every image of a NumPy array and writes the logits "
                    "(or, with --softmax, the probabilities) as an N x classes float32 array. "
                    "The output's folder is checked before any device work; on failure no "
                    "output file is left, and an existing one is untouched." SEVERAL_DEVICES,
     .options = run_options, .environment = 1,
     .examples = "irv2 run --weights model.safetensors --input x.npy --output logits.npy\n"
                 "irv2 preprocess --output x.npy cat.jpg && irv2 run -w synthetic -i x.npy -o "
                 "y.npy --softmax",
     .run = cmd_run},
    {.name = "bench", .summary = "measure start-up, throughput, latency and each layer kind",
     .synopsis = "[--device LIST] [--batch LIST] [--iters N] [--json FILE] [options]",
     .description = "Loads the network (synthetic weights unless --weights says otherwise) on "
                    "each device and measures, per batch size: --warmup untimed runs, then at "
                    "least --iters timed runs (and --time seconds): images/s, the latency's "
                    "median, p90, p99, standard deviation, min and max, GFLOP/s, device "
                    "memory, and the device time of each layer kind from one profiled run. "
                    "The start-up (context, weights, first run) is measured too.\n\n"
                    "A device or batch size that fails is recorded with its error and the "
                    "others still run; the JSON file is written in every case and the exit "
                    "status is then 1. A warning says when the latencies spread so much that "
                    "the machine was probably busy.\n\n"
                    "The JSON document holds irv2's version and commit, the time, the host, "
                    "each device's name, vendor, driver, type and index, the settings (gemm, "
                    "variant, tune, kernels), the run counts, every timed run, the statistics "
                    "and the layer rows; what was not measured is null. bench/plot draws it.",
     .options = bench_options, .shares_ranks = 1, .environment = 1,
     .examples = "irv2 bench --batch 1,8 --iters 10 --json bench.json\n"
                 "irv2 bench --device all --batch 1,8,32 --time 10 --peak --layers --json "
                 "sweep.json\n"
                 "irv2 bench --format md --batch 1,8",
     .run = cmd_bench},
    {.name = "classify", .summary = "top K classes of JPEG and PNG images",
     .synopsis = "--weights W [options] IMAGE...",
     .description = "Decodes each image, applies timm's preprocessing (bicubic resize of the "
                    "shorter side to 333, centre crop 299, (x/255 - 0.5)/0.5), runs the images "
                    "in batches and prints the K most probable classes of each. An image that "
                    "cannot be read gets one line on stderr (and an error record with --json); "
                    "the others still get their results, and the exit status is 1."
                    SEVERAL_DEVICES,
     .options = classify_options, .shares_ranks = 1, .operands = "IMAGE...",
     .operands_noun = "images", .min_operands = 1, .environment = 1,
     .examples = "irv2 classify --weights irv2.safetensors --labels imagenet_classes.txt cat.jpg\n"
                 "irv2 classify --weights irv2.safetensors --json photos/*.jpg > top5.jsonl",
     .run = cmd_classify},
    {.name = "eval", .summary = "top-1 and top-5 error on a labelled image set",
     .synopsis = "--weights W --data DIR|LIST [options]",
     .description = "Classifies every image of a labelled set (with 1, 10 or 144 crops each) "
                    "and prints the top-1 and top-5 error and images/s, with a progress line "
                    "while it runs. The data set is read, and --results-file checked, before "
                    "the model is loaded." SEVERAL_DEVICES,
     .options = eval_options, .shares_ranks = 1, .environment = 1,
     .examples = "irv2 eval --weights irv2.safetensors --data ILSVRC2012/val --batch 16\n"
                 "irv2 eval --weights irv2.safetensors --data val.txt --crops 10 --limit 1000 "
                 "--results-file top5.csv",
     .run = cmd_eval},
    {.name = "compile", .summary = "compile the programs of some batch sizes into a folder",
     .synopsis = "--out DIR [--device LIST] [--batch LIST] [options]",
     .description = "Builds the plans for the batch sizes given on a device that can compile, "
                    "runs each once, and writes every program they launch as device binaries "
                    "with a manifest into DIR, for devices without an OpenCL compiler (FPGA "
                    "boards): run, bench, classify and eval then take --binaries DIR. irv2's "
                    "own GEMMs are used (CLBlast compiles its kernels itself). --device names one "
                    "device.",
     .options = compile_options, .environment = 1,
     .examples = "IRV2_KERNELS=compact irv2 compile --device accelerator --batch 1,8 --out "
                 "irv2-fpga",
     .run = cmd_compile},
    {.name = "preprocess", .summary = "JPEG and PNG images into the .npy array run reads",
     .synopsis = "--output X.npy [options] IMAGE...",
     .description = "Decodes each image and applies the single-crop preprocessing of classify "
                    "and eval (shorter side 333, centre 299, (x/255 - 0.5)/0.5), writing the "
                    "N x 3 x 299 x 299 float32 array that 'irv2 run --input' takes. No device "
                    "is used.",
     .options = preprocess_options, .operands = "IMAGE...", .operands_noun = "images", .min_operands = 1,
     .examples = "irv2 preprocess --output x.npy cat.jpg dog.png",
     .run = cmd_preprocess},
    {.name = "export-synthetic", .summary = "the synthetic weights as a safetensors checkpoint",
     .synopsis = "--output F.safetensors [options]",
     .description = "Writes the deterministic weights that --weights synthetic:N builds in "
                    "memory as a safetensors checkpoint in either layout, so that the "
                    "checkpoint path can be tried with no download and no PyTorch. Loading "
                    "the F32 file gives the same weights, bit for bit. No device is used.",
     .options = export_options,
     .examples = "irv2 export-synthetic --output synthetic.safetensors\n"
                 "irv2 export-synthetic --variant tf --dtype F16 --output tf16.safetensors",
     .run = cmd_export_synthetic},
    {.name = NULL}};
