/* test_npy.c: .npy reading (NumPy-written headers, malformed files) and atomic writing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "irv2.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Builds a .npy file: magic, version, header length (2 bytes for v1, 4 for v2/v3), the
 * header text as given, then data_len bytes of data. Returns the path. */
static const char *write_npy(const char *name, unsigned major, const char *header,
                             const void *data, size_t data_len)
{
    size_t header_len = strlen(header);
    size_t len_bytes = major == 1 ? 2 : 4;
    size_t total = 8 + len_bytes + header_len + data_len;
    unsigned char *bytes = malloc(total);
    assert_non_null(bytes);
    memcpy(bytes, "\x93NUMPY", 6);
    bytes[6] = (unsigned char)major;
    bytes[7] = 0;
    for (size_t i = 0; i < len_bytes; i++)
        bytes[8 + i] = (unsigned char)(header_len >> (8 * i));
    memcpy(bytes + 8 + len_bytes, header, header_len);
    if (data_len) memcpy(bytes + 8 + len_bytes + header_len, data, data_len);
    const char *path = test_tmp_path(name);
    assert_int_equal(test_write_file(path, bytes, total), 0);
    free(bytes);
    return path;
}

static void expect_read_error(const char *path, irv2_status want, const char *mention)
{
    unsigned ndim = 99;
    uint64_t shape[8];
    static float sentinel;
    float *data = &sentinel; /* must come back NULL */
    irv2_status st = irv2_npy_read(path, &ndim, shape, &data);
    print_message("  %s -> %s\n", irv2_status_string(st), irv2_last_error());
    assert_int_equal(st, want);
    assert_null(data);
    assert_non_null(strstr(irv2_last_error(), path));
    if (mention) assert_non_null(strstr(irv2_last_error(), mention));
}

/* Header text padded with spaces and '\n' so the preamble is a multiple of 64, as NumPy does. */
static const char *numpy_header(const char *dict, unsigned major, char *buf, size_t size)
{
    size_t fixed = major == 1 ? 10 : 12;
    size_t len = strlen(dict);
    size_t total = (fixed + len + 1 + 63) / 64 * 64;
    assert_true(total - fixed < size);
    memcpy(buf, dict, len);
    memset(buf + len, ' ', total - fixed - len - 1);
    buf[total - fixed - 1] = '\n';
    buf[total - fixed] = '\0';
    return buf;
}

/* ---- round trips ------------------------------------------------------------------------- */

static void round_trip(const char *name, unsigned ndim, const uint64_t *shape, size_t count)
{
    float *values = malloc((count ? count : 1) * sizeof *values);
    assert_non_null(values);
    test_fill_random(values, count, 42 + ndim, -3.0f, 3.0f);
    const char *path = test_tmp_path(name);
    remove(path);
    assert_int_equal(irv2_npy_write(path, ndim, shape, values), IRV2_OK);

    /* NumPy-compatible layout: version 1.0, preamble a multiple of 64 ending in '\n' */
    unsigned char head[10];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(head, 1, sizeof head, f), sizeof head);
    fclose(f);
    assert_memory_equal(head, "\x93NUMPY\x01\x00", 8);
    size_t preamble = 10 + (size_t)(head[8] | (head[9] << 8));
    assert_int_equal(preamble % 64, 0);

    unsigned got_ndim = 99;
    uint64_t got_shape[8];
    float *got = NULL;
    assert_int_equal(irv2_npy_read(path, &got_ndim, got_shape, &got), IRV2_OK);
    assert_non_null(got);
    assert_int_equal(got_ndim, ndim);
    for (unsigned i = 0; i < ndim; i++) assert_int_equal(got_shape[i], shape[i]);
    assert_memory_equal(got, values, count * sizeof *values);
    free(got);
    free(values);

    assert_int_equal(test_temp_leftovers(path), 0);
}

static void test_round_trip_4d(void **state)
{
    (void)state;
    const uint64_t shape[4] = {2, 3, 4, 5};
    round_trip("npy_rt_4d.npy", 4, shape, 120);
}

static void test_round_trip_1d(void **state)
{
    (void)state;
    const uint64_t shape[1] = {7};
    round_trip("npy_rt_1d.npy", 1, shape, 7);
}

static void test_round_trip_0d(void **state)
{
    (void)state;
    round_trip("npy_rt_0d.npy", 0, NULL, 1);
}

static void test_round_trip_empty(void **state)
{
    (void)state;
    const uint64_t shape[2] = {3, 0};
    round_trip("npy_rt_empty.npy", 2, shape, 0);
}

