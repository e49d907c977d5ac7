/* error.c: status names and the thread-local last-error message. */
#include "runtime/error.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_error[1024];

static const char *const status_names[IRV2_STATUS_COUNT] = {
    [IRV2_OK] = "ok",
    [IRV2_ERR_INVALID_ARGUMENT] = "invalid argument",
    [IRV2_ERR_IO] = "i/o error",
    [IRV2_ERR_FORMAT] = "malformed file",
    [IRV2_ERR_MISSING_TENSOR] = "missing tensor",
    [IRV2_ERR_SHAPE] = "wrong shape",
    [IRV2_ERR_DTYPE] = "unsupported dtype",
    [IRV2_ERR_NO_PLATFORM] = "no OpenCL platform",
    [IRV2_ERR_DEVICE_SPEC] = "unknown device",
    [IRV2_ERR_BUILD] = "kernel build failed",
    [IRV2_ERR_OPENCL] = "OpenCL error",
    [IRV2_ERR_CLBLAST] = "CLBlast error",
    [IRV2_ERR_HOST_MEMORY] = "out of host memory",
    [IRV2_ERR_DEVICE_MEMORY] = "out of device memory",
    [IRV2_ERR_UNSUPPORTED] = "unsupported",
};

const char *irv2_status_string(irv2_status status)
{
    if ((unsigned)status >= IRV2_STATUS_COUNT) return "unknown status";
    return status_names[status];
}

const char *irv2_last_error(void) { return last_error; }

void irv2_clear_error(void) { last_error[0] = '\0'; }

irv2_status irv2_fail(irv2_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    /* One line, whatever a file put in the names and strings quoted in it (a tensor name or a
     * .npy header with a newline, a terminal escape): control characters become '?'. */
    for (char *c = last_error; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    return status;
}
