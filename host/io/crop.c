/* crop.c: the evaluation protocols' crop boxes (1, 10, 144) and turning a crop into the
 * network's normalised 3 x 299 x 299 input. */
#include "io/resize.h"

#include "runtime/error.h"

#include <stdlib.h>
#include <string.h>

#define SIZE IRV2_INPUT_SIZE
/* timm's scale size for a 299 crop at crop_pct 0.8975: floor(299 / 0.8975). */
#define TF_SCALE 333u
/* Resized images whose longer side would exceed this are refused (absurd aspect ratios). */
#define MAX_RESIZED_SIDE (1u << 24)
#define MAX_SCALE 8192u /* a square of 8192^2 is the 64-Mpixel image limit */

static const unsigned seed_scales[4] = {342, 384, 427, 470};

/* torchvision's Resize(int): shorter side -> scale, longer -> int(scale * long / short). The
 * product is an exact integer below 2^53 and the quotient cannot round up across an integer,
 * so integer division gives what Python's float division and int() give. */
static irv2_status resized_size(unsigned w, unsigned h, unsigned scale, unsigned *rw,
                                unsigned *rh)
{
    if (w == 0 || h == 0 || scale == 0 || scale > MAX_SCALE)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "crop: image %u x %u, scale %u", w, h, scale);
    unsigned s = w <= h ? w : h, l = w <= h ? h : w;
    uint64_t long_side = (uint64_t)scale * l / s;
    if (long_side > MAX_RESIZED_SIDE)
        return irv2_fail(IRV2_ERR_SHAPE,
                         "crop: a %u x %u image is too elongated to resize to shorter side %u", w,
                         h, scale);
    *rw = w <= h ? scale : (unsigned)long_side;
    *rh = w <= h ? (unsigned)long_side : scale;
    return IRV2_OK;
}

/* int(round(d / 2.0)) in Python (halves to even), as torchvision's center_crop offsets. */
static unsigned half_even(unsigned d)
{
    unsigned m = d / 2;
    return (d % 2 && m % 2) ? m + 1 : m;
}

static void push(irv2_crop_box *boxes, unsigned *n, unsigned scale, unsigned x, unsigned y,
                 unsigned size)
{
    for (unsigned mirror = 0; mirror < 2; mirror++)
        boxes[(*n)++] = (irv2_crop_box){scale, x, y, size, mirror};
}

irv2_status irv2_crop_boxes(unsigned width, unsigned height, unsigned crops, irv2_crop_box *boxes,
                            unsigned *count)
{
    irv2_clear_error();
    if (!boxes || !count) return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "crop boxes: NULL output");
    *count = 0;
    if (crops != 1 && crops != 10 && crops != 144)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "crop boxes: %u crops: use 1, 10 or 144",
                         crops);
    unsigned rw = 0, rh = 0, n = 0;
    if (crops == 1 || crops == 10) {
        irv2_status st = resized_size(width, height, TF_SCALE, &rw, &rh);
        if (st != IRV2_OK) return st;
        unsigned cx = half_even(rw - SIZE), cy = half_even(rh - SIZE);
        if (crops == 1) {
            boxes[n++] = (irv2_crop_box){TF_SCALE, cx, cy, SIZE, 0};
        } else {
            push(boxes, &n, TF_SCALE, 0, 0, SIZE);
            push(boxes, &n, TF_SCALE, rw - SIZE, 0, SIZE);
            push(boxes, &n, TF_SCALE, 0, rh - SIZE, SIZE);
            push(boxes, &n, TF_SCALE, rw - SIZE, rh - SIZE, SIZE);
            push(boxes, &n, TF_SCALE, cx, cy, SIZE);
        }
        *count = n;
        return IRV2_OK;
    }
    for (unsigned i = 0; i < 4; i++) {
        unsigned scale = seed_scales[i];
        irv2_status st = resized_size(width, height, scale, &rw, &rh);
        if (st != IRV2_OK) return st;
        /* Squares of side `scale` along the longer side: start, centre, end. */
        unsigned along = (rw >= rh ? rw : rh) - scale;
        unsigned offs[3] = {0, half_even(along), along};
        for (unsigned q = 0; q < 3; q++) {
            unsigned sx = rw >= rh ? offs[q] : 0, sy = rw >= rh ? 0 : offs[q];
            unsigned e = scale - SIZE, c = half_even(e);
            push(boxes, &n, scale, sx, sy, SIZE);
            push(boxes, &n, scale, sx + e, sy, SIZE);
            push(boxes, &n, scale, sx, sy + e, SIZE);
            push(boxes, &n, scale, sx + e, sy + e, SIZE);
            push(boxes, &n, scale, sx + c, sy + c, SIZE);
            push(boxes, &n, scale, sx, sy, scale);
        }
    }
    *count = n;
    return IRV2_OK;
}

/* 299 x 299 RGB bytes -> 3 x 299 x 299 floats as torchvision's ToTensor then
 * Normalize(0.5, 0.5) compute them in float32. */
static void to_chw(const uint8_t *rgb, int mirror, float *out)
{
    const size_t plane = (size_t)SIZE * SIZE;
    for (unsigned y = 0; y < SIZE; y++)
        for (unsigned x = 0; x < SIZE; x++) {
            unsigned sx = mirror ? SIZE - 1 - x : x;
            const uint8_t *p = rgb + ((size_t)y * SIZE + sx) * 3;
            for (unsigned c = 0; c < 3; c++)
                out[c * plane + (size_t)y * SIZE + x] = ((float)p[c] / 255.0f - 0.5f) / 0.5f;
        }
}

irv2_status irv2_image_crop(const irv2_image *img, const irv2_crop_box *box, float *out)
{
    irv2_clear_error();
    if (!img || !img->pixels || !box || !out)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "crop: NULL image, box or output");
    unsigned rw = 0, rh = 0;
    irv2_status st = resized_size(img->width, img->height, box->scale, &rw, &rh);
    if (st != IRV2_OK) return st;
    if (box->size == 0 || box->x > rw || box->size > rw - box->x || box->y > rh ||
        box->size > rh - box->y)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT,
                         "crop: square %u at (%u, %u) outside the %u x %u resized image",
                         box->size, box->x, box->y, rw, rh);
    uint8_t *square = malloc((size_t)box->size * box->size * 3);
    uint8_t *input = box->size == SIZE ? square : malloc((size_t)SIZE * SIZE * 3);
    if (!square || !input) {
        st = irv2_fail(IRV2_ERR_HOST_MEMORY, "crop: out of memory");
        goto done;
    }
    st = image_resize_window(img, rw, rh, box->x, box->y, box->size, box->size, square);
    if (st == IRV2_OK && box->size != SIZE) {
        irv2_image sq = {box->size, box->size, square};
        st = image_resize_window(&sq, SIZE, SIZE, 0, 0, SIZE, SIZE, input);
    }
    if (st == IRV2_OK) to_chw(input, box->mirror != 0, out);
done:
    if (input != square) free(input);
    free(square);
    return st;
}

irv2_status irv2_image_preprocess(const irv2_image *img, float *out)
{
    irv2_clear_error();
    if (!img) return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "preprocess: NULL image");
    irv2_crop_box box[IRV2_MAX_CROPS];
    unsigned n;
    irv2_status st = irv2_crop_boxes(img->width, img->height, 1, box, &n);
    return st == IRV2_OK ? irv2_image_crop(img, &box[0], out) : st;
}
