/* fuzz_labels.c: libFuzzer target for the CLI's two text readers (cli/files.c):
 *  - the class names file of `irv2 classify --labels` (labels_read), one name per line (CRLF
 *    accepted): accepted files give at most one name per line, each a string inside the
 *    file's text holding no line break;
 *  - the list file of `irv2 eval --data` (dataset_from_list), `path label` lines: accepted
 *    files give at least one image, each path under the list's folder (or absolute) and each
 *    label at most 1000000.
 * Both run on every input; refusals print one line on stderr (closed by run.sh's
 * -close_fd_mask) and must leak nothing (LeakSanitizer). */
#include "fuzz_common.h"

#include "cli.h"
#include "files.h"

#include <stdarg.h>
#include <string.h>

/* The CLI's message printer lives in cli/main.c with the commands; the readers need only it. */
void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void check_labels(const char *path, const uint8_t *data, size_t size)
{
    labels l;
    if (labels_read(path, &l) != 0) return;
    size_t lines = 0;
    for (size_t i = 0; i < size; i++) lines += data[i] == '\n';
    lines += size > 0 && data[size - 1] != '\n';
    FUZZ_CHECK(l.count <= lines);
    for (size_t i = 0; i < l.count; i++) {
        size_t n = strlen(l.names[i]);
        FUZZ_CHECK(strchr(l.names[i], '\n') == NULL);
        FUZZ_CHECK(l.names[i] >= l.text && l.names[i] + n <= l.text + size);
    }
    labels_free(&l);
}

static void check_list(const char *path)
{
    dataset d = {0};
    if (dataset_from_list(path, &d) == 0) {
        FUZZ_CHECK(d.count > 0 && d.count <= d.cap);
        for (size_t i = 0; i < d.count; i++) {
            FUZZ_CHECK(d.paths[i] != NULL && d.labels[i] <= 1000000);
            FUZZ_CHECK(strncmp(d.paths[i], "/proc/self/fd/", 14) == 0 || d.paths[i][0] == '/');
            FUZZ_CHECK(strchr(d.paths[i], '\n') == NULL);
        }
    }
    dataset_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    check_labels(path, data, size);
    check_list(path);
    return 0;
}
