/* test_families.c: the conv family table for devices this machine does not have: device
 * profiles filled by hand (an NVIDIA-like and an AMD-like GPU, a small GPU, an AVX2 CPU), the
 * candidates each family offers them, and record mode listing the programs their launches
 * would build, all without an OpenCL device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ops/conv_family.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The programs record mode reported: one "file|options|kernel" per line. */
typedef struct recorded {
    char text[32768];
    size_t len;
    int count;
} recorded;

static void record(void *user, const char *file, const char *options, const char *kernel)
{
    recorded *r = user;
    int n = snprintf(r->text + r->len, sizeof r->text - r->len, "%s|%s|%s\n", file, options,
                     kernel);
    assert_true(n > 0 && (size_t)n < sizeof r->text - r->len);
    r->len += (size_t)n, r->count++;
}

static device_profile gpu_profile(device_vendor vendor, size_t max_group, size_t item2,
                                  cl_ulong local)
{
    device_profile p = {.type = DEVICE_GPU, .vendor = vendor, .compute_units = 100,
                        .float_width = 1, .max_group = max_group,
                        .max_items = {max_group, max_group, item2}, .local_mem = local,
                        .local_dedicated = 1, .global_mem = 16ull << 30,
                        .max_alloc = 4ull << 30};
    device_profile_derive(&p);
    return p;
}

/* A context with no device: the profile and the families offered, in record mode. */
static irv2_context *fake_context(device_profile p, ctx_kernels kernels, recorded *r)
{
    irv2_context *ctx = calloc(1, sizeof *ctx);
    assert_non_null(ctx);
    ctx->profile = p, ctx->kernels = kernels;
    snprintf(ctx->info.name, sizeof ctx->info.name, "profile");
    ctx->record_program = record, ctx->record_user = r;
    return ctx;
}

static conv_shape shape(int cin, int cout, int k, int stride, int pad, int n, int hw)
{
    conv_shape s = {.cin = cin, .cout = cout, .kh = k, .kw = k, .stride = stride, .ph = pad,
                    .pw = pad, .n = n, .h = hw, .w = hw};
    assert_int_equal(conv_shape_finish(&s), IRV2_OK);
    return s;
}

