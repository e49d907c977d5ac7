/* image.c: irv2_image_load (format sniffing, size limits) and the JPEG decoder on libjpeg. */
#include "image.h"

#include "error.h"

#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

/* More scans than any real progressive JPEG has; beyond it a crafted file only burns time. */
#define JPEG_MAX_SCANS 1000
/* libjpeg's own working memory (a progressive 64-Mpixel image needs about 400 MiB). */
#define JPEG_MAX_MEMORY (768L * 1024 * 1024)

irv2_status image_check_size(const char *path, uint64_t width, uint64_t height)
{
    if (width == 0 || height == 0)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: image is empty (%llu x %llu pixels)", path,
                         (unsigned long long)width, (unsigned long long)height);
    if (width > IRV2_IMAGE_MAX_PIXELS || height > IRV2_IMAGE_MAX_PIXELS ||
        width * height > IRV2_IMAGE_MAX_PIXELS)
        return irv2_fail(IRV2_ERR_SHAPE,
                         "%s: image is %llu x %llu pixels, more than the %u allowed", path,
                         (unsigned long long)width, (unsigned long long)height,
                         IRV2_IMAGE_MAX_PIXELS);
    return IRV2_OK;
}

/* ---- JPEG ------------------------------------------------------------------------------- */

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

/* ---- Loading ---------------------------------------------------------------------------- */

irv2_status irv2_image_load(const char *path, irv2_image *img)
{
    irv2_clear_error();
    if (!img) return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_image_load: img is NULL");
    memset(img, 0, sizeof *img);
    if (!path) return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_image_load: path is NULL");
    FILE *f = fopen(path, "rb");
    if (!f) return irv2_fail(IRV2_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    uint8_t magic[8];
    size_t got = fread(magic, 1, sizeof magic, f);
    irv2_status st;
    if (ferror(f)) {
        st = irv2_fail(IRV2_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    } else if (got == 0) {
        st = irv2_fail(IRV2_ERR_FORMAT, "%s: empty file, not an image", path);
    } else if (fseek(f, 0, SEEK_SET) != 0) {
        st = irv2_fail(IRV2_ERR_IO, "%s: cannot seek: %s", path, strerror(errno));
    } else if (got >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF) {
        st = image_decode_jpeg(f, path, img);
    } else if (got == 8 && memcmp(magic, "\x89PNG\r\n\x1a\n", 8) == 0) {
        st = image_decode_png(f, path, img);
    } else {
        st = irv2_fail(IRV2_ERR_FORMAT, "%s: not a JPEG or PNG image", path);
    }
    fclose(f);
    if (st != IRV2_OK) memset(img, 0, sizeof *img);
    return st;
}

void irv2_image_free(irv2_image *img)
{
    if (!img) return;
    free(img->pixels);
    memset(img, 0, sizeof *img);
}
