/* fault.h: fault injection for tests: makes a device allocation, a program build or the
 * device's compiler fail on demand, where a real device cannot be made to fail.
 *
 * Two ways to arm a fault, both test-only:
 *   - irv2_fault_set(FAULT_ALLOC, 3) from a test linked against the library;
 *   - IRV2_FAULT="alloc:3,build:1,nocompiler,run:2" in the environment (read once, at the first
 *     check), for the CLI. A kind without ":N" means ":1".
 * Countdown N arms the kind so that the first N - 1 checks pass and the Nth and every later
 * one fail, until it is cleared (countdown 0); FAULT_RUN fails the Nth check alone. A check costs a few atomic operations. The
 * state is process-wide; arm faults only while one thread uses the library. */
#ifndef IRV2_FAULT_H
#define IRV2_FAULT_H

typedef enum fault_kind {
    FAULT_ALLOC,        /* ctx_buffer(): clCreateBuffer fails, CL_MEM_OBJECT_ALLOCATION_FAILURE */
    FAULT_BUILD,        /* program.c: the program is built from a deliberately broken source, so
                         * the build fails for real and its log is the compiler's */
    FAULT_NO_COMPILER,  /* program.c: the device is treated as CL_DEVICE_COMPILER_AVAILABLE false */
    FAULT_RUN,          /* model.c: irv2_model_run fails as on a lost device (IRV2_ERR_OPENCL);
                         * the Nth run only, in whichever thread makes it (devices sharing
                         * work: one of them fails) */
    FAULT_KIND_COUNT
} fault_kind;

/* The broken OpenCL C that FAULT_BUILD compiles instead of the real source. */
#define FAULT_BROKEN_SOURCE \
    "__kernel void irv2_fault_injected(__global float *x) { x[0] = irv2_injected_build_fault; }\n"

/* Arms kind to fail from its countdown-th check on (countdown 0 clears it); resets its hits. */
void irv2_fault_set(fault_kind kind, unsigned countdown);
/* Clears every kind (also any armed by IRV2_FAULT). */
void irv2_fault_clear(void);
/* How many checks of kind have been made, and how many failed, since it was last set. */
unsigned irv2_fault_checks(fault_kind kind);
unsigned irv2_fault_hits(fault_kind kind);

/* The injection point: 1 when this check of kind must fail. */
int fault_hit(fault_kind kind);

#endif
