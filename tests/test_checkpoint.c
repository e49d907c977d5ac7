/* test_checkpoint.c: safetensors opening, validation and float32 conversion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "io/checkpoint.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One header entry, e.g. ENTRY("w", "F32", "[2]", "[0, 8]"). */
#define ENTRY(name, dtype, shape, offsets)                                                   \
    "\"" name "\": {\"dtype\": \"" dtype "\", \"shape\": " shape                         \
    ", \"data_offsets\": " offsets "}"

/* Writes an 8-byte little-endian header length, the header and the data; returns the path. */
static const char *write_safetensors(const char *name, const char *header, const void *data,
                                     size_t data_len)
{
    size_t header_len = strlen(header);
    size_t total = 8 + header_len + data_len;
    unsigned char *bytes = malloc(total);
    assert_non_null(bytes);
    for (int i = 0; i < 8; i++) bytes[i] = (unsigned char)((uint64_t)header_len >> (8 * i));
    memcpy(bytes + 8, header, header_len);
    if (data_len) memcpy(bytes + 8 + header_len, data, data_len);
    const char *path = test_tmp_path(name);
    assert_int_equal(test_write_file(path, bytes, total), 0);
    free(bytes);
    return path;
}

/* Opens path expecting failure with want; the message must name the file (and tensor). */
static void expect_open_error(const char *path, irv2_status want, const char *tensor)
{
    static max_align_t sentinel;
    checkpoint *ck = (checkpoint *)&sentinel; /* must be reset to NULL on failure */
    irv2_status st = checkpoint_open(path, &ck);
    const char *msg = irv2_last_error();
    print_message("  %s -> %s\n", irv2_status_string(st), msg);
    assert_int_equal(st, want);
    assert_null(ck);
    assert_non_null(strstr(msg, path));
    if (tensor) assert_non_null(strstr(msg, tensor));
}

static void expect_header_error(const char *name, const char *header, size_t data_len,
                                const char *tensor)
{
    unsigned char *zeros = calloc(data_len ? data_len : 1, 1);
    assert_non_null(zeros);
    const char *path = write_safetensors(name, header, zeros, data_len);
    free(zeros);
    expect_open_error(path, IRV2_ERR_FORMAT, tensor);
}

/* ---- a valid file ------------------------------------------------------------------------ */

static const char valid_header[] =
    "{\"__metadata__\": {\"format\": \"pt\"},"
    ENTRY("w32", "F32", "[2, 2]", "[0, 16]") ","
    ENTRY("h16", "F16", "[8]", "[16, 32]") ","
    ENTRY("b16", "BF16", "[1, 3]", "[32, 38]") ","
    ENTRY("steps", "I64", "[]", "[38, 46]") "}   ";

static const float w32_values[4] = {1.0f, -2.5f, 0.0f, 3.14159274f};
static const uint16_t h16_bits[8] = {0x3C00, 0xC000, 0x0001, 0x83FF,
                                     0x7BFF, 0x7C00, 0xFC00, 0x7E00};
static const uint16_t b16_bits[3] = {0x3F80, 0xC040, 0xBF00};

static void put_u16(unsigned char *dst, uint16_t v)
{
    dst[0] = (unsigned char)(v & 0xff);
    dst[1] = (unsigned char)(v >> 8);
}

static size_t build_valid_data(unsigned char data[46])
{
    for (int i = 0; i < 4; i++) {
        uint32_t bits;
        memcpy(&bits, &w32_values[i], 4);
        for (int b = 0; b < 4; b++) data[4 * i + b] = (unsigned char)(bits >> (8 * b));
    }
    for (int i = 0; i < 8; i++) put_u16(data + 16 + 2 * i, h16_bits[i]);
    for (int i = 0; i < 3; i++) put_u16(data + 32 + 2 * i, b16_bits[i]);
    for (int i = 0; i < 8; i++) data[38 + i] = (unsigned char)(i == 0 ? 7 : 0);
    return 46;
}

