/* atomic_file.h: writing a file whole or not at all. The bytes go to a temporary file beside
 * it (the same folder, so the rename stays on one file system), renamed over it once complete;
 * a reader sees the old file or the new one, never a part. */
#ifndef IRV2_ATOMIC_FILE_H
#define IRV2_ATOMIC_FILE_H

#include "irv2.h"

#include <stdio.h>

/* Writes the file's contents to f: 0, or -1 with errno saying why (a failed fwrite that the
 * callback does not check is still caught, by ferror). */
typedef int (*atomic_fill)(FILE *f, void *arg);

enum atomic_flags {
    /* flushed to the disk before the rename, so that a crash cannot leave a renamed but empty
     * file */
    ATOMIC_SYNC = 1u << 0,
    /* no message for irv2_last_error(): for writers whose failure is not the caller's (a
     * cache that cannot be written is simply not used) */
    ATOMIC_QUIET = 1u << 1,
};

/* Writes path through fill via the temporary file path.tmp.PID.N (N counts this process's
 * writes, so threads never share one). On any failure the temporary file is removed and path
 * is left as it was: IRV2_ERR_IO with a message naming the step that failed ("PATH: cannot
 * create temporary file TMP: why", "... write temporary file ...", "PATH: cannot rename TMP
 * into place: why"), or IRV2_ERR_HOST_MEMORY; no message with ATOMIC_QUIET. */
irv2_status atomic_write(const char *path, unsigned flags, atomic_fill fill, void *arg);

/* The common case: the file is count pieces of memory, one after the other (data may be NULL
 * where len is 0). */
typedef struct atomic_piece {
    const void *data;
    size_t len;
} atomic_piece;
irv2_status atomic_write_pieces(const char *path, unsigned flags, const atomic_piece *pieces,
                                size_t count);

#endif
