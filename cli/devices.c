/* devices.c: `irv2 devices`: every OpenCL platform and device with what selects it. */
#include "cli.h"

#include <stdio.h>

int cmd_devices(cli_args *a)
{
    (void)a;
    unsigned n;
    irv2_status st = irv2_device_count(&n);
    if (st != IRV2_OK) return cli_fail(st, NULL);
    for (unsigned i = 0; i < n; i++) {
        irv2_device_info d;
        st = irv2_device_info_get(i, &d);
        if (st != IRV2_OK) return cli_fail(st, NULL);
        printf("[%u] %s  spec %s (or %u)\n", i, d.name, d.spec, i);
        printf("    type %s, vendor %s, platform %s\n", d.type, d.vendor, d.platform_name);
        printf("    %s, driver %s\n", d.version, d.driver);
        printf("    compute units %u, global memory %.0f MiB, max allocation %.0f MiB, fp16 %s, "
               "compiler %s\n",
               d.compute_units, d.global_mem_bytes / 1048576.0, d.max_alloc_bytes / 1048576.0,
               d.fp16 ? "yes" : "no", d.compiler_available ? "yes" : "no");
    }
    return 0;
}
