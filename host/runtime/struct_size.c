/* struct_size.c: irv2_struct_size(), the size of each struct of irv2.h as this library was
 * compiled, for bindings that copy the structs (python/irv2/_lib.py checks its ctypes copies
 * against it when it loads the library). */
#include "irv2.h"

#include <string.h>

#define IRV2_STRUCT(type) {#type, sizeof(type)}

/* Every struct of irv2.h whose layout a caller fills or reads: one line each. */
static const struct {
    const char *name;
    size_t size;
} structs[] = {
    IRV2_STRUCT(irv2_device_info),
    IRV2_STRUCT(irv2_progress),
    IRV2_STRUCT(irv2_context_options),
    IRV2_STRUCT(irv2_model_options),
    IRV2_STRUCT(irv2_layer_profile),
    IRV2_STRUCT(irv2_image),
    IRV2_STRUCT(irv2_crop_box),
};

size_t irv2_struct_size(const char *name)
{
    if (!name) return 0;
    for (size_t i = 0; i < sizeof structs / sizeof structs[0]; i++)
        if (strcmp(structs[i].name, name) == 0) return structs[i].size;
    return 0;
}