static void test_overwrite_existing(void **state)
{
    (void)state;
    const char *path = test_tmp_path("npy_overwrite.npy");
    assert_int_equal(test_write_file(path, "old contents", 12), 0);
    const uint64_t shape[1] = {2};
    const float values[2] = {1.5f, -2.0f};
    assert_int_equal(irv2_npy_write(path, 1, shape, values), IRV2_OK);
    unsigned ndim;
    uint64_t got_shape[8];
    float *got = NULL;
    assert_int_equal(irv2_npy_read(path, &ndim, got_shape, &got), IRV2_OK);
    assert_int_equal(ndim, 1);
    assert_true(got[0] == 1.5f && got[1] == -2.0f);
    free(got);
}

/* ---- files as NumPy writes them --------------------------------------------------------- */

static void test_numpy_v1(void **state)
{
    (void)state;
    char header[256];
    const float values[3] = {0.25f, -1.0f, 1e30f};
    const char *path = write_npy(
        "npy_numpy_v1.npy", 1,
        numpy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 1, header,
                     sizeof header),
        values, sizeof values);
    unsigned ndim;
    uint64_t shape[8];
    float *data = NULL;
    assert_int_equal(irv2_npy_read(path, &ndim, shape, &data), IRV2_OK);
    assert_int_equal(ndim, 1);
    assert_int_equal(shape[0], 3);
    assert_memory_equal(data, values, sizeof values);
    free(data);
}

static void test_numpy_v2_keys_reordered(void **state)
{
    (void)state;
    char header[256];
    float values[6] = {1, 2, 3, 4, 5, 6};
    /* keys in another order, double quotes, Python 2 longs, odd spacing, no trailing comma */
    const char *path = write_npy(
        "npy_numpy_v2.npy", 2,
        numpy_header("{ \"shape\":(2L ,3L) ,'fortran_order' :False,  'descr':'<f4'}", 2,
                     header, sizeof header),
        values, sizeof values);
    unsigned ndim;
    uint64_t shape[8];
    float *data = NULL;
    assert_int_equal(irv2_npy_read(path, &ndim, shape, &data), IRV2_OK);
    assert_int_equal(ndim, 2);
    assert_int_equal(shape[0], 2);
    assert_int_equal(shape[1], 3);
    assert_memory_equal(data, values, sizeof values);
    free(data);
}

static void test_numpy_v3_scalar(void **state)
{
    (void)state;
    char header[256];
    const float value = 7.0f;
    const char *path = write_npy(
        "npy_numpy_v3.npy", 3,
        numpy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 3, header,
                     sizeof header),
        &value, sizeof value);
    unsigned ndim = 99;
    uint64_t shape[8];
    float *data = NULL;
    assert_int_equal(irv2_npy_read(path, &ndim, shape, &data), IRV2_OK);
    assert_int_equal(ndim, 0);
    assert_true(data[0] == 7.0f);
    free(data);
}

/* ---- malformed files ---------------------------------------------------------------------- */

static const float four_floats[4] = {1, 2, 3, 4};

static const char *write_dict(const char *name, const char *dict, size_t data_len)
{
    char header[512];
    return write_npy(name, 1, numpy_header(dict, 1, header, sizeof header), four_floats,
                     data_len);
}

static void test_missing_file(void **state)
{
    (void)state;
    expect_read_error(test_tmp_path("npy_does_not_exist.npy"), IRV2_ERR_IO, NULL);
}

static void test_bad_magic(void **state)
{
    (void)state;
    const char *path = test_tmp_path("npy_bad_magic.npy");
    assert_int_equal(test_write_file(path, "\x93NUMPZ\x01\x00\x10\x00{}", 12), 0);
    expect_read_error(path, IRV2_ERR_FORMAT, "magic");
    assert_int_equal(test_write_file(path, "", 0), 0);
    expect_read_error(path, IRV2_ERR_FORMAT, NULL);
}

static void test_bad_version(void **state)
{
    (void)state;
    const char *path = test_tmp_path("npy_bad_version.npy");
    assert_int_equal(test_write_file(path, "\x93NUMPY\x04\x00\x10\x00{}", 12), 0);
    expect_read_error(path, IRV2_ERR_FORMAT, "4.0");
}

static void test_truncated_header(void **state)
{
    (void)state;
    const char *path = test_tmp_path("npy_trunc_header.npy");
    /* the header length says 118 bytes but the file stops after 20 */
    const char bytes[] = "\x93NUMPY\x01\x00\x76\x00{'descr': '<f4',";
    assert_int_equal(test_write_file(path, bytes, sizeof bytes - 1), 0);
    expect_read_error(path, IRV2_ERR_FORMAT, "truncated header");
    /* the file stops inside the fixed-size preamble */
    assert_int_equal(test_write_file(path, "\x93NUMPY\x02\x00\x10", 9), 0);
    expect_read_error(path, IRV2_ERR_FORMAT, "truncated header");
}

