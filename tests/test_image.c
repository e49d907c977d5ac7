/* test_image.c: image decoding (PNG and JPEG variants, bad files), the preprocessing against
 * PIL goldens (tests/data/images, made by tools/preprocess_reference.py) and the crop boxes
 * of the 1-, 10- and 144-crop protocols. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "irv2.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#define S IRV2_INPUT_SIZE
#define PLANE ((size_t)S * S)
/* PIL rounds to uint8 after each resampling pass and so does irv2, with the same fixed-point
 * taps, so the result should be bit-identical; the tolerance allows one uint8 step (2/255 in
 * the [-1, 1] scale) in case a platform's libm rounds a tap's double differently. */
#define TOLERANCE (2.0 / 255.0 + 1e-6)

static char *copy_path(const char *p)
{
    char *s = strdup(p);
    assert_non_null(s);
    return s;
}

/* ---- Goldens from PIL ------------------------------------------------------------------- */

static void compare_crop(const float *got, const irv2_image *want, const char *what,
                         double *worst)
{
    assert_int_equal(want->width, S);
    assert_int_equal(want->height, S);
    double max = 0;
    size_t off = 0;
    for (size_t i = 0; i < PLANE; i++)
        for (size_t c = 0; c < 3; c++) {
            float ref = ((float)want->pixels[i * 3 + c] / 255.0f - 0.5f) / 0.5f;
            double d = fabs((double)got[c * PLANE + i] - ref);
            if (d > max) max = d;
            if (d > 1e-7) off++;
        }
    print_message("  %-34s max |diff| %.6f (%zu of %zu values differ)\n", what, max, off,
                  3 * PLANE);
    if (max > *worst) *worst = max;
    assert_true(max <= TOLERANCE);
}

static void test_goldens(void **state)
{
    (void)state;
    FILE *f = fopen(test_data_path("images/golden.txt"), "r");
    assert_non_null(f);
    float *out = malloc(3 * PLANE * sizeof(float));
    assert_non_null(out);
    char line[512], in_name[128], gold_name[128], kind[16];
    int cases = 0;
    double worst = 0;
    while (fgets(line, sizeof line, f)) {
        irv2_crop_box box;
        if (line[0] == '#') continue;
        assert_int_equal(sscanf(line, "%127s %127s %15s %u %u %u %u %u", in_name, gold_name, kind,
                                &box.scale, &box.x, &box.y, &box.size, &box.mirror),
                         8);
        char in_rel[160], gold_rel[160];
        snprintf(in_rel, sizeof in_rel, "images/%s", in_name);
        snprintf(gold_rel, sizeof gold_rel, "images/%s", gold_name);
        irv2_image img, want;
        char *in_path = copy_path(test_data_path(in_rel));
        assert_int_equal(irv2_image_load(in_path, &img), IRV2_OK);
        assert_int_equal(irv2_image_load(test_data_path(gold_rel), &want), IRV2_OK);
        if (strcmp(kind, "decode") == 0) {
            assert_int_equal(img.width, want.width);
            assert_int_equal(img.height, want.height);
            int max = 0;
            for (size_t i = 0; i < (size_t)img.width * img.height * 3; i++) {
                int d = abs((int)img.pixels[i] - (int)want.pixels[i]);
                if (d > max) max = d;
            }
            print_message("  %-34s max |diff| %d (uint8)\n", gold_name, max);
            assert_int_equal(max, 0);
        } else if (strcmp(kind, "tf") == 0) {
            irv2_crop_box boxes[IRV2_MAX_CROPS];
            unsigned n;
            assert_int_equal(irv2_crop_boxes(img.width, img.height, 1, boxes, &n), IRV2_OK);
            assert_int_equal(n, 1);
            assert_memory_equal(&boxes[0], &box, sizeof box);
            assert_int_equal(irv2_image_preprocess(&img, out), IRV2_OK);
            compare_crop(out, &want, gold_name, &worst);
        } else {
            assert_int_equal(irv2_image_crop(&img, &box, out), IRV2_OK);
            compare_crop(out, &want, gold_name, &worst);
        }
        irv2_image_free(&img);
        irv2_image_free(&want);
        free(in_path);
        cases++;
    }
    fclose(f);
    free(out);
    print_message("  %d goldens, worst max |diff| %.6f in the [-1, 1] scale\n", cases, worst);
    assert_true(cases >= 10);
}

