/* cache.c: irv2's on-disk cache folder: location, hashing, whole-file reads and atomic writes. */
#include "runtime/cache.h"

#include "runtime/atomic_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cache_make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc != 0 && errno != EEXIST) return -1;
    }
    return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

int cache_path(const char *dir, const char *name, char *dst, size_t cap)
{
    if (!dir) return -1;
    int n = snprintf(dst, cap, "%s", dir);
    if (n <= 0 || (size_t)n >= cap || cache_make_dirs(dst) != 0) return -1;
    n = snprintf(dst, cap, "%s/%s", dir, name);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

uint64_t cache_hash(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

uint64_t cache_hash_str(uint64_t h, const char *s) { return cache_hash(h, s, strlen(s) + 1); }

char *cache_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size >= 0 && size < (1L << 30) && fseek(f, 0, SEEK_SET) == 0) buf = malloc((size_t)size + 1);
    if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (!buf) return NULL;
    buf[size] = '\0';
    *len = (size_t)size;
    return buf;
}

int cache_write(const char *path, const void *data, size_t len)
{
    const atomic_piece whole = {data, len};
    return atomic_write_pieces(path, ATOMIC_QUIET, &whole, 1) == IRV2_OK ? 0 : -1;
}
