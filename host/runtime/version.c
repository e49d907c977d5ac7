/* version.c: irv2_version(). IRV2_VERSION comes from CMake (project(VERSION) in CMakeLists.txt),
 * the one place the version is written. */
#include "irv2.h"

#ifndef IRV2_VERSION
#error "IRV2_VERSION is not defined: build with CMake (it passes the project's version)"
#endif

const char *irv2_version(void)
{
    return IRV2_VERSION;
}