static const char *write_valid(const char *name)
{
    unsigned char data[46];
    size_t len = build_valid_data(data);
    return write_safetensors(name, valid_header, data, len);
}

static void test_valid_metadata(void **state)
{
    (void)state;
    const char *path = write_valid("ck_valid_meta.safetensors");
    checkpoint *ck = NULL;
    assert_int_equal(checkpoint_open(path, &ck), IRV2_OK);
    assert_non_null(ck);
    assert_string_equal(checkpoint_path(ck), path);
    assert_int_equal(checkpoint_count(ck), 4); /* __metadata__ is not a tensor */
    assert_null(checkpoint_find(ck, "__metadata__"));
    assert_null(checkpoint_find(ck, "absent"));
    assert_null(checkpoint_at(ck, 4));

    const ckpt_tensor *w = checkpoint_find(ck, "w32");
    assert_non_null(w);
    assert_int_equal(w->dtype, CKPT_F32);
    assert_string_equal(w->dtype_name, "F32");
    assert_int_equal(w->ndim, 2);
    assert_int_equal(w->shape[0], 2);
    assert_int_equal(w->shape[1], 2);
    assert_int_equal(w->begin, 0);
    assert_int_equal(w->end, 16);
    assert_int_equal(ckpt_tensor_numel(w), 4);

    const ckpt_tensor *s = checkpoint_find(ck, "steps");
    assert_non_null(s);
    assert_int_equal(s->dtype, CKPT_OTHER);
    assert_string_equal(s->dtype_name, "I64");
    assert_int_equal(s->ndim, 0);
    assert_int_equal(ckpt_tensor_numel(s), 1);

    assert_int_equal(checkpoint_find(ck, "h16")->dtype, CKPT_F16);
    assert_int_equal(checkpoint_find(ck, "b16")->dtype, CKPT_BF16);

    /* checkpoint_at walks the tensors in file order, and find agrees with it */
    uint64_t previous_end = 0;
    for (size_t i = 0; i < checkpoint_count(ck); i++) {
        const ckpt_tensor *t = checkpoint_at(ck, i);
        assert_true(t->begin >= previous_end);
        previous_end = t->end;
        assert_ptr_equal(checkpoint_find(ck, t->name), t);
    }
    checkpoint_close(ck);
}

static void test_read_f32(void **state)
{
    (void)state;
    checkpoint *ck = NULL;
    assert_int_equal(checkpoint_open(write_valid("ck_valid_f32.safetensors"), &ck), IRV2_OK);
    float out[4] = {0};
    assert_int_equal(checkpoint_read_f32(ck, checkpoint_find(ck, "w32"), out, 4), IRV2_OK);
    assert_memory_equal(out, w32_values, sizeof out);
    checkpoint_close(ck);
}

static void test_read_f16(void **state)
{
    (void)state;
    checkpoint *ck = NULL;
    assert_int_equal(checkpoint_open(write_valid("ck_valid_f16.safetensors"), &ck), IRV2_OK);
    float out[8];
    assert_int_equal(checkpoint_read_f32(ck, checkpoint_find(ck, "h16"), out, 8), IRV2_OK);
    assert_true(out[0] == 1.0f);
    assert_true(out[1] == -2.0f);
    assert_true(out[2] == 0x1p-24f);              /* smallest subnormal */
    assert_true(out[3] == -1023.0f * 0x1p-24f);   /* largest subnormal, negative */
    assert_true(out[4] == 65504.0f);              /* largest normal */
    assert_true(isinf(out[5]) && out[5] > 0);
    assert_true(isinf(out[6]) && out[6] < 0);
    assert_true(isnan(out[7]));
    checkpoint_close(ck);
}