/* ---- Crop boxes ------------------------------------------------------------------------- */

static void test_boxes_match_reference(void **state)
{
    (void)state;
    FILE *f = fopen(test_data_path("images/boxes.txt"), "r");
    assert_non_null(f);
    char line[256];
    unsigned lines = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned w, h, crops, i;
        irv2_crop_box want, boxes[IRV2_MAX_CROPS];
        if (line[0] == '#') continue;
        assert_int_equal(sscanf(line, "%u %u %u %u %u %u %u %u %u", &w, &h, &crops, &i,
                                &want.scale, &want.x, &want.y, &want.size, &want.mirror),
                         9);
        unsigned n;
        assert_int_equal(irv2_crop_boxes(w, h, crops, boxes, &n), IRV2_OK);
        assert_int_equal(n, crops);
        assert_memory_equal(&boxes[i], &want, sizeof want);
        lines++;
    }
    fclose(f);
    assert_int_equal(lines, 2 * (10 + 144));
}

/* The 144 crops' structure, independent of the reference file. */
static void check_144(unsigned w, unsigned h)
{
    static const unsigned scales[4] = {342, 384, 427, 470};
    irv2_crop_box b[IRV2_MAX_CROPS];
    unsigned n;
    assert_int_equal(irv2_crop_boxes(w, h, 144, b, &n), IRV2_OK);
    assert_int_equal(n, 144);
    for (unsigned si = 0; si < 4; si++) {
        unsigned s = scales[si];
        unsigned rw = w <= h ? s : (unsigned)((uint64_t)s * w / h);
        unsigned rh = w <= h ? (unsigned)((uint64_t)s * h / w) : s;
        unsigned along = (rw > rh ? rw : rh) - s;
        for (unsigned q = 0; q < 3; q++) {
            const irv2_crop_box *sq = &b[si * 36 + q * 12];
            unsigned off = rw >= rh ? sq->x : sq->y;
            assert_int_equal(rw >= rh ? sq->y : sq->x, 0);
            if (q == 0) assert_int_equal(off, 0);
            if (q == 1)
                assert_true(off * 2 == along || off * 2 == along + 1 || off * 2 + 1 == along);
            if (q == 2) assert_int_equal(off, along);
            for (unsigned k = 0; k < 12; k++) {
                const irv2_crop_box *c = &sq[k];
                assert_int_equal(c->scale, s);
                assert_int_equal(c->mirror, k % 2);
                if (k % 2) {
                    irv2_crop_box m = *c;
                    m.mirror = 0;
                    assert_memory_equal(&m, &c[-1], sizeof m);
                }
                unsigned kind = k / 2, e = s - S;
                assert_int_equal(c->size, kind == 5 ? s : S);
                unsigned dx = c->x - sq->x, dy = c->y - sq->y;
                if (kind < 4) {
                    assert_int_equal(dx, kind % 2 ? e : 0);
                    assert_int_equal(dy, kind / 2 ? e : 0);
                } else if (kind == 4) {
                    assert_true(dx == dy && (dx * 2 == e || dx * 2 + 1 == e || dx * 2 == e + 1));
                } else {
                    assert_int_equal(dx, 0);
                    assert_int_equal(dy, 0);
                }
                assert_true(c->x + c->size <= rw && c->y + c->size <= rh);
            }
        }
    }
}

static void test_boxes_144(void **state)
{
    (void)state;
    check_144(500, 375); /* landscape: left, centre, right squares */
    check_144(375, 500); /* portrait: top, centre, bottom */
    check_144(640, 640);
    check_144(37, 2000);
}

