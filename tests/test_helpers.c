/* test_helpers.c: the library's small shared helpers: checked size arithmetic, the window
 * rule, FNV-1a, atomic file writes and the 16-bit float conversions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "io/halves.h"
#include "runtime/atomic_file.h"
#include "runtime/cache.h"
#include "runtime/error.h"
#include "runtime/overflow.h"
#include "runtime/window.h"
#include "testutil.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- checked arithmetic ------------------------------------------------------------------- */

static void test_overflow_edges(void **state)
{
    (void)state;
    uint64_t r = 7;
    assert_false(u64_mul_overflows(0, UINT64_MAX, &r));
    assert_true(r == 0);
    assert_false(u64_mul_overflows(UINT64_MAX, 1, &r));
    assert_true(r == UINT64_MAX);
    assert_false(u64_mul_overflows(1ull << 32, (1ull << 32) - 1, &r));
    assert_true(r == (1ull << 32) * ((1ull << 32) - 1));
    assert_true(u64_mul_overflows(1ull << 32, 1ull << 32, &r));
    assert_true(u64_mul_overflows(UINT64_MAX, 2, &r));
    assert_false(u64_add_overflows(UINT64_MAX, 0, &r));
    assert_true(r == UINT64_MAX);
    assert_true(u64_add_overflows(UINT64_MAX, 1, &r));
    assert_true(u64_add_overflows(1ull << 63, 1ull << 63, &r));
}

/* Against 128-bit arithmetic, over operands of every magnitude. */
static void test_overflow_against_wide(void **state)
{
    (void)state;
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 100000; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        const uint64_t a = s >> (s % 64), b = (s * 31) >> ((s >> 8) % 64);
        const unsigned __int128 p = (unsigned __int128)a * b, q = (unsigned __int128)a + b;
        uint64_t r = 0;
        if (u64_mul_overflows(a, b, &r) != (p > UINT64_MAX))
            fail_msg("u64_mul_overflows(%llu, %llu) is wrong", (unsigned long long)a,
                     (unsigned long long)b);
        if (p <= UINT64_MAX) assert_true(r == (uint64_t)p);
        assert_int_equal(u64_add_overflows(a, b, &r), q > UINT64_MAX);
        if (q <= UINT64_MAX) assert_true(r == (uint64_t)q);
    }
}

static void test_product_overflow(void **state)
{
    (void)state;
    const uint64_t shape[] = {3, 4, 5}, huge[] = {1ull << 32, 1ull << 32, 0};
    uint64_t r = 0;
    assert_false(u64_product_overflows(4, shape, 3, &r));
    assert_true(r == 240);
    assert_false(u64_product_overflows(4, shape, 0, &r)); /* a scalar: the first factor */
    assert_true(r == 4);
    assert_false(u64_product_overflows(4, huge, 1, &r));
    assert_true(r == 1ull << 34);
    r = 99;
    assert_true(u64_product_overflows(1, huge, 2, &r));
    assert_true(r == 99); /* untouched on overflow */
    assert_true(u64_product_overflows(1, huge, 3, &r)); /* a later 0 does not excuse it */
    assert_false(u64_product_overflows(0, huge, 3, &r)); /* but a leading one does */
    assert_true(r == 0);
    const uint64_t top[] = {UINT64_MAX / 4};
    assert_false(u64_product_overflows(4, top, 1, &r));
    assert_true(u64_product_overflows(5, top, 1, &r));
}

/* ---- the window rule ---------------------------------------------------------------------- */

/* Positions i >= 0 at which the window [i*s, i*s + k) lies inside the padded x + 2p. */
static int count_positions(int x, int k, int s, int p)
{
    int n = 0;
    for (int i = 0; i * s + k <= x + 2 * p; i++) n++;
    return n;
}

static void test_window_counts(void **state)
{
    (void)state;
    for (int x = 0; x <= 40; x++)
        for (int k = 1; k <= 7; k++)
            for (int s = 1; s <= 4; s++)
                for (int p = 0; p <= 4; p++)
                    if (window_out(x, k, s, p) != count_positions(x, k, s, p))
                        fail_msg("window_out(%d, %d, %d, %d) = %d, expected %d", x, k, s, p,
                                 window_out(x, k, s, p), count_positions(x, k, s, p));
}

