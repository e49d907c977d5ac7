# python.cmake: what `pip install ./python` puts into the wheel next to the Python package:
# the shared libirv2, which python/irv2/_lib.py loads before any other. Included by
# CMakeLists.txt when scikit-build-core, the build backend of python/pyproject.toml, runs this
# project (SKBUILD set); pyproject.toml asks for a shared build of the library alone.
get_target_property(_irv2_type irv2lib TYPE)
if(NOT _irv2_type STREQUAL SHARED_LIBRARY)
  message(FATAL_ERROR "the Python package needs a shared libirv2: -DBUILD_SHARED_LIBS=ON "
                      "(python/pyproject.toml sets it)")
endif()
# A wheel holds no symbolic links: one file, named by its soname (libirv2.so.MAJOR), the name
# _lib.py looks for, instead of libirv2.so.X.Y.Z and its links.
set_target_properties(irv2lib PROPERTIES VERSION ${PROJECT_VERSION_MAJOR})
install(TARGETS irv2lib LIBRARY DESTINATION irv2 NAMELINK_SKIP COMPONENT python)
