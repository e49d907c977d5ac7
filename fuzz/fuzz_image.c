/* fuzz_image.c: libFuzzer target for the image decoders (host/io/image_jpeg.c: JPEG on libjpeg,
 * host/io/image_png.c: PNG on libpng) and the crop geometry and resampling behind them
 * (host/io/crop.c, host/io/resize.c).
 *  - irv2_image_load() on the input: a refusal must leave the image zeroed and come with a
 *    one-line message naming the file; a decoded image must be within IRV2_IMAGE_MAX_PIXELS,
 *    and all of its bytes readable (ASan checks the buffer's size);
 *  - for decoded images of up to 4 Mpixels, the single-crop preprocessing and the first and
 *    last of the 144 crops must succeed with every value in [-1, 1] (for inputs whose size is
 *    a multiple of 8 only: resampling three 299 x 299 crops takes ~30 ms under the sanitizers,
 *    thirty times the decoding, and would starve the decoders of inputs);
 *  - whatever the input, its first 8 bytes as a width and height: every crop box of the 1, 10
 *    and 144-crop protocols must lie inside the resized image, or the call must fail cleanly
 *    (this covers sizes no decoder would produce, up to 2^32 - 1). */
#include "fuzz_common.h"

#include "irv2.h"

#include <math.h>
#include <string.h>

#define PLANE (3u * IRV2_INPUT_SIZE * IRV2_INPUT_SIZE)

static float out[PLANE];

/* The resized size irv2_crop_boxes works in, computed independently (64-bit). */
static void resized(uint64_t w, uint64_t h, uint64_t scale, uint64_t *rw, uint64_t *rh)
{
    uint64_t s = w <= h ? w : h, l = w <= h ? h : w;
    *rw = w <= h ? scale : scale * l / s;
    *rh = w <= h ? scale * l / s : scale;
}

static void check_boxes(unsigned w, unsigned h)
{
    static const unsigned protocols[3] = {1, 10, 144};
    irv2_crop_box boxes[IRV2_MAX_CROPS];
    for (int p = 0; p < 3; p++) {
        unsigned n = 12345;
        irv2_status st = irv2_crop_boxes(w, h, protocols[p], boxes, &n);
        if (st != IRV2_OK) {
            FUZZ_CHECK(n == 0);
            FUZZ_CHECK(irv2_last_error()[0] != '\0');
            FUZZ_CHECK(w == 0 || h == 0 || st == IRV2_ERR_SHAPE);
            continue;
        }
        FUZZ_CHECK(n == protocols[p]);
        for (unsigned i = 0; i < n; i++) {
            const irv2_crop_box *b = &boxes[i];
            uint64_t rw, rh;
            resized(w, h, b->scale, &rw, &rh);
            FUZZ_CHECK(b->size == IRV2_INPUT_SIZE || b->size == b->scale);
            FUZZ_CHECK((uint64_t)b->x + b->size <= rw && (uint64_t)b->y + b->size <= rh);
            FUZZ_CHECK(b->mirror <= 1);
        }
    }
}

static void check_values(void)
{
    for (size_t i = 0; i < PLANE; i++) FUZZ_CHECK(out[i] >= -1.0f && out[i] <= 1.0f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 8) {
        uint32_t dims[2];
        memcpy(dims, data, 8);
        check_boxes(dims[0], dims[1]);
    }
    const char *path = fuzz_file(data, size);
    irv2_image img;
    memset(&img, 0xA5, sizeof img);
    irv2_status st = irv2_image_load(path, &img);
    if (st != IRV2_OK) {
        const char *msg = irv2_last_error();
        FUZZ_CHECK(img.width == 0 && img.height == 0 && img.pixels == NULL);
        FUZZ_CHECK(strstr(msg, path) == msg);
        FUZZ_CHECK(strchr(msg, '\n') == NULL);
        return 0;
    }
    uint64_t pixels = (uint64_t)img.width * img.height;
    FUZZ_CHECK(img.width > 0 && img.height > 0 && img.pixels != NULL);
    FUZZ_CHECK(pixels <= IRV2_IMAGE_MAX_PIXELS);
    unsigned sum = 0;
    for (uint64_t i = 0; i < pixels * 3; i++) sum += img.pixels[i];
    if (sum == 1u << 31) fprintf(stderr, "%u\n", sum); /* keep the reads */
    check_boxes(img.width, img.height);
    if (pixels <= 4u * 1024 * 1024 && size % 8 == 0) {
        FUZZ_CHECK(irv2_image_preprocess(&img, out) == IRV2_OK);
        check_values();
        irv2_crop_box boxes[IRV2_MAX_CROPS];
        unsigned n = 0;
        if (irv2_crop_boxes(img.width, img.height, 144, boxes, &n) == IRV2_OK) {
            FUZZ_CHECK(irv2_image_crop(&img, &boxes[0], out) == IRV2_OK);
            check_values();
            FUZZ_CHECK(irv2_image_crop(&img, &boxes[n - 1], out) == IRV2_OK);
            check_values();
        }
    }
    irv2_image_free(&img);
    FUZZ_CHECK(img.pixels == NULL);
    return 0;
}
