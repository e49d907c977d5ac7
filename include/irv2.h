/* irv2.h: the public C API of irv2, an OpenCL inference engine for Inception-ResNet-v2.
 *
 * Data flows one way: a checkpoint (safetensors file or synthetic weights) is loaded into a
 * model bound to a context (one OpenCL device and queue); running the model plans buffers and
 * kernels for the batch size on first use and enqueues the whole network with one wait.
 *
 * Every function that can fail returns an irv2_status. On failure, irv2_last_error() gives a
 * one-line message naming the file, tensor or device involved (thread-local, valid until the
 * next failing call on the same thread). The library never prints, exits or aborts.
 *
 * Thread-safety: distinct contexts may be used from distinct threads at once. A context and the
 * models bound to it must be used by one thread at a time.
 */
#ifndef IRV2_H
#define IRV2_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the functions the shared library exports; everything else in it is hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define IRV2_API __attribute__((visibility("default")))
#else
#define IRV2_API
#endif

typedef enum irv2_status {
    IRV2_OK = 0,
    IRV2_ERR_INVALID_ARGUMENT,   /* a NULL pointer, a zero batch, an unknown option value */
    IRV2_ERR_IO,                 /* a file could not be opened, read or written */
    IRV2_ERR_FORMAT,             /* a checkpoint, .npy or image file is malformed */
    IRV2_ERR_MISSING_TENSOR,     /* the checkpoint lacks a tensor the network needs */
    IRV2_ERR_SHAPE,              /* a tensor or input has the wrong shape */
    IRV2_ERR_DTYPE,              /* a tensor or input has an unsupported element type */
    IRV2_ERR_NO_PLATFORM,        /* no OpenCL platform or device is installed */
    IRV2_ERR_DEVICE_SPEC,        /* the device spec names no device */
    IRV2_ERR_BUILD,              /* an OpenCL program failed to build: see the build log */
    IRV2_ERR_OPENCL,             /* an OpenCL call failed: see irv2_context_cl_error() */
    IRV2_ERR_CLBLAST,            /* a CLBlast call failed */
    IRV2_ERR_HOST_MEMORY,        /* a host allocation failed */
    IRV2_ERR_DEVICE_MEMORY,      /* a device allocation failed or exceeds the device's limits */
    IRV2_ERR_UNSUPPORTED,        /* the device lacks something the engine needs */
    IRV2_STATUS_COUNT
} irv2_status;

/* The library's version, "MAJOR.MINOR.PATCH" (the project's version in CMakeLists.txt). */
IRV2_API const char *irv2_version(void);

/* A short fixed name for a status ("ok", "file format error", ...). */
IRV2_API const char *irv2_status_string(irv2_status status);

/* The message of the last failure on this thread ("" if none). */
IRV2_API const char *irv2_last_error(void);

/* sizeof the struct of this header named name ("irv2_device_info", "irv2_model_options", ...)
 * as the library was compiled; 0 for a name it does not know. For bindings that copy the
 * structs: python/irv2/_lib.py checks its copies against it. */
IRV2_API size_t irv2_struct_size(const char *name);

/* ---- Devices ---------------------------------------------------------------------------- */

typedef struct irv2_device_info {
    unsigned index;          /* position in the flat list over all platforms */
    unsigned platform;       /* platform index */
    unsigned device;         /* device index within the platform */
    const char *type;        /* "CPU", "GPU", "ACCELERATOR" or "OTHER" */
    char name[256];
    char vendor[256];
    char version[128];       /* CL_DEVICE_VERSION */
    char driver[128];        /* CL_DRIVER_VERSION */
    char platform_name[256];
    unsigned compute_units;
    uint64_t global_mem_bytes;
    uint64_t max_alloc_bytes;
    int fp16;                /* cl_khr_fp16 supported */
    int compiler_available;  /* CL_DEVICE_COMPILER_AVAILABLE */
    char spec[32];           /* the "P:D" string that selects this device */
    int clblast_tuned;       /* CLBlast tuner results were applied (IRV2_CLBLAST_TUNING) */
} irv2_device_info;