static void test_boxes_1_and_10(void **state)
{
    (void)state;
    irv2_crop_box b[IRV2_MAX_CROPS];
    unsigned n;
    assert_int_equal(irv2_crop_boxes(500, 375, 1, b, &n), IRV2_OK);
    assert_int_equal(n, 1);
    /* 444 x 333: (444 - 299) / 2 = 72.5 rounds to even 72, as Python's round() */
    assert_int_equal(b[0].scale, 333);
    assert_int_equal(b[0].x, 72);
    assert_int_equal(b[0].y, 17);
    assert_int_equal(b[0].size, 299);
    assert_int_equal(irv2_crop_boxes(500, 375, 10, b, &n), IRV2_OK);
    assert_int_equal(n, 10);
    const unsigned xy[5][2] = {{0, 0}, {145, 0}, {0, 34}, {145, 34}, {72, 17}};
    for (unsigned i = 0; i < 10; i++) {
        assert_int_equal(b[i].scale, 333);
        assert_int_equal(b[i].size, 299);
        assert_int_equal(b[i].x, xy[i / 2][0]);
        assert_int_equal(b[i].y, xy[i / 2][1]);
        assert_int_equal(b[i].mirror, i % 2);
    }
    assert_int_equal(irv2_crop_boxes(500, 375, 5, b, &n), IRV2_ERR_INVALID_ARGUMENT);
    assert_int_equal(irv2_crop_boxes(0, 375, 1, b, &n), IRV2_ERR_INVALID_ARGUMENT);
    assert_int_equal(irv2_crop_boxes(1u << 26, 1, 1, b, &n), IRV2_ERR_SHAPE);
}

static void test_mirror(void **state)
{
    (void)state;
    irv2_image img = {320, 300, malloc(320 * 300 * 3)};
    assert_non_null(img.pixels);
    for (size_t i = 0; i < 320 * 300 * 3; i++) img.pixels[i] = (uint8_t)(i * 7 % 251);
    float *a = malloc(3 * PLANE * sizeof(float)), *m = malloc(3 * PLANE * sizeof(float));
    assert_non_null(a);
    assert_non_null(m);
    irv2_crop_box box = {333, 20, 10, 299, 0};
    assert_int_equal(irv2_image_crop(&img, &box, a), IRV2_OK);
    box.mirror = 1;
    assert_int_equal(irv2_image_crop(&img, &box, m), IRV2_OK);
    for (size_t c = 0; c < 3; c++)
        for (size_t y = 0; y < S; y++)
            for (size_t x = 0; x < S; x++)
                assert_true(a[c * PLANE + y * S + x] == m[c * PLANE + y * S + (S - 1 - x)]);
    box = (irv2_crop_box){333, 100, 0, 299, 0}; /* 355 x 333 resized: x + 299 > 355 */
    assert_int_equal(irv2_image_crop(&img, &box, a), IRV2_ERR_INVALID_ARGUMENT);
    free(a);
    free(m);
    free(img.pixels);
}

/* ---- Decoding --------------------------------------------------------------------------- */

