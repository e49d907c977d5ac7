/* env.h: the only place the library reads the environment (env.c): the IRV2_* variables as
 * defaults of the options structs (irv2.h), the user's cache folder, the tests' fault spec. */
#ifndef IRV2_ENV_H
#define IRV2_ENV_H

#include <stddef.h>

/* $XDG_CACHE_HOME/irv2, else $HOME/.cache/irv2, into dst; 0 when one of them is set. */
int env_user_cache_dir(char *dst, size_t cap);
/* IRV2_FAULT (runtime/fault.h), or NULL. */
const char *env_fault_spec(void);

#endif