/* Number of OpenCL devices over all platforms; IRV2_ERR_NO_PLATFORM when there are none. */
IRV2_API irv2_status irv2_device_count(unsigned *count);
IRV2_API irv2_status irv2_device_info_get(unsigned index, irv2_device_info *info);

/* The size of a device spec as irv2_device_list writes it (and as irv2_device_info.spec). */
#define IRV2_DEVICE_SPEC_SIZE 32

/* The devices a device list names, each as a spec that irv2_context_open opens: the grammar
 * the CLI's --device and IRV2_DEVICE, and the Python module, read. A list is one item or
 * several separated by commas, each item one of:
 *   N            the device of flat index N ('irv2 devices' order)   returned as written
 *   P:D          device D of platform P                              returned as written
 *   cpu, gpu, accelerator   every device of that CL_DEVICE_TYPE, in index order, as indices
 *   all          every device, as indices
 * NULL or "" names one device, the default: specs[0] is "" (the first GPU, else the first
 * device, when opened). An index or P:D is not looked up here: one that names no device fails
 * when it is opened; only a type or all lists the devices (IRV2_ERR_NO_PLATFORM with none,
 * IRV2_ERR_DEVICE_SPEC when none is of the type). Items are kept in order and duplicates kept:
 * a device named twice is listed twice (the CLI runs two models on it). An empty item, a
 * trailing comma or an unknown word fails with IRV2_ERR_INVALID_ARGUMENT, as does a list of
 * more than capacity devices (*count is then the number named; after other failures 0). With
 * specs NULL only *count is set. Every message begins "device list '<list>': ". */
IRV2_API irv2_status irv2_device_list(const char *list, char (*specs)[IRV2_DEVICE_SPEC_SIZE],
                                      size_t capacity, size_t *count);

/* ---- Settings ---------------------------------------------------------------------------
 * Every setting of a context and of a model is a field of an options struct: initialise one
 * with its _init function (the documented defaults below; the environment is not read), set
 * the fields wanted, and pass it. irv2_context_options_from_env and irv2_model_options_from_env
 * lay the IRV2_* environment variables over a struct (docs/settings.md lists them); that is
 * what irv2_context_create and irv2_model_load with NULL options do, and all the library ever
 * reads from the environment. Each struct begins with its size, set by _init, so that fields
 * can be added at the end without breaking programs built against an older irv2.h. */

/* The convolution kernel families a context offers its plans. */
typedef enum irv2_kernels {
    IRV2_KERNELS_AUTO = 0,   /* the vector and the GPU families on GPUs, vector elsewhere */
    IRV2_KERNELS_WG = 1,     /* the work-group tiled families (the GPU shape) */
    IRV2_KERNELS_VEC = 2,    /* the vector kernels (the CPU shape) */
    IRV2_KERNELS_COMPACT = 3 /* the work-group family as one program per cl/ file, for devices
                                whose programs are compiled offline (irv2 compile) */
} irv2_kernels;

/* Where the building of a plan stands (irv2_context_options.progress), reported after each
 * layer of each stage, and while tuning also before a layer's candidates are timed (done and
 * measured unchanged) and after each candidate timed (done unchanged, measured one more), so
 * that a first run reports within about a second. The "caching" stage
 * runs inside a plan's first irv2_model_run, after the run: it writes the programs' binaries
 * to the on-disk cache, one step per program (layer names its .cl file). */
typedef struct irv2_progress {
    const char *stage;       /* "tuning" (choosing kernels), "compiling" (building programs),
                                "caching" (saving program binaries) */
    unsigned batch;          /* the batch size the plan is for */
    unsigned done, total;    /* layers (programs when caching) of this stage done, of total */
    const char *layer;       /* the layer just done (or, after a candidate, being tuned) */
    double elapsed_s;        /* since the plan began */
    double eta_s;            /* estimated seconds left in this stage; < 0 when unknown */
    unsigned measured;       /* candidates timed on the device so far in this plan */
} irv2_progress;
typedef void (*irv2_progress_fn)(void *user, const irv2_progress *progress);

