/* testutil.h: helpers shared by the cmocka tests (temporary files, data paths, random data). */
#ifndef IRV2_TESTUTIL_H
#define IRV2_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* A path under the build's test scratch folder ($IRV2_TEST_TMP, else /tmp); static buffer. */
const char *test_tmp_path(const char *name);
/* A path under tests/data ($IRV2_TEST_DATA); static buffer. */
const char *test_data_path(const char *name);
/* Writes len bytes to path; returns 0 on success. */
int test_write_file(const char *path, const void *data, size_t len);
/* Deterministic uniform floats in [lo, hi). */
void test_fill_random(float *dst, size_t n, uint64_t seed, float lo, float hi);
int test_file_exists(const char *path);
/* How many files beside path are named as its temporary files are (path.tmp*): 0 once an
 * atomic write is over, whether it succeeded or failed. */
int test_temp_leftovers(const char *path);
/* A per-process file name "<prefix>_<pid>_<leaf>" under $IRV2_TEST_TMP, written into buf. */
const char *test_tmp_file(const char *prefix, const char *leaf, char *buf, size_t size);
/* The device the tests run on: $IRV2_DEVICE when set, else "cpu". */
const char *test_device(void);
/* Monotonic seconds. */
double test_now_s(void);
/* max |a - b| / max |ref| over n values (a NaN difference counts as infinitely far). */
double test_rel_max_diff(const float *a, const float *b, const float *ref, size_t n);
/* Indices of the 5 largest values of row (ties: lower index first). */
void test_top5(const float *row, size_t n, size_t out[5]);
/* Fails the current cmocka test unless logits (batch x classes) are within tolerance of the
 * reference, as max |diff| / max |ref|, with the same top-5 classes per image. */
void test_check_golden(const float *logits, const float *ref, int batch, int classes,
                       double tolerance, const char *what);
/* The model settings of a test: the defaults and the environment (IRV2_TUNE, IRV2_EXACT, as
 * irv2_model_load with NULL options), with gemm; variant auto. */
#include "irv2.h"
irv2_model_options test_model_options(irv2_gemm_backend gemm);
/* The logits (batch x the model's classes; caller frees) of weights loaded with opts on
 * input, from a model loaded, run once and freed here; fails the current test on an error.
 * With winograd 1 + a Winograd family (CONV_WINOGRAD, CONV_WINOGRAD_1D, CONV_WINOGRAD_2D),
 * every conv that has
 * a form of that family takes it, untimed, while the model is planned
 * (irv2_context.winograd_everywhere, tests only; the exclude bits still apply), and *forced
 * (if not NULL) is how many convs did; 0: the tuner chooses. */
float *test_model_logits(irv2_context *ctx, const char *weights, const irv2_model_options *opts,
                         const float *input, unsigned batch, int winograd, unsigned *forced);
/* The Winograd forms' accuracy over the whole network, on weights loaded with opts (its
 * variant; 1000 classes) and input: every conv that has a form of F(4x4, 3x3), then of the
 * fused 1-D family (F(4, 3) and F(2, 7), then with F(6, 3) down 3-tap columns) and the 2-D
 * one, forced into it (test_model_logits), then with IRV2_EXCLUDE_WINOGRAD, where none may
 * take it even forced; each as test_check_golden against ref (the forced runs only where the
 * context offers the form). */
void test_check_winograd_golden(irv2_context *ctx, const char *weights,
                                const irv2_model_options *opts, const float *input, int batch,
                                const float *ref, double tolerance);
/* The logits of one image (3 x 299 x 299) through the network of weights (variant forced, or
 * IRV2_VARIANT_AUTO), computed in double on the host, layer by layer in the plain order of
 * the graph (net.h), from the host weights the engine packs (BN folded in float32), rounded
 * to float at the end: a reference that shares no kernel, form or summation order with the
 * engine. Caller frees. */
float *test_reference_logits(const char *weights, irv2_variant variant, const float *image);
/* test_reference_logits of one image against golden, PyTorch's float64 logits for it (1000
 * classes): the reference is checked before it stands in for PyTorch. */
void test_check_reference(const char *weights, irv2_variant variant, const float *image,
                          const float *golden);
/* test_check_winograd_golden on one image, with the native GEMM and the test's settings,
 * against test_reference_logits: for checkpoints without a PyTorch reference. */
void test_check_winograd_reference(irv2_context *ctx, const char *weights, irv2_variant variant,
                                   const float *image, double tolerance);
/* The network with every conv forced into the direct family (which takes riders,
 * conv_bufs.rider): the max pools next to a conv that writes into the same tensor run in
 * that conv's launch. Checks, from the run's profile, that pools_launched max pools kept
 * launches of their own, and test_check_golden against ref; only where the context offers
 * the direct family (the vector kernels; not with IRV2_KERNELS=wg). */
void test_check_riders_golden(irv2_context *ctx, const char *weights,
                              const irv2_model_options *opts, const float *input, int batch,
                              const float *ref, double tolerance, unsigned pools_launched);
/* Removes a folder and everything below it (ignores errors). */
void test_remove_tree(const char *dir);

#endif
