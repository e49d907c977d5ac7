# install.cmake: install rules, the CMake package (find_package(irv2) -> irv2::irv2), irv2.pc
# for pkg-config, and the Debian package (cpack -G DEB). Included by CMakeLists.txt when
# IRV2_INSTALL is on (the default for a top-level build).
include(CMakePackageConfigHelpers)

set(IRV2_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/irv2)
get_target_property(_irv2_type irv2lib TYPE)
if(_irv2_type STREQUAL STATIC_LIBRARY)
  set(IRV2_STATIC ON)
else()
  set(IRV2_STATIC OFF)
endif()
if(NOT IRV2_STATIC)
  # The CLI finds libirv2.so.MAJOR next to it in any prefix ($ORIGIN/../lib).
  file(RELATIVE_PATH _irv2_bin_to_lib /${CMAKE_INSTALL_BINDIR} /${CMAKE_INSTALL_LIBDIR})
  set_target_properties(irv2 PROPERTIES INSTALL_RPATH "$ORIGIN/${_irv2_bin_to_lib}")
endif()

install(TARGETS irv2lib EXPORT irv2Targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib NAMELINK_COMPONENT dev
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT lib)
install(TARGETS irv2 RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT bin)
install(FILES ${PROJECT_SOURCE_DIR}/include/irv2.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT dev)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT bin)
# The README links into docs/, installed beside it so that its links hold.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT bin
        FILES_MATCHING PATTERN "*.md")

# The irv2(1) man page, written by `irv2 help --man` from the CLI's option tables (cli/commands.c),
# the same tables its --help and parser use, so the page lists every option with its default,
# the environment variables and the exit statuses.
add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/irv2.1
  COMMAND $<TARGET_FILE:irv2> help --man > ${PROJECT_BINARY_DIR}/irv2.1
  DEPENDS irv2 COMMENT "Generating the irv2(1) man page (irv2 help --man)" VERBATIM)
add_custom_target(irv2_man ALL DEPENDS ${PROJECT_BINARY_DIR}/irv2.1)
install(FILES ${PROJECT_BINARY_DIR}/irv2.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT bin)

install(EXPORT irv2Targets NAMESPACE irv2:: DESTINATION ${IRV2_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/irv2Config.cmake.in
  ${PROJECT_BINARY_DIR}/irv2Config.cmake INSTALL_DESTINATION ${IRV2_CMAKE_DIR})
# 0.x: only the same minor version is compatible; from 1.0 on, the same major version.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_irv2_compat SameMinorVersion)
else()
  set(_irv2_compat SameMajorVersion)
endif()
write_basic_package_version_file(${PROJECT_BINARY_DIR}/irv2ConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY ${_irv2_compat})
install(FILES ${PROJECT_BINARY_DIR}/irv2Config.cmake ${PROJECT_BINARY_DIR}/irv2ConfigVersion.cmake
        DESTINATION ${IRV2_CMAKE_DIR} COMPONENT dev)

# irv2.pc names the prefix it is installed into: it is configured twice, here with everything
# but the prefix, and at install time with the prefix then in force (`cmake --install --prefix`,
# or cpack's /usr): a system install then gives plain paths, which pkg-config leaves out of the
# flags (a relocatable ${pcfiledir}/../.. would put -I/usr/include in every compile).
set(IRV2_PC_PREFIX "@CMAKE_INSTALL_PREFIX@")
foreach(_dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${_dir}}")
    set(IRV2_PC_${_dir} "${CMAKE_INSTALL_${_dir}}")
  else()
    set(IRV2_PC_${_dir} "\${prefix}/${CMAKE_INSTALL_${_dir}}")
  endif()
endforeach()
# A shared libirv2 needs only OpenCL in the consumer's link (its own dependencies are private:
# `pkg-config --static` adds them); a static libirv2 needs every dependency in every link, so
# they are public there.
set(_irv2_pc_deps "clblast jansson libjpeg libpng")
set(_irv2_pc_libs "${CMAKE_THREAD_LIBS_INIT} -lm")
string(STRIP "${_irv2_pc_libs}" _irv2_pc_libs)
if(IRV2_STATIC)
  set(IRV2_PC_REQUIRES "OpenCL ${_irv2_pc_deps}")
  set(IRV2_PC_REQUIRES_PRIVATE "")
  set(IRV2_PC_LIBS "-L\${libdir} -lirv2 ${_irv2_pc_libs}")
  set(IRV2_PC_LIBS_PRIVATE "")
else()
  set(IRV2_PC_REQUIRES "OpenCL")
  set(IRV2_PC_REQUIRES_PRIVATE "${_irv2_pc_deps}")
  set(IRV2_PC_LIBS "-L\${libdir} -lirv2")
  set(IRV2_PC_LIBS_PRIVATE "${_irv2_pc_libs}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/irv2.pc.in ${PROJECT_BINARY_DIR}/irv2.pc.in @ONLY)
install(CODE "configure_file(\"${PROJECT_BINARY_DIR}/irv2.pc.in\" \"${PROJECT_BINARY_DIR}/irv2.pc\" @ONLY)"
        COMPONENT dev)
install(FILES ${PROJECT_BINARY_DIR}/irv2.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT dev)

# cpack -G DEB: one package `irv2` (CLI, library, header, CMake and pkg-config files); only in
# a top-level build, where CPack's settings are irv2's own.
if(NOT IRV2_TOP_LEVEL)
  return()
endif()
set(CPACK_PACKAGE_NAME irv2)
set(CPACK_PACKAGE_VENDOR irv2)
set(CPACK_PACKAGE_CONTACT "irv2 maintainers <irv2@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
# The synopsis is CPACK_PACKAGE_DESCRIPTION_SUMMARY; this is the extended description.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "irv2 runs Inception-ResNet-v2 on any OpenCL 1.2 device and reads safetensors checkpoints.
This package holds the irv2 command-line tool, the libirv2 library, its header, and its CMake
(find_package(irv2)) and pkg-config (irv2.pc) files.")
# An OpenCL driver (ICD) is needed to run anything; PoCL runs on any CPU.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "pocl-opencl-icd | opencl-icd")
find_program(IRV2_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(IRV2_DPKG_SHLIBDEPS)
  # Depends from the ELF files' DT_NEEDED (the CLI, and libirv2.so when shared).
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "ocl-icd-libopencl1 | libopencl1, libclblast1, libjansson4, libjpeg62-turbo, libpng16-16, libc6")
endif()
if(IRV2_STATIC)
  # Linking the static library needs the development files of its dependencies.
  set(CPACK_DEBIAN_PACKAGE_SUGGESTS
      "ocl-icd-opencl-dev, libclblast-dev, libjansson-dev, libjpeg-dev, libpng-dev, pkg-config")
else()
  # A shlibs file and ldconfig in postinst/postrm for libirv2.so.MAJOR.
  set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
  set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
endif()
include(CPack)