/* A context's settings; in brackets the environment variable irv2_context_options_from_env
 * reads into each. */
typedef struct irv2_context_options {
    size_t size;                 /* sizeof(irv2_context_options), set by _init */
    const char *device;          /* a device spec: "cpu", "gpu", "accelerator" (the first of
                                    that type), a flat index, or "P:D"; NULL or "": the first
                                    GPU, else the first device [IRV2_DEVICE] */
    irv2_kernels kernels;        /* IRV2_KERNELS_AUTO [IRV2_KERNELS] */
    const char *cache_dir;       /* where tuning choices and program binaries are kept; NULL:
                                    the user's cache folder ($XDG_CACHE_HOME/irv2, else
                                    $HOME/.cache/irv2); "": none [IRV2_CACHE_DIR; off: none] */
    const char *binaries;        /* a folder of compiled programs to take every program from
                                    (irv2_context_load_binaries); NULL: compile from source
                                    [IRV2_BINARIES] */
    const char *clblast_tuning;  /* a folder of CLBlast tuner results (.json) to apply; NULL:
                                    CLBlast's own defaults [IRV2_CLBLAST_TUNING] */
    uint64_t max_alloc_bytes;    /* lowers the device's largest allocation (to try the batch
                                    splitting of small devices); 0: the device's own
                                    [IRV2_MAX_ALLOC_BYTES] */
    irv2_progress_fn progress;   /* plan-building reports, on the caller's thread; NULL: none */
    void *progress_user;         /* passed to progress */
    cl_context cl_context;       /* the application's own context and in-order queue, retained */
    cl_command_queue cl_queue;   /* and released by irv2_context_free; NULL: irv2 makes them */
} irv2_context_options;

IRV2_API void irv2_context_options_init(irv2_context_options *options);
/* Sets the fields above from the variables in brackets where they are set and not empty. A
 * value it cannot read fails naming the variable and leaves options as they were. The strings
 * stay the environment's. */
IRV2_API irv2_status irv2_context_options_from_env(irv2_context_options *options);
/* The text forms of the settings, as the environment, the CLI and the Python module spell
 * them, and their names back: kernels "auto", "vec", "wg", "compact". */
IRV2_API irv2_status irv2_kernels_parse(const char *text, irv2_kernels *out);
IRV2_API const char *irv2_kernels_name(irv2_kernels kernels);

/* ---- Context: one device, one in-order queue ------------------------------------------- */

typedef struct irv2_context irv2_context;

/* Opens the device of options (NULL: the defaults, irv2_context_options_init) with every
 * setting of options applied; the strings need not outlive the call. */
IRV2_API irv2_status irv2_context_open(const irv2_context_options *options, irv2_context **out);

/* irv2_context_open with the defaults and the environment (irv2_context_options_from_env);
 * spec, when neither NULL nor "", is the device. */
IRV2_API irv2_status irv2_context_create(const char *spec, irv2_context **out);

/* As irv2_context_create, on an application's own OpenCL context and queue (options.cl_context
 * and options.cl_queue). The queue must be in-order. */
IRV2_API irv2_status irv2_context_create_from_cl(cl_context context, cl_command_queue queue,
                                                 irv2_context **out);
IRV2_API void irv2_context_free(irv2_context *ctx);

IRV2_API const irv2_device_info *irv2_context_device(const irv2_context *ctx);
/* The last OpenCL error code seen by this context (CL_SUCCESS if none). */
IRV2_API cl_int irv2_context_cl_error(const irv2_context *ctx);
/* The build log of the last program build that failed ("" if none). */
IRV2_API const char *irv2_context_build_log(const irv2_context *ctx);