/* The work-group candidates of ctx for s, as "positions channels" pairs joined by ",". */
static void wg_tiles(irv2_context *ctx, const conv_shape *s, char *dst, size_t cap)
{
    conv_form c[64];
    size_t n = conv_candidates(ctx, s, 1, ROWS_OWN, 0, c, 64), used = 0;
    dst[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (c[i].family == CONV_WG)
            used += (size_t)snprintf(dst + used, cap - used, "%s%d %d", used ? "," : "",
                                     c[i].p.wg.positions, c[i].p.wg.channels);
}

/* Every form of ctx for s (candidates and refinements) launches in record mode; returns how
 * many forms, and how many programs were recorded in r. */
static size_t launch_all(irv2_context *ctx, const conv_shape *s, conv_rows rows)
{
    conv_form c[128];
    size_t n = conv_candidates(ctx, s, 1, rows, 0, c, 64);
    for (size_t i = 0, end = n; i < end; i++) n += conv_refinements(s, &c[i], 0, c + n, 128 - n);
    for (size_t i = 0; i < n; i++) {
        op_launch ops[OP_MAX_LAUNCHES];
        int nops = -1;
        conv_bufs b = {.out = {NULL, 1, {0}, {0}}};
        char text[64];
        conv_form_format(&c[i], text, sizeof text);
        if (conv_launches(ctx, s, &c[i], (op_epilogue){1, 0, 0, 0}, &b, ops, &nops) != IRV2_OK)
            fail_msg("%s: %s", text, irv2_last_error());
        assert_true(nops > 0);
        for (int k = 0; k < nops; k++) {
            assert_null(ops[k].kernel);
            op_release(&ops[k]);
        }
    }
    return n;
}

/* NVIDIA-like (1024 work-items, 1024/1024/64, 48 KB local), AMD-like (256, 64 KB) GPUs and
 * a GPU of 64 work-items per group run SIMT tiles, so they get no work-group tiles; an
 * Intel-like GPU (no SIMT tiles) gets 16x16 work-groups and all six, and a GPU of 64
 * work-items per group whose 6 KB of local memory fit no SIMT tile 8x8 work-groups and the
 * two tiles whose positions divide 64 and whose slices fit. The untuned form is the SIMT
 * family's 64x64 tile where it runs, else the work-group family's where that fits. */
static void test_gpu_profiles(void **state)
{
    (void)state;
    const struct {
        const char *name;
        device_profile p;
        int side;
        const char *tiles;
        int simt;
    } gpus[] = {
        {"nvidia", gpu_profile(VENDOR_NVIDIA, 1024, 64, 48 << 10), 16, "", 1},
        {"amd", gpu_profile(VENDOR_AMD, 256, 256, 64 << 10), 16, "", 1},
        {"small", gpu_profile(VENDOR_OTHER, 64, 64, 32 << 10), 8, "", 1},
        {"intel", gpu_profile(VENDOR_INTEL, 1024, 1024, 64 << 10), 16,
         "64 64,32 32,32 64,64 128,128 64,128 128", 0},
        {"tiny", gpu_profile(VENDOR_OTHER, 64, 64, 6 << 10), 8, "32 32,32 64", 0},
    };
    const conv_shape s = shape(320, 384, 3, 1, 1, 1, 17);
    for (size_t i = 0; i < sizeof gpus / sizeof gpus[0]; i++) {
        recorded r = {0};
        irv2_context *ctx = fake_context(gpus[i].p, KERNELS_BOTH, &r);
        char tiles[256];
        assert_true(ctx->profile.gpu);
        assert_int_equal(ctx->profile.group_side, gpus[i].side);
        wg_tiles(ctx, &s, tiles, sizeof tiles);
        print_message("  %-6s wg tiles: %s\n", gpus[i].name, tiles);
        assert_string_equal(tiles, gpus[i].tiles);
        assert_int_equal(conv_simt_runs(ctx), gpus[i].simt);
        if (!strstr(gpus[i].tiles, "64 64") && !gpus[i].simt) {
            free(ctx);
            continue;
        }
        /* the untuned form is the SIMT family's 64x64 tile where it runs, else the
         * work-group family's, as in the compact set, which the SIMT family is not in */
        conv_form d = conv_default_form(ctx, &s);
        assert_int_equal(d.family, gpus[i].simt ? CONV_SIMT : CONV_WG);
        assert_int_equal(d.p.wg.positions, 64), assert_int_equal(d.p.wg.channels, 64);
        ctx->kernels = KERNELS_COMPACT;
        d = conv_default_form(ctx, &s);
        assert_int_equal(d.family, CONV_WG);
        assert_int_equal(d.p.wg.positions, 64), assert_int_equal(d.p.wg.channels, 64);
        ctx->kernels = KERNELS_BOTH;
        /* every form builds (recorded), at this side */
        launch_all(ctx, &s, ROWS_OWN);
        char side[32];
        snprintf(side, sizeof side, "-DWX=%d -DWY=%d", gpus[i].side, gpus[i].side);
        if (*gpus[i].tiles) assert_non_null(strstr(r.text, side));
        else assert_null(strstr(r.text, "conv_wg.cl|"));
        free(ctx);
    }
    /* no work-group of 8x8: the family is not offered */
    recorded r = {0};
    irv2_context *ctx = fake_context(gpu_profile(VENDOR_OTHER, 32, 32, 32 << 10), KERNELS_WG, &r);
    char tiles[256];
    wg_tiles(ctx, &s, tiles, sizeof tiles);
    assert_string_equal(tiles, "");
    free(ctx);
}

/* An AVX2-like CPU (8-wide floats, 32 KB local): the vector families at the 8-wide tilings
 * only, no work-group family, and no CLBlast convgemm or im2col form (GPUs only). */
static void test_cpu_profile(void **state)
{
    (void)state;
    device_profile p = {.type = DEVICE_CPU, .vendor = VENDOR_INTEL, .compute_units = 2,
                        .float_width = 8, .max_group = 4096, .max_items = {4096, 4096, 4096},
                        .local_mem = 32 << 10};
    device_profile_derive(&p);
    recorded r = {0};
    irv2_context *ctx = fake_context(p, KERNELS_VEC, &r);
    assert_false(ctx->profile.gpu);
    const conv_shape s = shape(64, 96, 3, 1, 1, 1, 35);
    conv_form c[64];
    size_t n = conv_candidates(ctx, &s, 1, ROWS_ALL, 0, c, 64);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        assert_true(c[i].family != CONV_WG && c[i].family != CONV_SIMT &&
                    c[i].family != CONV_CLBLAST);
        assert_true(c[i].p.vec.vw == 8 || c[i].p.vec.tm <= 8);
    }
    conv_form d = conv_default_form(ctx, &s);
    assert_int_equal(d.family, CONV_FUSED);
    assert_int_equal(d.p.vec.vw, 8);
    /* a stride-1 3x3 conv of 128 channels or more has Winograd forms, F(4x4, 3x3) ones with
     * the transforms in scratch (the fused families' panels, 18 or 36 taps x 192 channels x 8
     * lanes, exceed the 32 KB of local memory); IRV2_EXCLUDE_WINOGRAD drops them, and only
     * them, keeping the order of the rest */
    const conv_shape wide = shape(192, 192, 3, 1, 1, 1, 17);
    n = conv_candidates(ctx, &wide, 1, ROWS_ALL, 0, c, 64);
    size_t winograd = 0, fused = 0;
    for (size_t i = 0; i < n; i++) {
        const int in_wg = c[i].family == CONV_WINOGRAD_1D || c[i].family == CONV_WINOGRAD_2D;
        winograd += c[i].family == CONV_WINOGRAD || in_wg;
        fused += in_wg;
    }
    assert_true(winograd > 0);
    assert_int_equal(fused, 0);
    conv_form kept[64];
    memcpy(kept, c, n * sizeof *c);
    size_t nk = conv_exclude(kept, n, IRV2_EXCLUDE_WINOGRAD);
    assert_int_equal(nk, n - winograd);
    for (size_t i = 0, k = 0; i < n; i++)
        if (c[i].family != CONV_WINOGRAD) assert_memory_equal(&kept[k++], &c[i], sizeof *c);
    assert_int_equal(conv_exclude(kept, nk, 0), nk);
    free(ctx);
}

