/* export.c: `irv2 export-synthetic`: the synthetic weights written as a safetensors
 * checkpoint (irv2_synthetic_save). */
#include "cli.h"

int cmd_export_synthetic(cli_args *a)
{
    static const char *const dtypes[] = {"F32", "F16", "BF16"};
    if (a->classes == 1001 && a->model.variant != IRV2_VARIANT_TF) {
        cli_error("export-synthetic: --classes 1001 is the tf layout's TF-slim head (add "
                  "--variant tf)");
        return CLI_EXIT_USAGE;
    }
    if (cli_check_output("export-synthetic", "--output", a->output) != 0) return CLI_EXIT_FAILURE;
    irv2_status st = irv2_synthetic_save(a->output, a->seed, a->model.variant, a->classes,
                                         dtypes[a->dtype]);
    return st == IRV2_OK ? CLI_EXIT_OK : cli_fail(st, "export-synthetic");
}