/* Writes a PNG of the given type from rows of raw samples (big-endian when 16-bit). */
static const char *write_png(const char *name, unsigned w, unsigned h, int color, int depth,
                             const uint8_t *data, const png_color *palette, int npalette,
                             int interlace)
{
    const char *path = test_tmp_path(name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_non_null(png);
    assert_non_null(info);
    if (setjmp(png_jmpbuf(png))) fail_msg("libpng failed writing %s", path);
    png_init_io(png, f);
    png_set_IHDR(png, info, w, h, depth, color,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (palette) {
        png_set_PLTE(png, info, palette, npalette);
        png_byte trns[1] = {0};
        png_set_tRNS(png, info, trns, 1, NULL);
    }
    png_write_info(png, info);
    size_t stride = png_get_rowbytes(png, info);
    int passes = png_set_interlace_handling(png);
    for (int p = 0; p < passes; p++)
        for (unsigned y = 0; y < h; y++) png_write_row(png, data + y * stride);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    assert_int_equal(fclose(f), 0);
    return path;
}

static void load_ok(const char *path, unsigned w, unsigned h, irv2_image *img)
{
    irv2_status st = irv2_image_load(path, img);
    if (st != IRV2_OK) fail_msg("%s: %s", path, irv2_last_error());
    assert_int_equal(img->width, w);
    assert_int_equal(img->height, h);
}

static void test_png_types(void **state)
{
    (void)state;
    enum { W = 13, H = 7 };
    uint8_t data[W * H * 8];
    irv2_image img;
    for (int i = 0; i < W * H; i++) data[i] = (uint8_t)(i * 37);
    load_ok(write_png("gray8.png", W, H, PNG_COLOR_TYPE_GRAY, 8, data, NULL, 0, 0), W, H, &img);
    for (int i = 0; i < W * H; i++)
        for (int c = 0; c < 3; c++) assert_int_equal(img.pixels[i * 3 + c], (uint8_t)(i * 37));
    irv2_image_free(&img);
    assert_null(img.pixels);

    /* RGBA, interlaced: alpha dropped, colour kept whatever the alpha. */
    for (int i = 0; i < W * H * 4; i++) data[i] = (uint8_t)(i * 11 + 3);
    load_ok(write_png("rgba.png", W, H, PNG_COLOR_TYPE_RGBA, 8, data, NULL, 0, 1), W, H, &img);
    for (int i = 0; i < W * H; i++)
        for (int c = 0; c < 3; c++) assert_int_equal(img.pixels[i * 3 + c], data[i * 4 + c]);
    irv2_image_free(&img);

    /* Palette with a transparent entry 0: looked up, transparency ignored. */
    png_color pal[4] = {{10, 20, 30}, {200, 0, 100}, {0, 255, 0}, {7, 8, 9}};
    for (int i = 0; i < W * H; i++) data[i] = (uint8_t)(i % 4);
    load_ok(write_png("pal.png", W, H, PNG_COLOR_TYPE_PALETTE, 8, data, pal, 4, 0), W, H, &img);
    for (int i = 0; i < W * H; i++) {
        assert_int_equal(img.pixels[i * 3 + 0], pal[i % 4].red);
        assert_int_equal(img.pixels[i * 3 + 1], pal[i % 4].green);
        assert_int_equal(img.pixels[i * 3 + 2], pal[i % 4].blue);
    }
    irv2_image_free(&img);

    /* 16-bit grey and RGB: the high byte of each big-endian sample. */
    for (int i = 0; i < W * H * 2; i++) data[i] = (uint8_t)(i * 29 + 1);
    load_ok(write_png("gray16.png", W, H, PNG_COLOR_TYPE_GRAY, 16, data, NULL, 0, 0), W, H, &img);
    for (int i = 0; i < W * H; i++) assert_int_equal(img.pixels[i * 3 + 1], data[i * 2]);
    irv2_image_free(&img);
    for (int i = 0; i < W * H * 6; i++) data[i] = (uint8_t)(i * 29 + 1);
    load_ok(write_png("rgb16.png", W, H, PNG_COLOR_TYPE_RGB, 16, data, NULL, 0, 0), W, H, &img);
    for (int i = 0; i < W * H * 3; i++) assert_int_equal(img.pixels[i], data[i * 2]);
    irv2_image_free(&img);

    /* 1-bit grey: 0 and 255, rows padded to bytes. */
    memset(data, 0, sizeof data);
    for (int y = 0; y < H; y++) data[y * 2] = 0xA5, data[y * 2 + 1] = 0xF8;
    load_ok(write_png("gray1.png", W, H, PNG_COLOR_TYPE_GRAY, 1, data, NULL, 0, 0), W, H, &img);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int bit = (data[y * 2 + x / 8] >> (7 - x % 8)) & 1;
            assert_int_equal(img.pixels[(y * W + x) * 3 + 2], bit ? 255 : 0);
        }
    irv2_image_free(&img);
}

/* Encodes w x h samples (3 or 1 per pixel) as a JPEG file. */
static const char *write_jpeg(const char *name, unsigned w, unsigned h, int components,
                              const uint8_t *data, int quality, int progressive)
{
    const char *path = test_tmp_path(name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr err;
    ci.err = jpeg_std_error(&err);
    jpeg_create_compress(&ci);
    jpeg_stdio_dest(&ci, f);
    ci.image_width = w, ci.image_height = h, ci.input_components = components;
    ci.in_color_space = components == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, quality, TRUE);
    if (progressive) jpeg_simple_progression(&ci);
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < h) {
        JSAMPROW row = (JSAMPROW)(data + (size_t)ci.next_scanline * w * components);
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    assert_int_equal(fclose(f), 0);
    return path;
}

static void test_jpeg_types(void **state)
{
    (void)state;
    enum { W = 48, H = 40 };
    static uint8_t rgb[W * H * 3], gray[W * H];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = rgb + (y * W + x) * 3;
            p[0] = (uint8_t)(40 + x * 3), p[1] = (uint8_t)(200 - y * 3);
            p[2] = (uint8_t)(60 + x + y);
            gray[y * W + x] = (uint8_t)(30 + 2 * x + y);
        }
    irv2_image base, prog, g;
    load_ok(write_jpeg("base.jpg", W, H, 3, rgb, 98, 0), W, H, &base);
    load_ok(write_jpeg("prog.jpg", W, H, 3, rgb, 98, 1), W, H, &prog);
    load_ok(write_jpeg("gray.jpg", W, H, 1, gray, 98, 0), W, H, &g);
    int max = 0, max_gray = 0;
    for (int i = 0; i < W * H * 3; i++) {
        int d = abs((int)base.pixels[i] - (int)rgb[i]);
        if (d > max) max = d;
    }
    for (int i = 0; i < W * H; i++) {
        int d = abs((int)g.pixels[i * 3] - (int)gray[i]);
        if (d > max_gray) max_gray = d;
        assert_int_equal(g.pixels[i * 3], g.pixels[i * 3 + 1]);
        assert_int_equal(g.pixels[i * 3], g.pixels[i * 3 + 2]);
    }
    print_message("  baseline JPEG max |diff| %d, grey %d (uint8, lossy)\n", max, max_gray);
    assert_true(max <= 8);
    assert_true(max_gray <= 3);
    /* Same quantisation: the progressive file decodes to the same coefficients and pixels. */
    assert_memory_equal(base.pixels, prog.pixels, (size_t)W * H * 3);
    irv2_image_free(&base);
    irv2_image_free(&prog);
    irv2_image_free(&g);
}

