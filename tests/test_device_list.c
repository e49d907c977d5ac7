/* test_device_list.c: irv2_device_list, the one grammar of device lists: indices and P:D
 * returned as written, types and all expanded against a listing made here with OpenCL itself,
 * duplicates and order kept, the default, and every malformed list refused with a message that
 * names it (an empty item, a trailing comma, an unknown word, a type with no device, too many). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "irv2.h"

#include <stdio.h>
#include <string.h>

#define MAX 64
#define assert_ok(expr) assert_int_equal((expr), IRV2_OK)

/* The flat indices of the devices with a type bit of want, from OpenCL directly (platforms
 * in order, devices in order within each, as 'irv2 devices' numbers them). */
static size_t reference(cl_device_type want, unsigned *out)
{
    cl_platform_id plats[16];
    cl_uint np = 0;
    size_t n = 0;
    unsigned flat = 0;
    if (clGetPlatformIDs(16, plats, &np) != CL_SUCCESS) return 0;
    for (cl_uint p = 0; p < np && p < 16; p++) {
        cl_device_id devs[MAX];
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, MAX, devs, &nd) != CL_SUCCESS) continue;
        for (cl_uint d = 0; d < nd && d < MAX; d++, flat++) {
            cl_device_type type = 0;
            clGetDeviceInfo(devs[d], CL_DEVICE_TYPE, sizeof type, &type, NULL);
            if (type & want) out[n++] = flat;
        }
    }
    return n;
}

/* irv2_device_list(list) gives exactly the specs of expect (n of them). */
static void expect_list(const char *list, const char *const *expect, size_t n)
{
    char specs[MAX][IRV2_DEVICE_SPEC_SIZE];
    size_t count = 99;
    irv2_status st = irv2_device_list(list, specs, MAX, &count);
    if (st != IRV2_OK) fail_msg("'%s': %s", list ? list : "(null)", irv2_last_error());
    assert_int_equal(count, n);
    for (size_t i = 0; i < n; i++) assert_string_equal(specs[i], expect[i]);
    assert_string_equal(irv2_last_error(), "");
}

/* irv2_device_list(list) fails with st, one line naming the list and containing what. */
static void expect_refused(const char *list, irv2_status st, const char *what)
{
    char specs[4][IRV2_DEVICE_SPEC_SIZE];
    size_t count = 99;
    assert_int_equal(irv2_device_list(list, specs, 4, &count), st);
    const char *msg = irv2_last_error();
    char head[300];
    snprintf(head, sizeof head, "device list '%s': ", list);
    if (strncmp(msg, head, strlen(head)) != 0 || !strstr(msg, what) || strchr(msg, '\n'))
        fail_msg("'%s': message \"%s\" lacks \"%s\" or \"%s\"", list, msg, head, what);
    if (st != IRV2_ERR_INVALID_ARGUMENT || !strstr(what, "more than")) assert_int_equal(count, 0);
}

/* The specs given, and their count, as expect_list's last two arguments. */
#define LIST(...)                                                                              \
    ((const char *const[]){__VA_ARGS__}),                                                      \
        sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)

/* Indices and P:D pass through as written, in order, duplicates kept; nothing is looked up,
 * so a device that does not exist is refused only when opened. */
static void test_single_items(void **state)
{
    (void)state;
    expect_list("0", LIST("0"));
    expect_list("0,2", LIST("0", "2"));
    expect_list("7:7", LIST("7:7"));
    expect_list("1:0,0,1:0", LIST("1:0", "0", "1:0"));
    expect_list("0,0", LIST("0", "0"));
    expect_list("007", LIST("007")); /* as irv2_context_open reads it: device 7 */
}

/* NULL and "" name the default device, as "" (irv2_context_open's default). */
static void test_default(void **state)
{
    (void)state;
    expect_list(NULL, LIST(""));
    expect_list("", LIST(""));
}

/* A type or all: every device with that CL_DEVICE_TYPE bit, as indices, in order; a type
 * with no device is refused (IRV2_ERR_DEVICE_SPEC), on this machine whichever that is. */
