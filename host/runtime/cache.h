/* cache.h: irv2's on-disk cache folder (program binaries, tuning decisions): hashing, and
 * reading and atomically writing whole files. Every failure here is silent: a cache that
 * cannot be read or written is simply not used. */
#ifndef IRV2_CACHE_H
#define IRV2_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* Creates the folder path and its parents as needed (path is restored); 0 when it exists. */
int cache_make_dirs(char *path);
/* The path of a file named name in the cache folder dir (a context's cache_dir: NULL for
 * none), the folder created if needed; 0 when usable. */
int cache_path(const char *dir, const char *name, char *dst, size_t cap);
/* FNV-1a over data, continuing from h (start with CACHE_HASH_INIT). */
#define CACHE_HASH_INIT 0xcbf29ce484222325ull
uint64_t cache_hash(uint64_t h, const void *data, size_t len);
uint64_t cache_hash_str(uint64_t h, const char *s);
/* The whole file (malloc'ed, NUL-terminated past len), or NULL. */
char *cache_read(const char *path, size_t *len);
/* Writes to a temporary file in the same folder, then renames it over path. 0 on success. */
int cache_write(const char *path, const void *data, size_t len);

#endif
