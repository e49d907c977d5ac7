/* image.c: irv2_image_load (format sniffing, then the JPEG or PNG decoder) and irv2_image_free. */
#include "io/image_jpeg.h"
#include "io/image_png.h"
#include "runtime/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