/* Record mode: every program of every form, without a device, the same (file, options,
 * kernel) a build would use; forms that build nothing of irv2's own (a library call) still
 * record their epilogue. */
static void test_record_mode(void **state)
{
    (void)state;
    recorded r = {0};
    irv2_context *ctx =
        fake_context(gpu_profile(VENDOR_NVIDIA, 1024, 64, 48 << 10), KERNELS_BOTH, &r);
    const conv_shape s = shape(1792, 192, 1, 1, 0, 1, 8); /* few tiles: split reductions */
    size_t forms = launch_all(ctx, &s, ROWS_ALL);
    print_message("  %zu forms, %d programs recorded\n", forms, r.count);
    assert_true(r.count >= (int)forms);
    assert_non_null(strstr(r.text, "|conv_simt_split\n"));
    assert_null(strstr(r.text, "conv_wg.cl|"));
    assert_non_null(strstr(r.text, "conv_gemm.cl|"));
    assert_non_null(strstr(r.text, "eltwise.cl|")); /* CLBlast's epilogue */
    /* CLBlast as the floor for KxK convs on a GPU: convgemm at batch 1, SGEMM over an im2col
     * matrix at every batch */
    const conv_shape k3 = shape(256, 384, 3, 2, 0, 8, 35);
    conv_form cl[4];
    assert_int_equal(conv_candidates(ctx, &k3, 1, ROWS_LIBRARY, 0, cl, 4), 1);
    assert_true(cl[0].family == CONV_CLBLAST && cl[0].p.clblast.im2col);
    assert_true(conv_scratch(&k3, &cl[0]) <= conv_scratch_offered(ctx, &k3));
    launch_all(ctx, &k3, ROWS_LIBRARY);
    assert_non_null(strstr(r.text, "pack.cl|-DKH=3 -DKW=3 -DSH=2 -DPH=0 -DPW=0|im2col_rows\n"));
    const conv_shape k1 = shape(256, 384, 3, 2, 0, 1, 35);
    assert_int_equal(conv_candidates(ctx, &k1, 1, ROWS_LIBRARY, 0, cl, 4), 2);
    /* the compact kernel set: one program for every geometry and epilogue */
    recorded compact = {0};
    ctx->kernels = KERNELS_COMPACT, ctx->record_user = &compact;
    launch_all(ctx, &s, ROWS_ALL);
    assert_non_null(strstr(compact.text, "-DWX=16 -DWY=16 -DEPI_ARG|conv_wg\n"));
    assert_null(strstr(compact.text, "-DKH="));
    free(ctx);
    /* the work-group family's programs where it is offered: an Intel-like GPU */
    recorded wg = {0};
    ctx = fake_context(gpu_profile(VENDOR_INTEL, 1024, 1024, 64 << 10), KERNELS_BOTH, &wg);
    launch_all(ctx, &s, ROWS_OWN);
    assert_non_null(strstr(wg.text, "conv_wg.cl|-DTM=64 -DTN=64 -DTK=16 -DWX=16 -DWY=16 -DKH=1 "
                                    "-DKW=1 -DSH=1 -DPH=0 -DPW=0 -DRELU1|conv_wg\n"));
    assert_non_null(strstr(wg.text, "|conv_wg_split\n"));
    assert_non_null(strstr(wg.text, "|conv_wg_reduce\n"));
    assert_null(strstr(wg.text, "conv_simt.cl|"));
    free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpu_profiles),
        cmocka_unit_test(test_cpu_profile),
        cmocka_unit_test(test_record_mode),
    };
    return cmocka_run_group_tests_name("test_families", tests, NULL, NULL);
}
