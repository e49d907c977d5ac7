/* table.c: a string key -> value table backed by a "key\tvalue" file in the on-disk cache. */
#include "runtime/table.h"

#include "runtime/cache.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct table {
    char *dir, *file;
    char **keys, **values;
    size_t count, cap;
    int loaded, dirty;
};

table *table_new(const char *dir, const char *name)
{
    table *t = calloc(1, sizeof *t);
    if (t && dir && name && (!(t->dir = strdup(dir)) || !(t->file = strdup(name)))) {
        table_free(t);
        t = NULL;
    }
    return t;
}

void table_free(table *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->count; i++) free(t->keys[i]), free(t->values[i]);
    free(t->keys);
    free(t->values);
    free(t->dir);
    free(t->file);
    free(t);
}

/* The index of key in the table, or count if it is not there. */
static size_t find(const table *t, const char *key)
{
    size_t i = 0;
    while (i < t->count && strcmp(t->keys[i], key) != 0) i++;
    return i;
}

/* Adds key with value; with replace, a value already there is overwritten, else kept. */
static int insert(table *t, const char *key, const char *value, int replace)
{
    size_t i = find(t, key);
    if (i < t->count) {
        if (!replace) return 0;
        char *vd = strdup(value);
        if (!vd) return -1;
        free(t->values[i]);
        t->values[i] = vd;
        return 0;
    }
    if (t->count == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        char **k = realloc(t->keys, cap * sizeof *k);
        if (!k) return -1;
        t->keys = k;
        char **v = realloc(t->values, cap * sizeof *v);
        if (!v) return -1;
        t->values = v;
        t->cap = cap;
    }
    char *kd = strdup(key), *vd = strdup(value);
    if (!kd || !vd) {
        free(kd), free(vd);
        return -1;
    }
    t->keys[t->count] = kd, t->values[t->count] = vd;
    t->count++;
    return 0;
}

/* Adds the "key\tvalue" lines of the file (entries already present win). */
static void merge_file(table *t)
{
    char path[4096];
    size_t len;
    if (!t->file || cache_path(t->dir, t->file, path, sizeof path) != 0) return;
    char *text = cache_read(path, &len);
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        else next = line + strlen(line);
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = '\0';
        insert(t, line, tab + 1, 0);
    }
    free(text);
}

const char *table_get(table *t, const char *key)
{
    if (!t->loaded) merge_file(t), t->loaded = 1;
    size_t i = find(t, key);
    return i < t->count ? t->values[i] : NULL;
}

int table_set(table *t, const char *key, const char *value)
{
    if (insert(t, key, value, 1) != 0) return -1;
    t->dirty = 1;
    return 0;
}

/* An exclusive lock on path + ".lock" (a file descriptor to pass to unlock), or -1: processes
 * that tune at once then each merge the other's entries before writing (without a lock,
 * the later rename would drop what the other wrote in between). */
static int lock_file(const char *path)
{
    char lock[4200];
    snprintf(lock, sizeof lock, "%s.lock", path);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0 && flock(fd, LOCK_EX) != 0) close(fd), fd = -1;
    return fd;
}

static void unlock_file(int fd)
{
    if (fd < 0) return;
    flock(fd, LOCK_UN);
    close(fd);
}

void table_save(table *t)
{
    char path[4096];
    if (!t || !t->dirty || !t->file || cache_path(t->dir, t->file, path, sizeof path) != 0) return;
    t->dirty = 0;
    const int lock = lock_file(path);
    merge_file(t); /* keep what other processes wrote meanwhile */
    size_t cap = 1;
    for (size_t i = 0; i < t->count; i++) cap += strlen(t->keys[i]) + strlen(t->values[i]) + 2;
    char *text = malloc(cap), *p = text;
    if (text) {
        for (size_t i = 0; i < t->count; i++)
            p += sprintf(p, "%s\t%s\n", t->keys[i], t->values[i]);
        cache_write(path, text, (size_t)(p - text));
    }
    free(text);
    unlock_file(lock);
}

size_t table_count(const table *t) { return t->count; }
const char *table_key(const table *t, size_t i) { return t->keys[i]; }
const char *table_value(const table *t, size_t i) { return t->values[i]; }
