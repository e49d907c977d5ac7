/* fault.c: process-wide fault injection state (see fault.h), armed by irv2_fault_set() or
 * once from the IRV2_FAULT environment variable. */
#include "runtime/fault.h"

#include "runtime/env.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Per kind: 0 off; 1 failing; n > 1: n - 1 checks still pass. */
static atomic_uint countdown[FAULT_KIND_COUNT];
static atomic_uint checks[FAULT_KIND_COUNT], hits[FAULT_KIND_COUNT];
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static const char *const kind_names[FAULT_KIND_COUNT] = {
    [FAULT_ALLOC] = "alloc",
    [FAULT_BUILD] = "build",
    [FAULT_NO_COMPILER] = "nocompiler",
    [FAULT_RUN] = "run",
};

/* "alloc:3,build,nocompiler:2": unknown names and bad counts are ignored (the library never
 * prints); a kind without a count fails from its first check. */
static void read_env(void)
{
    const char *env = env_fault_spec();
    for (const char *p = env; p && *p;) {
        size_t len = strcspn(p, ",");
        size_t name_len = strcspn(p, ":,");
        unsigned n = 1;
        if (name_len < len) {
            char *end;
            unsigned long v = strtoul(p + name_len + 1, &end, 10);
            n = end == p + len && v > 0 && v < 1000000000ul ? (unsigned)v : 0;
        }
        for (int k = 0; k < FAULT_KIND_COUNT; k++)
            if (n && strlen(kind_names[k]) == name_len && memcmp(p, kind_names[k], name_len) == 0)
                atomic_store(&countdown[k], n);
        p += len;
        if (*p == ',') p++;
    }
}

void irv2_fault_set(fault_kind kind, unsigned countdown_value)
{
    pthread_once(&env_once, read_env);
    if ((unsigned)kind >= FAULT_KIND_COUNT) return;
    atomic_store(&checks[kind], 0);
    atomic_store(&hits[kind], 0);
    atomic_store(&countdown[kind], countdown_value);
}

void irv2_fault_clear(void)
{
    pthread_once(&env_once, read_env);
    for (int k = 0; k < FAULT_KIND_COUNT; k++) atomic_store(&countdown[k], 0);
}

unsigned irv2_fault_checks(fault_kind kind)
{
    return (unsigned)kind < FAULT_KIND_COUNT ? atomic_load(&checks[kind]) : 0;
}

unsigned irv2_fault_hits(fault_kind kind)
{
    return (unsigned)kind < FAULT_KIND_COUNT ? atomic_load(&hits[kind]) : 0;
}

int fault_hit(fault_kind kind)
{
    pthread_once(&env_once, read_env);
    atomic_fetch_add_explicit(&checks[kind], 1, memory_order_relaxed);
    unsigned c = atomic_load_explicit(&countdown[kind], memory_order_relaxed);
    while (c > 1)
        if (atomic_compare_exchange_weak(&countdown[kind], &c, c - 1)) return 0;
    if (c == 0) return 0;
    /* a run fault fails once: the thread that takes the last count */
    if (kind == FAULT_RUN && !atomic_compare_exchange_strong(&countdown[kind], &c, 0)) return 0;
    atomic_fetch_add(&hits[kind], 1);
    return 1;
}