static void test_read_bf16(void **state)
{
    (void)state;
    checkpoint *ck = NULL;
    assert_int_equal(checkpoint_open(write_valid("ck_valid_bf16.safetensors"), &ck), IRV2_OK);
    float out[3];
    assert_int_equal(checkpoint_read_f32(ck, checkpoint_find(ck, "b16"), out, 3), IRV2_OK);
    assert_true(out[0] == 1.0f);
    assert_true(out[1] == -3.0f);
    assert_true(out[2] == -0.5f);
    checkpoint_close(ck);
}

static void test_read_refuses_other_dtype(void **state)
{
    (void)state;
    const char *path = write_valid("ck_valid_i64.safetensors");
    checkpoint *ck = NULL;
    assert_int_equal(checkpoint_open(path, &ck), IRV2_OK);
    float out[1];
    assert_int_equal(checkpoint_read_f32(ck, checkpoint_find(ck, "steps"), out, 1),
                     IRV2_ERR_DTYPE);
    assert_non_null(strstr(irv2_last_error(), path));
    assert_non_null(strstr(irv2_last_error(), "'steps'"));
    assert_non_null(strstr(irv2_last_error(), "I64"));
    checkpoint_close(ck);
}

static void test_read_refuses_count_mismatch(void **state)
{
    (void)state;
    const char *path = write_valid("ck_valid_count.safetensors");
    checkpoint *ck = NULL;
    assert_int_equal(checkpoint_open(path, &ck), IRV2_OK);
    float out[5];
    assert_int_equal(checkpoint_read_f32(ck, checkpoint_find(ck, "w32"), out, 5), IRV2_ERR_SHAPE);
    assert_non_null(strstr(irv2_last_error(), path));
    assert_non_null(strstr(irv2_last_error(), "'w32'"));
    assert_int_equal(checkpoint_read_f32(ck, checkpoint_find(ck, "w32"), out, 3), IRV2_ERR_SHAPE);
    checkpoint_close(ck);
}

static void test_large_f16_spans_chunks(void **state)
{
    (void)state;
    enum { N = 100000 }; /* more than one conversion chunk */
    unsigned char *data = malloc(2 * N);
    float *out = malloc(N * sizeof *out);
    assert_non_null(data);
    assert_non_null(out);
    for (int i = 0; i < N; i++) put_u16(data + 2 * i, (uint16_t)(i % 2048)); /* 0..2047 ulps */
    char header[160];
    snprintf(header, sizeof header,
             "{" ENTRY("big", "F16", "[%d]", "[0, %d]") "}", N,
             2 * N);
    checkpoint *ck = NULL;
    assert_int_equal(
        checkpoint_open(write_safetensors("ck_big.safetensors", header, data, 2 * N), &ck),
        IRV2_OK);
    assert_int_equal(checkpoint_read_f32(ck, checkpoint_find(ck, "big"), out, N), IRV2_OK);
    for (int i = 0; i < N; i++) {
        int bits = i % 2048; /* exponent 0 or 1: subnormals, then normals from 2^-14 */
        float want = bits < 1024 ? (float)bits * 0x1p-24f
                                 : (1.0f + (float)(bits - 1024) / 1024.0f) * 0x1p-14f;
        if (out[i] != want) fail_msg("element %d: %g != %g", i, out[i], want);
    }
    checkpoint_close(ck);
    free(out);
    free(data);
}

static void test_empty_header_object(void **state)
{
    (void)state;
    checkpoint *ck = NULL;
    assert_int_equal(checkpoint_open(write_safetensors("ck_none.safetensors", "{}", NULL, 0), &ck),
                     IRV2_OK);
    assert_int_equal(checkpoint_count(ck), 0);
    assert_null(checkpoint_find(ck, "x"));
    checkpoint_close(ck);
}

/* ---- file-level errors ------------------------------------------------------------------- */

static void test_missing_file(void **state)
{
    (void)state;
    expect_open_error(test_tmp_path("ck_does_not_exist.safetensors"), IRV2_ERR_IO, NULL);
}