static void test_window_edges(void **state)
{
    (void)state;
    assert_int_equal(window_out(299, 3, 2, 0), 149); /* the network's stem */
    assert_int_equal(window_out(35, 3, 1, 1), 35);   /* "same" padding keeps the side */
    assert_int_equal(window_out(17, 3, 2, 0), 8);
    assert_int_equal(window_out(3, 3, 2, 0), 1);     /* exactly one window */
    assert_int_equal(window_out(2, 3, 2, 0), 0);     /* does not fit */
    assert_int_equal(window_out(1, 3, 1, 1), 1);     /* fits only thanks to the padding */
    assert_int_equal(window_out(0, 1, 1, 0), 0);     /* an empty input */
    assert_int_equal(window_out(8, 8, 1, 0), 1);     /* global pooling */
    /* no window to speak of */
    assert_int_equal(window_out(10, 0, 1, 0), 0);
    assert_int_equal(window_out(10, 3, 0, 0), 0);
    assert_int_equal(window_out(10, 3, -1, 0), 0);
    assert_int_equal(window_out(-5, 1, 1, 0), 0);
    assert_int_equal(window_out(10, 3, 1, -1), 0);
    /* sizes at the edge of an int: no overflow on the way */
    assert_int_equal(window_out(INT_MAX, 1, 1, 0), INT_MAX);
    assert_int_equal(window_out(INT_MAX, 1, 2, 0), INT_MAX / 2 + 1);
    assert_int_equal(window_out(INT_MAX, 1, 1, 1), 0); /* INT_MAX + 2 positions */
    assert_int_equal(window_out(INT_MAX, 3, 4, INT_MAX), (int)((3LL * INT_MAX - 3) / 4 + 1));
    assert_int_equal(window_out(INT_MAX, 3, 1, INT_MAX), 0);
}

/* ---- FNV-1a ------------------------------------------------------------------------------- */

static void test_fnv1a_vectors(void **state)
{
    (void)state;
    /* the published FNV-1a 64-bit test vectors */
    assert_true(cache_hash(CACHE_HASH_INIT, "", 0) == 0xcbf29ce484222325ull);
    assert_true(cache_hash(CACHE_HASH_INIT, "a", 1) == 0xaf63dc4c8601ec8cull);
    assert_true(cache_hash(CACHE_HASH_INIT, "foobar", 6) == 0x85944171f73967e8ull);
    /* continuing from a hash is hashing the concatenation; _str takes the NUL too */
    assert_true(cache_hash(cache_hash(CACHE_HASH_INIT, "foo", 3), "bar", 3) ==
                cache_hash(CACHE_HASH_INIT, "foobar", 6));
    assert_true(cache_hash_str(CACHE_HASH_INIT, "foobar") ==
                cache_hash(CACHE_HASH_INIT, "foobar", 7));
}

/* ---- atomic writes ------------------------------------------------------------------------ */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(4096);
    assert_non_null(buf);
    *len = fread(buf, 1, 4096, f);
    fclose(f);
    return buf;
}

static void expect_contents(const char *path, const char *want)
{
    size_t len = 0;
    char *got = slurp(path, &len);
    assert_non_null(got);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(got, want, len);
    free(got);
}

/* text as the whole file, in two pieces */
static irv2_status write_text(const char *path, unsigned flags, const char *text)
{
    const size_t half = strlen(text) / 2;
    const atomic_piece p[] = {{text, half}, {text + half, strlen(text) - half}};
    return atomic_write_pieces(path, flags, p, 2);
}

static char partial[] = "partial";

/* Writes part of the file, then fails as a full disk would. */
static int fill_then_fail(FILE *f, void *arg)
{
    fputs(arg, f);
    errno = ENOSPC;
    return -1;
}