static void test_types(void **state)
{
    (void)state;
    static const struct {
        const char *word, *type;
        cl_device_type bits;
    } types[] = {{"cpu", "CPU", CL_DEVICE_TYPE_CPU},
                 {"gpu", "GPU", CL_DEVICE_TYPE_GPU},
                 {"accelerator", "ACCELERATOR", CL_DEVICE_TYPE_ACCELERATOR},
                 {"all", NULL, CL_DEVICE_TYPE_ALL}};
    unsigned all[MAX];
    size_t nall = reference(CL_DEVICE_TYPE_ALL, all);
    assert_true(nall > 0); /* the tests need one device */
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        unsigned want[MAX];
        size_t n = reference(types[t].bits, want);
        char specs[MAX][IRV2_DEVICE_SPEC_SIZE];
        size_t count = 99;
        irv2_status st = irv2_device_list(types[t].word, specs, MAX, &count);
        print_message("  %s: %zu device(s)\n", types[t].word, n);
        if (n == 0) {
            char what[64];
            snprintf(what, sizeof what, "no %s device among the %zu", types[t].type, nall);
            assert_int_equal(st, IRV2_ERR_DEVICE_SPEC);
            expect_refused(types[t].word, IRV2_ERR_DEVICE_SPEC, what);
            continue;
        }
        assert_ok(st);
        assert_int_equal(count, n);
        for (size_t i = 0; i < n; i++) {
            char index[16];
            snprintf(index, sizeof index, "%u", want[i]);
            assert_string_equal(specs[i], index);
        }
        /* mixed with an index, twice: both expansions, in order, around it */
        char list[64];
        snprintf(list, sizeof list, "%s,5,%s", types[t].word, types[t].word);
        assert_ok(irv2_device_list(list, specs, MAX, &count));
        assert_int_equal(count, 2 * n + 1);
        assert_string_equal(specs[n], "5");
        for (size_t i = 0; i < n; i++) assert_string_equal(specs[n + 1 + i], specs[i]);
    }
}

/* Malformed lists: one line naming the list and what is wrong, nothing counted. */
static void test_malformed(void **state)
{
    (void)state;
    expect_refused("0,", IRV2_ERR_INVALID_ARGUMENT, "ends with a comma");
    expect_refused("gpu,", IRV2_ERR_INVALID_ARGUMENT, "ends with a comma");
    expect_refused("0,,1", IRV2_ERR_INVALID_ARGUMENT, "item 2 is empty");
    expect_refused(",0", IRV2_ERR_INVALID_ARGUMENT, "item 1 is empty");
    expect_refused(",", IRV2_ERR_INVALID_ARGUMENT, "item 1 is empty");
    expect_refused("nosuch", IRV2_ERR_INVALID_ARGUMENT, "unknown device 'nosuch'");
    expect_refused("0,GPU", IRV2_ERR_INVALID_ARGUMENT, "unknown device 'GPU'");
    expect_refused("0, 1", IRV2_ERR_INVALID_ARGUMENT, "unknown device ' 1'");
    expect_refused("-1", IRV2_ERR_INVALID_ARGUMENT, "unknown device '-1'");
    expect_refused("0-3", IRV2_ERR_INVALID_ARGUMENT, "unknown device '0-3'"); /* no ranges */
    expect_refused("1:", IRV2_ERR_INVALID_ARGUMENT, "unknown device '1:'");
    expect_refused(":0", IRV2_ERR_INVALID_ARGUMENT, "unknown device ':0'");
    expect_refused("1:2:3", IRV2_ERR_INVALID_ARGUMENT, "unknown device '1:2:3'");
    expect_refused("1234567", IRV2_ERR_INVALID_ARGUMENT, "unknown device '1234567'");
}

/* More devices than the caller takes: refused, *count the number named; with no specs the
 * count alone; a NULL count is refused. */
static void test_capacity(void **state)
{
    (void)state;
    expect_refused("0,1,2,3,4", IRV2_ERR_INVALID_ARGUMENT, "names 5 devices, more than the 4");
    size_t count = 0;
    char specs[4][IRV2_DEVICE_SPEC_SIZE];
    assert_int_equal(irv2_device_list("0,1,2,3,4", specs, 4, &count), IRV2_ERR_INVALID_ARGUMENT);
    assert_int_equal(count, 5);
    assert_ok(irv2_device_list("0,1,2,3,4", NULL, 0, &count));
    assert_int_equal(count, 5);
    assert_ok(irv2_device_list("3,1", specs, 2, &count));
    assert_int_equal(count, 2);
    assert_int_equal(irv2_device_list("0", specs, 4, NULL), IRV2_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_items), cmocka_unit_test(test_default),
        cmocka_unit_test(test_types),        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_capacity),
    };
    return cmocka_run_group_tests_name("test_device_list", tests, NULL, NULL);
}