static void test_empty_file(void **state)
{
    (void)state;
    const char *path = test_tmp_path("ck_empty.safetensors");
    assert_int_equal(test_write_file(path, "", 0), 0);
    expect_open_error(path, IRV2_ERR_FORMAT, NULL);
}

static void test_four_byte_file(void **state)
{
    (void)state;
    const char *path = test_tmp_path("ck_four.safetensors");
    assert_int_equal(test_write_file(path, "\x02\0\0\0", 4), 0);
    expect_open_error(path, IRV2_ERR_FORMAT, NULL);
}

static void test_header_longer_than_file(void **state)
{
    (void)state;
    const char *path = test_tmp_path("ck_long_header.safetensors");
    unsigned char bytes[10] = {0xe8, 0x03, 0, 0, 0, 0, 0, 0, '{', '}'}; /* claims 1000 bytes */
    assert_int_equal(test_write_file(path, bytes, sizeof bytes), 0);
    expect_open_error(path, IRV2_ERR_FORMAT, NULL);
}

static void test_huge_header_length(void **state)
{
    (void)state;
    const char *path = test_tmp_path("ck_huge_header.safetensors");
    unsigned char bytes[10] = {0, 0, 0, 0, 0, 0, 0, 0x80, '{', '}'}; /* 2^63 */
    assert_int_equal(test_write_file(path, bytes, sizeof bytes), 0);
    expect_open_error(path, IRV2_ERR_FORMAT, NULL);
}

/* An image given as weights: named as not a safetensors file, not as a header length. */
static void test_not_safetensors(void **state)
{
    (void)state;
    const char *path = test_tmp_path("ck_photo.jpg");
    const unsigned char jpeg[16] = {0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1};
    assert_int_equal(test_write_file(path, jpeg, sizeof jpeg), 0);
    expect_open_error(path, IRV2_ERR_FORMAT, "not a safetensors file");
}

static void test_header_not_json(void **state)
{
    (void)state;
    expect_header_error("ck_not_json.safetensors", "{\"a\": {\"dtype\": ", 0, NULL);
}

static void test_header_json_array(void **state)
{
    (void)state;
    expect_header_error("ck_array.safetensors", "[1, 2, 3]", 0, NULL);
}

static void test_duplicate_names(void **state)
{
    (void)state;
    expect_header_error("ck_dup.safetensors",
                        "{" ENTRY("t", "F32", "[1]", "[0, 4]") ","
                        ENTRY("t", "F32", "[1]", "[4, 8]") "}",
                        8, NULL);
}

/* ---- entry-level errors: every message names the tensor ---------------------------------- */

static void test_entry_not_object(void **state)
{
    (void)state;
    expect_header_error("ck_entry_str.safetensors", "{\"odd\": \"F32\"}", 0, "odd");
}

static void test_missing_dtype(void **state)
{
    (void)state;
    expect_header_error("ck_no_dtype.safetensors",
                        "{\"t_nodtype\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4,
                        "t_nodtype");
}

static void test_dtype_not_string(void **state)
{
    (void)state;
    expect_header_error("ck_dtype_num.safetensors",
                        "{\"t_numdtype\": {\"dtype\": 4, \"shape\": [1],"
                        " \"data_offsets\": [0, 4]}}",
                        4, "t_numdtype");
}

static void test_missing_shape(void **state)
{
    (void)state;
    expect_header_error("ck_no_shape.safetensors",
                        "{\"t_noshape\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", 4,
                        "t_noshape");
}

