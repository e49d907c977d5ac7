/* device_list.c: irv2_device_list, the one grammar of device lists ("0,2", "gpu", "1:0,all"):
 * each item checked, a type or all expanded to the indices of its devices, in order. */
#include "irv2.h"

#include "runtime/device.h"
#include "runtime/error.h"

#include <stdio.h>
#include <string.h>

/* The words that name a group of devices: those with a CL_DEVICE_TYPE bit of bits. */
static const struct {
    const char *word, *type;
    cl_device_type bits;
} groups[] = {{"cpu", "CPU", CL_DEVICE_TYPE_CPU},
              {"gpu", "GPU", CL_DEVICE_TYPE_GPU},
              {"accelerator", "ACCELERATOR", CL_DEVICE_TYPE_ACCELERATOR},
              {"all", NULL, CL_DEVICE_TYPE_ALL}};

/* The specs written so far: n counts them all, those beyond cap (or with no specs) unwritten. */
typedef struct collected {
    char (*specs)[IRV2_DEVICE_SPEC_SIZE];
    size_t cap, n;
} collected;

static void put(collected *c, const char *text, size_t len)
{
    if (c->specs && c->n < c->cap) {
        memcpy(c->specs[c->n], text, len);
        c->specs[c->n][len] = '\0';
    }
    c->n++;
}

/* Whether s[0..len) is 1 to 6 decimal digits, as device_resolve reads an index. */
static int digits(const char *s, size_t len)
{
    if (len == 0 || len > 6) return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

/* Whether s[0..len) is an index N or a platform and device P:D. */
static int one_device(const char *s, size_t len)
{
    const char *colon = memchr(s, ':', len);
    if (!colon) return digits(s, len);
    size_t head = (size_t)(colon - s);
    return digits(s, head) && digits(colon + 1, len - head - 1);
}

/* Every device of group g, as its flat index. */
static irv2_status put_group(collected *c, size_t g, const char *list)
{
    unsigned n = 0;
    irv2_status st = irv2_device_count(&n);
    if (st != IRV2_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s", irv2_last_error());
        return irv2_fail(st, "device list '%.200s': %s", list, why);
    }
    size_t before = c->n;
    for (unsigned i = 0; i < n; i++) {
        if (groups[g].type && !device_is_type(i, groups[g].bits)) continue;
        char index[16];
        int len = snprintf(index, sizeof index, "%u", i);
        put(c, index, (size_t)len);
    }
    if (c->n == before)
        return irv2_fail(IRV2_ERR_DEVICE_SPEC, "device list '%.200s': no %s device among the %u",
                         list, groups[g].type, n);
    return IRV2_OK;
}

/* The word of groups that list[at..at+len) is, or -1. */
static int group_of(const char *item, size_t len)
{
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
        if (strlen(groups[g].word) == len && strncmp(item, groups[g].word, len) == 0) return (int)g;
    return -1;
}

/* Checks every item of list (a word of groups, N or P:D) before any device is listed, so that
 * a malformed list is refused the same way on every machine; with c, collects them. */
static irv2_status walk(const char *list, collected *c)
{
    size_t at = 0;
    for (unsigned item = 1;; item++) {
        const char *p = list + at;
        size_t len = strcspn(p, ",");
        int g = group_of(p, len);
        if (len == 0)
            return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "device list '%.200s': item %u is empty",
                             list, item);
        if (g < 0 && !one_device(p, len))
            return irv2_fail(IRV2_ERR_INVALID_ARGUMENT,
                             "device list '%.200s': unknown device '%.*s' (expected an index, "
                             "P:D, cpu, gpu, accelerator or all)",
                             list, (int)(len > 64 ? 64 : len), p);
        if (c && g >= 0) {
            irv2_status st = put_group(c, (size_t)g, list);
            if (st != IRV2_OK) return st;
        } else if (c) {
            put(c, p, len);
        }
        if (!p[len]) return IRV2_OK;
        at += len + 1;
        if (!list[at])
            return irv2_fail(IRV2_ERR_INVALID_ARGUMENT,
                             "device list '%.200s': ends with a comma (name a device after it, "
                             "or remove it)", list);
    }
}

irv2_status irv2_device_list(const char *list, char (*specs)[IRV2_DEVICE_SPEC_SIZE],
                             size_t capacity, size_t *count)
{
    irv2_clear_error();
    if (!count) return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "device list: NULL count");
    *count = 0;
    collected c = {specs, capacity, 0};
    if (!list || !*list) {
        put(&c, "", 0); /* the default device */
    } else {
        irv2_status st = walk(list, NULL);
        if (st == IRV2_OK) st = walk(list, &c);
        if (st != IRV2_OK) return st;
    }
    if (specs && c.n > capacity) {
        *count = c.n;
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT,
                         "device list '%.200s': names %zu devices, more than the %zu taken",
                         list ? list : "", c.n, capacity);
    }
    *count = c.n;
    return IRV2_OK;
}
