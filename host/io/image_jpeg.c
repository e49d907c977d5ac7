/* image_jpeg.c: the JPEG decoder on libjpeg: grayscale, RGB and CMYK to 8-bit RGB. */
#include "io/image_jpeg.h"

#include "io/image_size.h"
#include "runtime/error.h"

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

/* More scans than any real progressive JPEG has; beyond it a crafted file only burns time. */
#define JPEG_MAX_SCANS 1000
/* libjpeg's own working memory (a progressive 64-Mpixel image needs about 400 MiB). */
#define JPEG_MAX_MEMORY (768L * 1024 * 1024)

/* Everything the decoder touches between setjmp and longjmp lives here, in the caller's frame,
 * so its values are well defined after the jump. */
typedef struct jpeg_job {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr err;
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    int created;
    uint8_t *pixels;
    uint8_t *row;            /* one CMYK row */
} jpeg_job;

static void jpeg_on_error(j_common_ptr cinfo)
{
    jpeg_job *job = (jpeg_job *)cinfo->client_data;
    cinfo->err->format_message(cinfo, job->message);
    longjmp(job->jump, 1);
}

/* Warnings about corrupt data are tolerated (PIL decodes such files too), but a file that ends
 * early is an error: libjpeg would silently pad it with grey. */
static void jpeg_on_message(j_common_ptr cinfo, int level)
{
    if (level == -1 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        jpeg_job *job = (jpeg_job *)cinfo->client_data;
        snprintf(job->message, sizeof job->message, "file is truncated");
        longjmp(job->jump, 1);
    }
}

static void jpeg_on_progress(j_common_ptr cinfo)
{
    jpeg_job *job = (jpeg_job *)cinfo->client_data;
    if (job->cinfo.input_scan_number > JPEG_MAX_SCANS) {
        snprintf(job->message, sizeof job->message, "more than %d scans", JPEG_MAX_SCANS);
        longjmp(job->jump, 1);
    }
}

/* PIL's CMYK -> RGB for JPEG: Adobe polarity (stored inverted), then
 * channel = (255 - k) - c * (255 - k) / 255 with its rounding. */
static void cmyk_to_rgb(const uint8_t *in, uint8_t *out, unsigned width)
{
    for (unsigned x = 0; x < width; x++, in += 4, out += 3) {
        int nk = in[3];
        for (int c = 0; c < 3; c++) {
            int t = (255 - in[c]) * nk + 128;
            int v = nk - (((t >> 8) + t) >> 8);
            out[c] = (uint8_t)(v < 0 ? 0 : v);
        }
    }
}

/* Returns 0, or 1 with job->message set (an error from libjpeg or a size limit). */
static int jpeg_decode_job(jpeg_job *job, FILE *file, const char *path, irv2_status *size_status)
{
    struct jpeg_decompress_struct *ci = &job->cinfo;
    if (setjmp(job->jump)) return 1;
    ci->err = jpeg_std_error(&job->err);
    job->err.error_exit = jpeg_on_error;
    job->err.emit_message = jpeg_on_message;
    jpeg_create_decompress(ci);
    job->created = 1;
    ci->client_data = job;
    job->progress.progress_monitor = jpeg_on_progress;
    ci->progress = &job->progress;
    ci->mem->max_memory_to_use = JPEG_MAX_MEMORY;
    jpeg_stdio_src(ci, file);
    jpeg_read_header(ci, TRUE);
    *size_status = image_check_size(path, ci->image_width, ci->image_height);
    if (*size_status != IRV2_OK) return 1;
    int cmyk = ci->jpeg_color_space == JCS_CMYK || ci->jpeg_color_space == JCS_YCCK;
    ci->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(ci);
    unsigned w = ci->output_width, h = ci->output_height;
    if (ci->output_components != (cmyk ? 4 : 3)) {
        snprintf(job->message, sizeof job->message, "unexpected %d colour components",
                 ci->output_components);
        return 1;
    }
    job->pixels = malloc((size_t)w * h * 3);
    job->row = cmyk ? malloc((size_t)w * 4) : NULL;
    if (!job->pixels || (cmyk && !job->row)) {
        *size_status = irv2_fail(IRV2_ERR_HOST_MEMORY, "%s: out of memory for %u x %u pixels",
                                 path, w, h);
        return 1;
    }
    while (ci->output_scanline < h) {
        uint8_t *dst = job->pixels + (size_t)ci->output_scanline * w * 3;
        JSAMPROW row = cmyk ? job->row : dst;
        if (jpeg_read_scanlines(ci, &row, 1) != 1) {
            snprintf(job->message, sizeof job->message, "file is truncated");
            return 1;
        }
        if (cmyk) cmyk_to_rgb(job->row, dst, w);
    }
    jpeg_finish_decompress(ci);
    return 0;
}

irv2_status image_decode_jpeg(FILE *file, const char *path, irv2_image *img)
{
    jpeg_job *job = calloc(1, sizeof *job);
    if (!job) return irv2_fail(IRV2_ERR_HOST_MEMORY, "%s: out of memory", path);
    irv2_status size_status = IRV2_OK;
    int failed = jpeg_decode_job(job, file, path, &size_status);
    irv2_status st = IRV2_OK;
    if (failed) {
        st = size_status != IRV2_OK
                 ? size_status
                 : irv2_fail(IRV2_ERR_FORMAT, "%s: not a valid JPEG image: %s", path, job->message);
        free(job->pixels);
    } else {
        img->width = job->cinfo.output_width;
        img->height = job->cinfo.output_height;
        img->pixels = job->pixels;
    }
    if (job->created) jpeg_destroy_decompress(&job->cinfo);
    free(job->row);
    free(job);
    return st;
}
