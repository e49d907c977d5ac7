/* atomic_file.c: writing a file through a temporary file renamed over it (atomic_file.h). */
#include "runtime/atomic_file.h"

#include "runtime/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* errno where a failing call set one, else EIO (a short fwrite need not set it). */
static int error_code(void) { return errno ? errno : EIO; }

/* Fills, flushes (and with ATOMIC_SYNC syncs) and closes f: 0, or an errno value. f is closed
 * either way. */
static int fill_and_close(FILE *f, unsigned flags, atomic_fill fill, void *arg)
{
    errno = 0;
    int err = fill(f, arg) != 0 || fflush(f) != 0 || ferror(f) ? error_code() : 0;
    if (!err && (flags & ATOMIC_SYNC) && fsync(fileno(f)) != 0) err = error_code();
    errno = 0;
    if (fclose(f) != 0 && !err) err = error_code();
    return err;
}

/* A FILE on a new temporary file at tmp (mode 0666 less the umask, as fopen makes files), or
 * NULL with errno set. */
static FILE *create(const char *tmp)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        int err = errno;
        close(fd);
        unlink(tmp);
        errno = err;
    }
    return f;
}

static irv2_status failed(unsigned flags, const char *path, const char *what, const char *tmp,
                          const char *after, int err)
{
    if (flags & ATOMIC_QUIET) return IRV2_ERR_IO;
    return irv2_fail(IRV2_ERR_IO, "%s: cannot %s %s%s: %s", path, what, tmp, after,
                     strerror(err));
}

static irv2_status write_through(const char *path, const char *tmp, unsigned flags,
                                 atomic_fill fill, void *arg)
{
    FILE *f = create(tmp);
    if (!f) return failed(flags, path, "create temporary file", tmp, "", errno);
    int err = fill_and_close(f, flags, fill, arg);
    if (err) {
        unlink(tmp);
        return failed(flags, path, "write temporary file", tmp, "", err);
    }
    if (rename(tmp, path) != 0) {
        err = errno;
        unlink(tmp);
        return failed(flags, path, "rename", tmp, " into place", err);
    }
    return IRV2_OK;
}

irv2_status atomic_write(const char *path, unsigned flags, atomic_fill fill, void *arg)
{
    static _Atomic unsigned serial;
    const size_t cap = strlen(path) + 48;
    char *tmp = malloc(cap);
    if (!tmp) {
        if (flags & ATOMIC_QUIET) return IRV2_ERR_HOST_MEMORY;
        return irv2_fail(IRV2_ERR_HOST_MEMORY, "%s: out of host memory", path);
    }
    snprintf(tmp, cap, "%s.tmp.%ld.%u", path, (long)getpid(), serial++);
    irv2_status st = write_through(path, tmp, flags, fill, arg);
    free(tmp);
    return st;
}

typedef struct piece_list {
    const atomic_piece *pieces;
    size_t count;
} piece_list;

static int write_pieces(FILE *f, void *arg)
{
    const piece_list *l = arg;
    for (size_t i = 0; i < l->count; i++) {
        const atomic_piece *p = &l->pieces[i];
        if (p->len && fwrite(p->data, 1, p->len, f) != p->len) return -1;
    }
    return 0;
}

irv2_status atomic_write_pieces(const char *path, unsigned flags, const atomic_piece *pieces,
                                size_t count)
{
    piece_list l = {pieces, count};
    return atomic_write(path, flags, write_pieces, &l);
}
