/* fuzz_labels.c: libFuzzer target for the CLI's two text readers, which are static functions
 * of the command files and so are compiled here from them:
 *  - the class names file of `irv2 classify --labels` (cli/classify.c: labels_read), one
 *    name per line (CRLF accepted): accepted files give at most one name per line, each a
 *    string inside the file's text holding no line break;
 *  - the list file of `irv2 eval --data` (cli/eval.c: dataset_from_list, through
 *    fuzz_labels_list.c), `path label` lines: accepted files give at least one image, each
 *    path under the list's folder (or absolute) and each label at most 1000000.
 * Both run on every input; refusals print one line on stderr (closed by run.sh's
 * -close_fd_mask) and must leak nothing (LeakSanitizer). */
#include "fuzz_common.h"

#include "../cli/classify.c"

#include <string.h>

void fuzz_list_check(const char *path); /* fuzz_labels_list.c */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    labels l;
    if (labels_read(path, &l) == 0) {
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
    fuzz_list_check(path);
    return 0;
}