/* ---- Bad files -------------------------------------------------------------------------- */

static uint32_t crc32_png(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

static size_t put_chunk(uint8_t *dst, const char *type, const uint8_t *data, uint32_t len)
{
    dst[0] = (uint8_t)(len >> 24), dst[1] = (uint8_t)(len >> 16), dst[2] = (uint8_t)(len >> 8);
    dst[3] = (uint8_t)len;
    memcpy(dst + 4, type, 4);
    if (len) memcpy(dst + 8, data, len);
    uint32_t crc = crc32_png(dst + 4, len + 4);
    for (int i = 0; i < 4; i++) dst[8 + len + i] = (uint8_t)(crc >> (24 - 8 * i));
    return 12 + len;
}

/* Signature, an IHDR claiming w x h RGB 8-bit, a small IDAT, IEND: a valid CRC everywhere. */
static const char *write_png_header(const char *name, uint32_t w, uint32_t h)
{
    uint8_t buf[128], ihdr[13] = {0}, idat[8] = {0x78, 0x9c, 0x03, 0, 0, 0, 0, 1};
    for (int i = 0; i < 4; i++) {
        ihdr[i] = (uint8_t)(w >> (24 - 8 * i));
        ihdr[4 + i] = (uint8_t)(h >> (24 - 8 * i));
    }
    ihdr[8] = 8, ihdr[9] = 2;
    size_t n = 8;
    memcpy(buf, "\x89PNG\r\n\x1a\n", 8);
    n += put_chunk(buf + n, "IHDR", ihdr, 13);
    n += put_chunk(buf + n, "IDAT", idat, 8);
    n += put_chunk(buf + n, "IEND", NULL, 0);
    const char *path = test_tmp_path(name);
    assert_int_equal(test_write_file(path, buf, n), 0);
    return path;
}

static const char *write_bytes(const char *name, const void *data, size_t n)
{
    const char *path = test_tmp_path(name);
    assert_int_equal(test_write_file(path, data, n), 0);
    return path;
}

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t buf[1 << 16];
    *n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return buf;
}