static void test_truncated_data(void **state)
{
    (void)state;
    const char *path = write_dict("npy_trunc_data.npy",
                                  "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
                                  12);
    expect_read_error(path, IRV2_ERR_FORMAT, "truncated: expected 16 bytes of data, found 12");
}

static void test_trailing_data(void **state)
{
    (void)state;
    const char *path = write_dict("npy_trailing.npy",
                                  "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
                                  16);
    expect_read_error(path, IRV2_ERR_FORMAT, "expected 12 bytes of data, found 16");
}

static void test_float64_dtype(void **state)
{
    (void)state;
    const char *path = write_dict("npy_f8.npy",
                                  "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
                                  16);
    expect_read_error(path, IRV2_ERR_DTYPE, "'<f8'");
    path = write_dict("npy_bigendian.npy",
                      "{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", 16);
    expect_read_error(path, IRV2_ERR_DTYPE, "'>f4'");
}

static void test_fortran_order(void **state)
{
    (void)state;
    const char *path = write_dict("npy_fortran.npy",
                                  "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
                                  16);
    expect_read_error(path, IRV2_ERR_FORMAT, "fortran_order");
}

static void test_bad_shape_syntax(void **state)
{
    (void)state;
    static const struct {
        const char *dict, *mention;
    } cases[] = {
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,, 2), }", "'shape'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2 2), }", "'shape'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-4,), }", "'shape'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4), }", "1-tuple"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': [4], }", "'shape'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4,, }", "'shape'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
         "overflows"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4,) }  x", "end of the header"},
        {"{'descr': '<f4', 'fortran_order': False, }", "missing key 'shape'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'extra': 1}", "'extra'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'shape': (4,)}", "twice"},
        {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (4,), }", "'fortran_order'"},
        {"{'descr': <f4, 'fortran_order': False, 'shape': (4,), }", "quoted string"},
        {"'descr': '<f4', 'fortran_order': False, 'shape': (4,)", "'{'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "npy_bad_shape_%zu.npy", i);
        expect_read_error(write_dict(name, cases[i].dict, 16), IRV2_ERR_FORMAT, cases[i].mention);
    }
}

static void test_too_many_dims(void **state)
{
    (void)state;
    const char *path = write_dict(
        "npy_nine_dims.npy",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 4), }", 16);
    expect_read_error(path, IRV2_ERR_SHAPE, NULL);
}

static void test_shape_overflow(void **state)
{
    (void)state;
    /* 2^32 x 2^32 elements wraps to 0 in 64 bits, which would match an empty data section */
    const char *path = write_dict(
        "npy_overflow.npy",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", 0);
    expect_read_error(path, IRV2_ERR_SHAPE, NULL);
}

/* ---- writing failures ---------------------------------------------------------------------- */

static void test_write_into_missing_directory(void **state)
{
    (void)state;
    const char *path = test_tmp_path("npy_no_such_dir/out.npy");
    const uint64_t shape[1] = {2};
    const float values[2] = {1, 2};
    assert_int_equal(irv2_npy_write(path, 1, shape, values), IRV2_ERR_IO);
    assert_non_null(strstr(irv2_last_error(), path));
    assert_false(test_file_exists(path));
    assert_false(test_file_exists(test_tmp_path("npy_no_such_dir")));
}

static void test_write_rejects_bad_arguments(void **state)
{
    (void)state;
    const char *path = test_tmp_path("npy_bad_args.npy");
    remove(path);
    const uint64_t shape[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    const float values[1] = {0};
    assert_int_equal(irv2_npy_write(path, 9, shape, values), IRV2_ERR_INVALID_ARGUMENT);
    assert_int_equal(irv2_npy_write(path, 1, shape, NULL), IRV2_ERR_INVALID_ARGUMENT);
    assert_false(test_file_exists(path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_4d),
        cmocka_unit_test(test_round_trip_1d),
        cmocka_unit_test(test_round_trip_0d),
        cmocka_unit_test(test_round_trip_empty),
        cmocka_unit_test(test_overwrite_existing),
        cmocka_unit_test(test_numpy_v1),
        cmocka_unit_test(test_numpy_v2_keys_reordered),
        cmocka_unit_test(test_numpy_v3_scalar),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_bad_version),
        cmocka_unit_test(test_truncated_header),
        cmocka_unit_test(test_truncated_data),
        cmocka_unit_test(test_trailing_data),
        cmocka_unit_test(test_float64_dtype),
        cmocka_unit_test(test_fortran_order),
        cmocka_unit_test(test_bad_shape_syntax),
        cmocka_unit_test(test_too_many_dims),
        cmocka_unit_test(test_shape_overflow),
        cmocka_unit_test(test_write_into_missing_directory),
        cmocka_unit_test(test_write_rejects_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