/* ---- Programs compiled ahead of time ----------------------------------------------------
 * For devices without an OpenCL compiler (FPGA boards), or to skip compiling at start-up: a
 * folder of program binaries for one device and driver, with a manifest (manifest.json) that
 * names each program's cl/ file, build options and source hash, the kernel set, the batch
 * sizes and the kernel choices of the plans that used them. `irv2 compile` writes one. */


/* Makes this context take every program from dir (written by irv2_model_save_binaries for
 * the same device, driver and platform) and compile none: its plans use the folder's kernel
 * set and kernel choices, time nothing, and use irv2's own GEMMs. A program the folder lacks
 * or that was compiled from other kernel sources fails with a message naming it. Call it
 * before loading a model. irv2_context_options.binaries does this when the context opens. */
IRV2_API irv2_status irv2_context_load_binaries(irv2_context *ctx, const char *dir);

/* ---- Model ------------------------------------------------------------------------------ */

typedef struct irv2_model irv2_model;

typedef enum irv2_gemm_backend {
    IRV2_GEMM_AUTO = 0,      /* per layer, whichever measured fastest at first use (cached) */
    IRV2_GEMM_CLBLAST = 1,   /* 1x1 convolutions and the classifier through CLBlast SGEMM */
    IRV2_GEMM_NATIVE = 2     /* through irv2's own register-blocked kernels */
} irv2_gemm_backend;

typedef enum irv2_variant {
    IRV2_VARIANT_AUTO = 0,   /* from the checkpoint's keys; synthetic weights default to seed */
    IRV2_VARIANT_SEED = 1,   /* the design document's network (spec section "seed") */
    IRV2_VARIANT_TF = 2      /* the TF-slim layout of the published weights (section "tf") */
} irv2_variant;

/* How much a plan measures on the device before choosing each conv's kernels (the choices
 * are kept on disk, so each shape is measured once per device and driver). */
typedef enum irv2_tune_mode {
    IRV2_TUNE_DEFAULT = 0,   /* fast */
    IRV2_TUNE_OFF = 1,       /* nothing measured: each device's default kernels */
    IRV2_TUNE_FAST = 2,      /* a short list of candidates per conv, chosen by rule */
    IRV2_TUNE_FULL = 3       /* every candidate of every kernel family offered */
} irv2_tune_mode;

/* Forms of convolution a model may not use (irv2_model_options.exclude). */
#define IRV2_EXCLUDE_WINOGRAD 1u /* no Winograd forms: direct convolutions only */

/* A model's settings; in brackets the environment variable irv2_model_options_from_env reads
 * into each. */
typedef struct irv2_model_options {
    size_t size;             /* sizeof(irv2_model_options), set by _init */
    irv2_gemm_backend gemm;  /* IRV2_GEMM_AUTO */
    irv2_variant variant;    /* IRV2_VARIANT_AUTO */
    irv2_tune_mode tune;     /* IRV2_TUNE_DEFAULT [IRV2_TUNE] */
    unsigned exclude;        /* IRV2_EXCLUDE_* bits; 0: every form [IRV2_EXACT=1: Winograd] */
} irv2_model_options;

IRV2_API void irv2_model_options_init(irv2_model_options *options);
/* Sets the fields above from the variables in brackets where they are set and not empty. A
 * value it cannot read fails naming the variable and leaves options as they were. */
IRV2_API irv2_status irv2_model_options_from_env(irv2_model_options *options);
/* The text forms, and their names back: gemm "auto", "clblast", "native"; variant "auto",
 * "seed", "tf"; tune "off" (or "0"), "fast", "full" (or "1"). */
IRV2_API irv2_status irv2_gemm_parse(const char *text, irv2_gemm_backend *out);
IRV2_API irv2_status irv2_variant_parse(const char *text, irv2_variant *out);
IRV2_API irv2_status irv2_tune_mode_parse(const char *text, irv2_tune_mode *out);
IRV2_API const char *irv2_gemm_name(irv2_gemm_backend gemm);
IRV2_API const char *irv2_variant_name(irv2_variant variant);
IRV2_API const char *irv2_tune_mode_name(irv2_tune_mode mode);

