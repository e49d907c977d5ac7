/* image_png.c: the PNG decoder on libpng: every colour type and bit depth to 8-bit RGB. */
#include "io/image_png.h"

#include "io/image_size.h"
#include "runtime/error.h"

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

/* Ancillary chunks (ICC profiles, text) larger than this are refused rather than inflated. */
#define PNG_MAX_CHUNK (16u * 1024u * 1024u)

/* Everything the decoder touches between setjmp and longjmp lives here, in the caller's frame,
 * so its values are well defined after the jump. */
typedef struct png_job {
    png_structp png;
    png_infop info;
    FILE *file;
    jmp_buf jump;
    char message[256];
    char warning[128];       /* the last warning, which often says why the error came */
    uint8_t *pixels;
} png_job;

static void png_on_error(png_structp png, png_const_charp msg)
{
    png_job *job = png_get_error_ptr(png);
    if (feof(job->file))
        snprintf(job->message, sizeof job->message, "file is truncated");
    else if (job->warning[0])
        snprintf(job->message, sizeof job->message, "%s (%s)", msg ? msg : "error", job->warning);
    else
        snprintf(job->message, sizeof job->message, "%s", msg ? msg : "unknown error");
    longjmp(job->jump, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
    png_job *job = png_get_error_ptr(png);
    snprintf(job->warning, sizeof job->warning, "%s", msg ? msg : "");
}

/* The conversions of PIL's Image.open(...).convert("RGB"): palette looked up, grey replicated,
 * alpha and tRNS transparency dropped, 1/2/4-bit grey scaled to 0..255, 16-bit samples reduced
 * to their high byte (PIL's "RGB;16B" raw mode), no gamma correction. */
static void png_setup_rgb8(png_structp png, png_infop info)
{
    int color = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) png_set_strip_16(png);
    /* Expanding a palette also turns tRNS into alpha, which is dropped here too. */
    if ((color & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_strip_alpha(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(png);
}

/* Returns 0, or 1 with job->message set (libpng's error) or *size_status (a limit). */
static int png_decode_job(png_job *job, FILE *file, const char *path, irv2_status *size_status)
{
    job->file = file;
    if (setjmp(job->jump)) return 1;
    job->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, job, png_on_error, png_on_warning);
    if (!job->png) {
        *size_status = irv2_fail(IRV2_ERR_HOST_MEMORY, "%s: out of memory", path);
        return 1;
    }
    job->info = png_create_info_struct(job->png);
    if (!job->info) {
        *size_status = irv2_fail(IRV2_ERR_HOST_MEMORY, "%s: out of memory", path);
        return 1;
    }
    png_init_io(job->png, file);
    png_set_user_limits(job->png, IRV2_IMAGE_MAX_PIXELS, IRV2_IMAGE_MAX_PIXELS);
    png_set_chunk_malloc_max(job->png, PNG_MAX_CHUNK);
    png_read_info(job->png, job->info);
    png_uint_32 w = png_get_image_width(job->png, job->info);
    png_uint_32 h = png_get_image_height(job->png, job->info);
    *size_status = image_check_size(path, w, h);
    if (*size_status != IRV2_OK) return 1;
    png_setup_rgb8(job->png, job->info);
    int passes = png_set_interlace_handling(job->png);
    png_read_update_info(job->png, job->info);
    if (png_get_rowbytes(job->png, job->info) != (size_t)w * 3) {
        snprintf(job->message, sizeof job->message, "unexpected row layout after conversion");
        return 1;
    }
    /* Interlaced images are read pass by pass into the same rows; start from black. */
    job->pixels = calloc((size_t)w * h, 3);
    if (!job->pixels) {
        *size_status = irv2_fail(IRV2_ERR_HOST_MEMORY, "%s: out of memory for %u x %u pixels",
                                 path, (unsigned)w, (unsigned)h);
        return 1;
    }
    for (int pass = 0; pass < passes; pass++)
        for (png_uint_32 y = 0; y < h; y++)
            png_read_row(job->png, job->pixels + (size_t)y * w * 3, NULL);
    return 0;
}

irv2_status image_decode_png(FILE *file, const char *path, irv2_image *img)
{
    png_job *job = calloc(1, sizeof *job);
    if (!job) return irv2_fail(IRV2_ERR_HOST_MEMORY, "%s: out of memory", path);
    irv2_status size_status = IRV2_OK;
    int failed = png_decode_job(job, file, path, &size_status);
    irv2_status st = IRV2_OK;
    if (failed) {
        st = size_status != IRV2_OK
                 ? size_status
                 : irv2_fail(IRV2_ERR_FORMAT, "%s: not a valid PNG image: %s", path, job->message);
        free(job->pixels);
    } else {
        img->width = png_get_image_width(job->png, job->info);
        img->height = png_get_image_height(job->png, job->info);
        img->pixels = job->pixels;
    }
    if (job->png) png_destroy_read_struct(&job->png, job->info ? &job->info : NULL, NULL);
    free(job);
    return st;
}