static void test_atomic_write_replaces(void **state)
{
    (void)state;
    char path[4096];
    test_tmp_file("atomic", "replace.txt", path, sizeof path);
    assert_int_equal(write_text(path, 0, "first"), IRV2_OK);
    expect_contents(path, "first");
    assert_int_equal(write_text(path, ATOMIC_SYNC, "second, longer"), IRV2_OK);
    expect_contents(path, "second, longer");
    const atomic_piece nothing = {NULL, 0};
    assert_int_equal(atomic_write_pieces(path, 0, &nothing, 1), IRV2_OK);
    expect_contents(path, "");
    assert_int_equal(write_text(path, 0, "again"), IRV2_OK);
    assert_int_equal(atomic_write_pieces(path, 0, NULL, 0), IRV2_OK); /* no pieces at all */
    expect_contents(path, "");
    assert_int_equal(test_temp_leftovers(path), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    remove(path);
}

/* The last error names the path, the step that failed and why. */
static void expect_failure(const char *path, const char *step, int err)
{
    print_message("  %s\n", irv2_last_error());
    assert_non_null(strstr(irv2_last_error(), path));
    assert_non_null(strstr(irv2_last_error(), step));
    assert_non_null(strstr(irv2_last_error(), strerror(err)));
}

static void test_atomic_write_fill_fails(void **state)
{
    (void)state;
    char path[4096];
    test_tmp_file("atomic", "fill_fails.txt", path, sizeof path);
    /* a new file: nothing appears */
    assert_int_equal(atomic_write(path, 0, fill_then_fail, partial), IRV2_ERR_IO);
    expect_failure(path, "cannot write temporary file", ENOSPC);
    assert_false(test_file_exists(path));
    assert_int_equal(test_temp_leftovers(path), 0);
    /* an existing file: kept as it was, quietly or not */
    assert_int_equal(write_text(path, 0, "kept"), IRV2_OK);
    assert_int_equal(atomic_write(path, ATOMIC_SYNC, fill_then_fail, partial), IRV2_ERR_IO);
    expect_contents(path, "kept");
    irv2_clear_error();
    assert_int_equal(atomic_write(path, ATOMIC_QUIET, fill_then_fail, partial), IRV2_ERR_IO);
    assert_string_equal(irv2_last_error(), "");
    expect_contents(path, "kept");
    assert_int_equal(test_temp_leftovers(path), 0);
    remove(path);
}

static void test_atomic_write_cannot_create(void **state)
{
    (void)state;
    char dir[4096], path[4200];
    test_tmp_file("atomic", "no_such_dir", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/out.txt", dir);
    assert_int_equal(write_text(path, 0, "x"), IRV2_ERR_IO);
    expect_failure(path, "cannot create temporary file", ENOENT);
    assert_false(test_file_exists(dir));
}

static void test_atomic_write_cannot_rename(void **state)
{
    (void)state;
    /* a folder (not empty) where the file should go: rename(2) refuses to replace it */
    char path[4096], inner[4200];
    test_tmp_file("atomic", "is_a_dir", path, sizeof path);
    snprintf(inner, sizeof inner, "%s/keep", path);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(test_write_file(inner, "k", 1), 0);
    assert_int_equal(write_text(path, 0, "x"), IRV2_ERR_IO);
    expect_failure(path, "into place", EISDIR);
    assert_int_equal(test_temp_leftovers(path), 0);
    assert_true(test_file_exists(inner));
    test_remove_tree(path);
}

/* ---- 16-bit floats ------------------------------------------------------------------------ */

/* binary16 by its definition: (-1)^s x 1.m x 2^(e-15), or 0.m x 2^-14 when e is 0. */
static double half_value(uint16_t h)
{
    const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    const double v = e == 0 ? ldexp(m, -24) : ldexp(1024 + m, e - 25);
    return h & 0x8000 ? -v : v;
}

static uint32_t bits_of(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    return x;
}

static void test_half_all_values(void **state)
{
    (void)state;
    for (uint32_t i = 0; i <= 0xffff; i++) {
        const uint16_t h = (uint16_t)i;
        const float f = half_to_float(h);
        const uint16_t back = half_from_float(f);
        const int e = (h >> 10) & 0x1f;
        if (e == 31 && (h & 0x3ff)) { /* NaN: stays NaN, sign and payload kept on decoding */
            assert_true(isnan(f));
            assert_int_equal(bits_of(f), ((uint32_t)(h & 0x8000) << 16) | 0x7f800000u |
                                             ((uint32_t)(h & 0x3ff) << 13));
            assert_true((back & 0x7fff) > 0x7c00 && (back & 0x8000) == (h & 0x8000));
            continue;
        }
        if (e == 31) assert_true(isinf(f) && (signbit(f) != 0) == ((h & 0x8000) != 0));
        else if ((double)f != half_value(h))
            fail_msg("half_to_float(0x%04x) = %a, expected %a", h, (double)f, half_value(h));
        assert_int_equal(signbit(f) != 0, (h & 0x8000) != 0); /* -0 too */
        if (back != h) fail_msg("half_from_float(half_to_float(0x%04x)) = 0x%04x", h, back);
    }
}

static void test_bf16_all_values(void **state)
{
    (void)state;
    for (uint32_t i = 0; i <= 0xffff; i++) {
        const uint16_t b = (uint16_t)i;
        const float f = bf16_to_float(b);
        assert_int_equal(bits_of(f), (uint32_t)b << 16);
        const uint16_t back = bf16_from_float(f);
        if (isnan(f)) assert_true((back & 0x7fff) > 0x7f80 && (back & 0x8000) == (b & 0x8000));
        else if (back != b) fail_msg("bf16_from_float(bf16_to_float(0x%04x)) = 0x%04x", b, back);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overflow_edges),
        cmocka_unit_test(test_overflow_against_wide),
        cmocka_unit_test(test_product_overflow),
        cmocka_unit_test(test_window_counts),
        cmocka_unit_test(test_window_edges),
        cmocka_unit_test(test_fnv1a_vectors),
        cmocka_unit_test(test_atomic_write_replaces),
        cmocka_unit_test(test_atomic_write_fill_fails),
        cmocka_unit_test(test_atomic_write_cannot_create),
        cmocka_unit_test(test_atomic_write_cannot_rename),
        cmocka_unit_test(test_half_all_values),
        cmocka_unit_test(test_bf16_all_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