/* weights: a safetensors path, or "synthetic" / "synthetic:SEED" for deterministic weights
 * built in memory. options NULL: the defaults and the environment (irv2_model_options_init,
 * then irv2_model_options_from_env). Every tensor is checked against the network before
 * anything is allocated on the device. */
IRV2_API irv2_status irv2_model_load(irv2_context *ctx, const char *weights,
                            const irv2_model_options *options, irv2_model **out);
IRV2_API void irv2_model_free(irv2_model *model);

/* Writes the binaries of every program the model's plans launch (how many into *programs, if
 * not NULL), the batch sizes and the kernel choices they made, into dir (created if needed;
 * its manifest is written last, atomically): a folder for irv2_context_load_binaries.
 * Run the model at each batch size wanted first: that builds the programs and, on PoCL,
 * compiles their kernels for the launches. Load the model with IRV2_GEMM_NATIVE: CLBlast's
 * kernels are compiled by CLBlast and are not in the folder. */
IRV2_API irv2_status irv2_model_save_binaries(irv2_model *model, const char *dir,
                                              unsigned *programs);

/* Writes the deterministic synthetic weights of seed (what "synthetic:SEED" builds in memory)
 * as a safetensors checkpoint at path, in the variant's layout (IRV2_VARIANT_SEED, or
 * IRV2_VARIANT_TF: timm's names) with classes outputs (1000; or 1001 for tf, a TF-slim head),
 * as dtype "F32", "F16" or "BF16" (rounded to nearest even). Loading the F32 file gives the
 * same weights bit for bit. The file appears complete or not at all. */
IRV2_API irv2_status irv2_synthetic_save(const char *path, uint64_t seed, irv2_variant variant,
                                unsigned classes, const char *dtype);

IRV2_API unsigned irv2_model_num_classes(const irv2_model *model);
IRV2_API irv2_variant irv2_model_variant(const irv2_model *model);
/* 1 when output 0 is TF-slim's background class (1001 classes), so that output k is
 * ImageNet class k - 1; else 0. */
IRV2_API unsigned irv2_model_class_offset(const irv2_model *model);
/* Multiply-adds x 2 for one image. */
IRV2_API double irv2_model_flops_per_image(const irv2_model *model);

/* input: batch x 3 x 299 x 299 floats (NCHW); output: batch x classes floats (logits, or
 * probabilities when softmax is non-zero). Blocks until the results are on the host. */
IRV2_API irv2_status irv2_model_run(irv2_model *model, const float *input, unsigned batch, float *output,
                           int softmax);
/* A batch whose buffers would exceed the device's largest allocation
 * (CL_DEVICE_MAX_MEM_ALLOC_SIZE) or 2^32 - 1 floats (the kernels' offsets are 32-bit) is run in
 * chunks transparently; this reports the largest batch (up to `batch`, or 65536 when 0) that
 * runs in one pass. */
IRV2_API irv2_status irv2_model_max_batch(irv2_model *model, unsigned batch, unsigned *fits);

/* ---- Profiling (for benchmarks) --------------------------------------------------------- */

/* Time spent in each kind of layer during the last run, from OpenCL profiling events. */
typedef struct irv2_layer_profile {
    const char *kind;        /* "conv1x1", "conv3x3", "conv1x7", "maxpool", ... */
    double ms;               /* device time in the last run */
    double gflop;            /* work done by these layers in the last run */
    unsigned launches;       /* kernel launches in the last run */
} irv2_layer_profile;

/* Enable or disable event profiling for subsequent runs (off by default). */
IRV2_API irv2_status irv2_model_set_profiling(irv2_model *model, int enable);
/* Fills up to capacity entries; *count receives the number of kinds. */
IRV2_API irv2_status irv2_model_profile(const irv2_model *model, irv2_layer_profile *out, size_t capacity,
                               size_t *count);
/* The same per layer, in execution order; kind is then the layer's name. */
IRV2_API irv2_status irv2_model_profile_layers(const irv2_model *model, irv2_layer_profile *out,
                                      size_t capacity, size_t *count);