static void test_missing_offsets(void **state)
{
    (void)state;
    expect_header_error("ck_no_offsets.safetensors",
                        "{\"t_nooffs\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4, "t_nooffs");
}

static void test_negative_shape(void **state)
{
    (void)state;
    expect_header_error("ck_neg_shape.safetensors",
                        "{" ENTRY("t_neg", "F32", "[-1]", "[0, 4]") "}",
                        4, "t_neg");
}

static void test_fractional_shape(void **state)
{
    (void)state;
    expect_header_error("ck_frac_shape.safetensors",
                        "{" ENTRY("t_frac", "F32", "[1.5]", "[0, 4]") "}",
                        4, "t_frac");
}

static void test_string_shape(void **state)
{
    (void)state;
    expect_header_error("ck_str_shape.safetensors",
                        "{" ENTRY("t_strdim", "F32", "[\"1\"]", "[0, 4]") "}",
                        4, "t_strdim");
}

static void test_too_many_dims(void **state)
{
    (void)state;
    expect_header_error("ck_nine_dims.safetensors",
                        "{" ENTRY("t_nine", "F32", "[1, 1, 1, 1, 1, 1, 1, 1, 1]", "[0, 4]") "}",
                        4, "t_nine");
}

static void test_shape_product_overflow(void **state)
{
    (void)state;
    /* 2^32 * 2^32 * 16 wraps to 0 in 64 bits, which would match empty offsets */
    expect_header_error("ck_overflow.safetensors",
                        "{" ENTRY("t_wrap", "F32", "[4294967296, 4294967296, 16]", "[0, 0]") "}",
                        0, "t_wrap");
    /* 2^62 elements fit, but 2^62 x 4 bytes does not */
    expect_header_error("ck_overflow_bytes.safetensors",
                        "{" ENTRY("t_wrapb", "F32", "[4611686018427387904]", "[0, 0]") "}",
                        0, "t_wrapb");
}

static void test_offsets_past_end(void **state)
{
    (void)state;
    expect_header_error("ck_past_end.safetensors",
                        "{" ENTRY("t_past", "F32", "[2]", "[0, 8]") "}",
                        4, "t_past");
}

static void test_offsets_disagree_with_shape(void **state)
{
    (void)state;
    expect_header_error("ck_disagree.safetensors",
                        "{" ENTRY("t_size", "F32", "[2]", "[0, 4]") "}",
                        8, "t_size");
    /* sizes are checked for dtypes that are never read, too */
    expect_header_error("ck_disagree_i64.safetensors",
                        "{" ENTRY("t_size64", "I64", "[2]", "[0, 8]") "}",
                        16, "t_size64");
}

static void test_offsets_malformed(void **state)
{
    (void)state;
    expect_header_error("ck_offs_one.safetensors",
                        "{" ENTRY("t_one", "F32", "[1]", "[4]") "}",
                        4, "t_one");
    expect_header_error("ck_offs_neg.safetensors",
                        "{" ENTRY("t_negoff", "F32", "[1]", "[-4, 0]") "}",
                        4, "t_negoff");
}

static void test_overlapping_tensors(void **state)
{
    (void)state;
    expect_header_error("ck_overlap.safetensors",
                        "{" ENTRY("first", "F32", "[2]", "[0, 8]") ","
                        ENTRY("second", "F32", "[2]", "[4, 12]") "}",
                        12, "second");
    /* a range nested inside a longer one that starts earlier */
    expect_header_error("ck_nested.safetensors",
                        "{" ENTRY("outer", "F32", "[4]", "[0, 16]") ","
                        ENTRY("mid", "F32", "[1]", "[4, 8]") ","
                        ENTRY("inner", "F32", "[1]", "[8, 12]") "}",
                        16, "outer");
}

static void test_empty_tensor_does_not_overlap(void **state)
{
    (void)state;
    checkpoint *ck = NULL;
    unsigned char data[8] = {0};
    const char *path = write_safetensors(
        "ck_empty_tensor.safetensors",
        "{" ENTRY("a", "F32", "[2]", "[0, 8]") ","
        ENTRY("e", "F32", "[0, 3]", "[4, 4]") "}",
        data, sizeof data);
    assert_int_equal(checkpoint_open(path, &ck), IRV2_OK);
    assert_int_equal(checkpoint_count(ck), 2);
    assert_int_equal(checkpoint_read_f32(ck, checkpoint_find(ck, "e"), NULL, 0), IRV2_OK);
    checkpoint_close(ck);
}

static void test_unknown_dtype(void **state)
{
    (void)state;
    /* an unknown but short dtype opens (its size cannot be checked) and is refused on read */
    unsigned char data[3] = {0};
    const char *path = write_safetensors(
        "ck_unknown_dtype.safetensors",
        "{" ENTRY("odd", "C64X", "[1]", "[0, 3]") "}", data,
        sizeof data);
    checkpoint *ck = NULL;
    assert_int_equal(checkpoint_open(path, &ck), IRV2_OK);
    const ckpt_tensor *t = checkpoint_find(ck, "odd");
    assert_int_equal(t->dtype, CKPT_OTHER);
    float out[1];
    assert_int_equal(checkpoint_read_f32(ck, t, out, 1), IRV2_ERR_DTYPE);
    assert_non_null(strstr(irv2_last_error(), "C64X"));
    assert_non_null(strstr(irv2_last_error(), "'odd'"));
    checkpoint_close(ck);
    /* a dtype name no safetensors writer produces is refused when opening */
    expect_header_error("ck_long_dtype.safetensors",
                        "{\"t_longdt\": {\"dtype\": \"FLOAT32_BUT_LONGER\", \"shape\": [1],"
                        " \"data_offsets\": [0, 4]}}",
                        4, "t_longdt");
}

static void test_begin_after_end(void **state)
{
    (void)state;
    expect_header_error("ck_backwards.safetensors",
                        "{" ENTRY("t_back", "F32", "[1]", "[8, 4]") "}",
                        8, "t_back");
}

static void test_truncated_data_section(void **state)
{
    (void)state;
    unsigned char data[46];
    build_valid_data(data);
    /* the whole header, but the data stops inside 'steps' */
    const char *path = write_safetensors("ck_truncated.safetensors", valid_header, data, 40);
    expect_open_error(path, IRV2_ERR_FORMAT, "steps");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_metadata),
        cmocka_unit_test(test_read_f32),
        cmocka_unit_test(test_read_f16),
        cmocka_unit_test(test_read_bf16),
        cmocka_unit_test(test_read_refuses_other_dtype),
        cmocka_unit_test(test_read_refuses_count_mismatch),
        cmocka_unit_test(test_large_f16_spans_chunks),
        cmocka_unit_test(test_empty_header_object),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_four_byte_file),
        cmocka_unit_test(test_header_longer_than_file),
        cmocka_unit_test(test_huge_header_length),
        cmocka_unit_test(test_not_safetensors),
        cmocka_unit_test(test_header_not_json),
        cmocka_unit_test(test_header_json_array),
        cmocka_unit_test(test_duplicate_names),
        cmocka_unit_test(test_entry_not_object),
        cmocka_unit_test(test_missing_dtype),
        cmocka_unit_test(test_dtype_not_string),
        cmocka_unit_test(test_missing_shape),
        cmocka_unit_test(test_missing_offsets),
        cmocka_unit_test(test_negative_shape),
        cmocka_unit_test(test_fractional_shape),
        cmocka_unit_test(test_string_shape),
        cmocka_unit_test(test_too_many_dims),
        cmocka_unit_test(test_shape_product_overflow),
        cmocka_unit_test(test_offsets_past_end),
        cmocka_unit_test(test_offsets_disagree_with_shape),
        cmocka_unit_test(test_offsets_malformed),
        cmocka_unit_test(test_overlapping_tensors),
        cmocka_unit_test(test_empty_tensor_does_not_overlap),
        cmocka_unit_test(test_unknown_dtype),
        cmocka_unit_test(test_begin_after_end),
        cmocka_unit_test(test_truncated_data_section),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
