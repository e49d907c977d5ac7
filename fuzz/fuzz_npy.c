/* fuzz_npy.c: libFuzzer target for the .npy reader (host/io/npy.c). A refusal must come with a
 * one-line message naming the file and no data; an accepted file must have data of exactly
 * shape x 4 bytes, and writing it back with irv2_npy_write and reading that must give the same
 * shape and bytes (a round trip through the writer, for inputs up to 64 KiB). */
#include "fuzz_common.h"

#include "irv2.h"

#include <string.h>

static char out_path[4200];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *dir = getenv("IRV2_FUZZ_TMP");
    if (!dir || !*dir) dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(out_path, sizeof out_path, "%s/irv2-fuzz-npy-%ld.npy", dir, (long)getpid());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    unsigned ndim = 99;
    uint64_t shape[8];
    float *values = (float *)&ndim; /* must be reset to NULL on failure */
    irv2_status st = irv2_npy_read(path, &ndim, shape, &values);
    if (st != IRV2_OK) {
        const char *msg = irv2_last_error();
        FUZZ_CHECK(values == NULL);
        FUZZ_CHECK(strstr(msg, path) == msg);
        FUZZ_CHECK(strchr(msg, '\n') == NULL);
        return 0;
    }
    FUZZ_CHECK(ndim <= 8 && values != NULL);
    uint64_t n = 1;
    for (unsigned i = 0; i < ndim; i++) n *= shape[i];
    FUZZ_CHECK(n * 4 <= size);
    if (size <= 65536) {
        FUZZ_CHECK(irv2_npy_write(out_path, ndim, shape, values) == IRV2_OK);
        unsigned ndim2;
        uint64_t shape2[8];
        float *values2 = NULL;
        FUZZ_CHECK(irv2_npy_read(out_path, &ndim2, shape2, &values2) == IRV2_OK);
        FUZZ_CHECK(ndim2 == ndim && memcmp(shape2, shape, ndim * sizeof *shape) == 0);
        FUZZ_CHECK(n == 0 || memcmp(values2, values, n * 4) == 0);
        free(values2);
        remove(out_path);
    }
    free(values);
    return 0;
}