/* Bytes of device memory held by the model (weights + activations + scratch) and by its
 * weights alone, for the batch size of the last run (0 before the first run: weights are
 * packed and uploaded when a batch size is first planned). */
IRV2_API uint64_t irv2_model_device_bytes(const irv2_model *model);
IRV2_API uint64_t irv2_model_weight_bytes(const irv2_model *model);

/* The device's SGEMM peak, for judging each layer's GFLOP/s: the best of irv2's GEMM kernel
 * (over its tilings) and of CLBlast on a size x size x size product (size 0 means 1024).
 * A side that cannot run reports 0. */
IRV2_API irv2_status irv2_context_sgemm_peak(irv2_context *ctx, unsigned size, double *native_gflops,
                                    double *clblast_gflops);

/* ---- .npy files ------------------------------------------------------------------------- */

/* Reads a float32 little-endian C-order array. *data is malloc'ed; free it with free(). */
IRV2_API irv2_status irv2_npy_read(const char *path, unsigned *ndim, uint64_t shape[8], float **data);
/* Writes a float32 array atomically (a temporary file renamed into place). */
IRV2_API irv2_status irv2_npy_write(const char *path, unsigned ndim, const uint64_t *shape,
                           const float *data);

/* ---- Images and preprocessing ----------------------------------------------------------- */

/* An 8-bit RGB image, rows top to bottom, pixels interleaved R, G, B. */
typedef struct irv2_image {
    unsigned width, height;
    uint8_t *pixels;         /* height x width x 3 bytes */
} irv2_image;

/* Images larger than this many pixels are refused before anything is allocated. */
#define IRV2_IMAGE_MAX_PIXELS (64u * 1024u * 1024u)
/* The network's input side and the most crops irv2_crop_boxes() returns. */
#define IRV2_INPUT_SIZE 299u
#define IRV2_MAX_CROPS 144u

/* Decodes a JPEG (baseline, progressive, grayscale, CMYK) or PNG (any bit depth and colour
 * type; alpha and transparency dropped, 16-bit reduced to the high byte) into RGB, as PIL's
 * Image.open(path).convert("RGB") does. On failure img is zeroed and the message names path.
 * Free img->pixels with irv2_image_free(). */
IRV2_API irv2_status irv2_image_load(const char *path, irv2_image *img);
IRV2_API void irv2_image_free(irv2_image *img);

/* One crop: the image is resized (PIL bicubic) so that its shorter side is `scale` (the longer
 * side is floor(scale * long / short)); the square [x, x+size) x [y, y+size) of that is taken,
 * resized to 299 x 299 when size != 299, and flipped left-right when mirror is non-zero. */
typedef struct irv2_crop_box {
    unsigned scale, x, y, size, mirror;
} irv2_crop_box;

/* The crops of the evaluation protocols for a width x height image: crops = 1 (timm's tf
 * preprocessing: shorter side 333, centre 299), 10 (shorter side 333, 4 corners + centre and
 * their mirrors) or 144 (the seed's protocol: shorter side 342, 384, 427, 470; left/centre/
 * right squares, or top/centre/bottom for portrait; 4 corners, centre and whole square; and
 * mirrors). boxes must hold IRV2_MAX_CROPS entries; *count receives the number written. */
IRV2_API irv2_status irv2_crop_boxes(unsigned width, unsigned height, unsigned crops, irv2_crop_box *boxes,
                            unsigned *count);
/* Writes one crop as 3 x 299 x 299 floats (CHW), each channel (v / 255 - 0.5) / 0.5. */
IRV2_API irv2_status irv2_image_crop(const irv2_image *img, const irv2_crop_box *box, float *out);
/* The single-crop preprocessing of both variants (timm's tf one) into 3 x 299 x 299 floats. */
IRV2_API irv2_status irv2_image_preprocess(const irv2_image *img, float *out);

#ifdef __cplusplus
}
#endif
#endif