static void expect_bad(const char *path_in, irv2_status want, const char *mention)
{
    char *path = copy_path(path_in);
    irv2_image img = {1, 1, (uint8_t *)path}; /* must come back zeroed */
    irv2_status st = irv2_image_load(path, &img);
    print_message("  %s -> %s: %s\n", strrchr(path, '/') + 1, irv2_status_string(st),
                  irv2_last_error());
    assert_int_equal(st, want);
    assert_null(img.pixels);
    assert_int_equal(img.width, 0);
    assert_non_null(strstr(irv2_last_error(), path));
    if (mention) assert_non_null(strstr(irv2_last_error(), mention));
    free(path);
}

static void test_bad_files(void **state)
{
    (void)state;
    enum { W = 64, H = 64 };
    static uint8_t px[W * H * 3];
    for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 13 ^ (i >> 7));
    size_t n;
    uint8_t *jpg = read_file(write_jpeg("good.jpg", W, H, 3, px, 90, 0), &n);
    expect_bad(write_bytes("trunc.jpg", jpg, n * 6 / 10), IRV2_ERR_FORMAT, "truncated");
    expect_bad(write_bytes("header_only.jpg", jpg, 200), IRV2_ERR_FORMAT, "JPEG");
    /* The same JPEG with SOF0 claiming 65500 x 65500 pixels. */
    for (size_t i = 2; i + 8 < n; i++)
        if (jpg[i] == 0xFF && jpg[i + 1] == 0xC0) {
            jpg[i + 5] = jpg[i + 7] = 0xFF, jpg[i + 6] = jpg[i + 8] = 0xDC;
            break;
        }
    expect_bad(write_bytes("huge.jpg", jpg, n), IRV2_ERR_SHAPE, "65500 x 65500");
    uint8_t *pj = read_file(write_jpeg("goodp.jpg", W, H, 3, px, 90, 1), &n);
    expect_bad(write_bytes("trunc_prog.jpg", pj, n / 2), IRV2_ERR_FORMAT, "truncated");

    const char *good_png = write_png("good.png", W, H, PNG_COLOR_TYPE_RGB, 8, px, NULL, 0, 0);
    uint8_t *png = read_file(good_png, &n);
    expect_bad(write_bytes("trunc.png", png, n / 2), IRV2_ERR_FORMAT, "PNG");
    expect_bad(write_png_header("zero.png", 0, 0), IRV2_ERR_FORMAT, NULL);
    expect_bad(write_png_header("huge.png", 100000, 100000), IRV2_ERR_SHAPE, "100000 x 100000");

    uint8_t noise[4096];
    for (size_t i = 0; i < sizeof noise; i++) noise[i] = (uint8_t)((i * 2654435761u) >> 13);
    expect_bad(write_bytes("noise.bin", noise, sizeof noise), IRV2_ERR_FORMAT, "not a JPEG or PNG");
    noise[0] = 0xFF, noise[1] = 0xD8, noise[2] = 0xFF; /* JPEG magic, then garbage */
    expect_bad(write_bytes("noise.jpg", noise, sizeof noise), IRV2_ERR_FORMAT, NULL);
    memcpy(noise, "\x89PNG\r\n\x1a\n", 8);
    expect_bad(write_bytes("noise.png", noise, sizeof noise), IRV2_ERR_FORMAT, NULL);
    expect_bad(write_bytes("empty.jpg", "", 0), IRV2_ERR_FORMAT, "empty");
    const char *text = "this is not an image\n";
    expect_bad(write_bytes("text.jpg", text, strlen(text)), IRV2_ERR_FORMAT, "not a JPEG or PNG");
    expect_bad(test_tmp_path("no_such_file.png"), IRV2_ERR_IO, "cannot open");
    expect_bad(test_tmp_path(""), IRV2_ERR_IO, NULL); /* the scratch directory itself */

    irv2_image img = {0};
    float out[4];
    assert_int_equal(irv2_image_load(NULL, &img), IRV2_ERR_INVALID_ARGUMENT);
    assert_int_equal(irv2_image_preprocess(&img, out), IRV2_ERR_INVALID_ARGUMENT);
    irv2_image_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_goldens),
        cmocka_unit_test(test_boxes_match_reference),
        cmocka_unit_test(test_boxes_144),
        cmocka_unit_test(test_boxes_1_and_10),
        cmocka_unit_test(test_mirror),
        cmocka_unit_test(test_png_types),
        cmocka_unit_test(test_jpeg_types),
        cmocka_unit_test(test_bad_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
