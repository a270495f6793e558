# Installation: headers, libraries, the cqlsim and cqldump binaries, a CMake package
# (find_package(cqlasio) -> cqlasio::cqlasio, cqlasio::protocol, cqlasio::cqlsim) and a
# pkg-config file (cqlasio.pc). Included at the end of the top-level CMakeLists.txt, once
# every target exists.
#
#   cmake --install build --prefix /opt/cqlasio
#   find_package(cqlasio 0.1 REQUIRED)      # with CMAKE_PREFIX_PATH=/opt/cqlasio
#   target_link_libraries(app PRIVATE cqlasio::cqlasio)
#
# The libraries are static unless BUILD_SHARED_LIBS is ON; the package config finds their
# dependencies (Boost 1.81, OpenSSL, Threads, lz4 through pkg-config, ZLIB) itself.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(CQL_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/cqlasio
    CACHE STRING "Where the cqlasio CMake package files are installed (relative to the prefix)")
mark_as_advanced(CQL_INSTALL_CMAKEDIR)

# Libraries and their exported names (cqlasio::<name>). The in-tree ALIAS targets carry the
# same names, so a project that adds cql-asio with add_subdirectory() links the same way.
set(_cql_export_names
    cqlasio_protocol protocol
    cql_asio asio
    cqlasio cqlasio
    cqlsim_engine cqlsim_engine
    cqlsim_server cqlsim)
set(_cql_installed_libs "")
while(_cql_export_names)
  list(POP_FRONT _cql_export_names _cql_target _cql_name)
  if(NOT TARGET ${_cql_target})
    continue()
  endif()
  list(APPEND _cql_installed_libs ${_cql_target})
  set_target_properties(${_cql_target} PROPERTIES EXPORT_NAME ${_cql_name})
  if(NOT TARGET cqlasio::${_cql_name})
    add_library(cqlasio::${_cql_name} ALIAS ${_cql_target})
  endif()
  # Users include <cql/...> and <cqlsim/...> from <prefix>/include.
  get_target_property(_cql_incs ${_cql_target} INTERFACE_INCLUDE_DIRECTORIES)
  if(NOT "${_cql_incs}" MATCHES "\\$<INSTALL_INTERFACE:")
    target_include_directories(${_cql_target} INTERFACE
      $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  endif()
  # cql_warnings is a private, build-only target: a static library records its private
  # link items as $<LINK_ONLY:...> in its link interface, which install(EXPORT) would
  # then require in the export set. It carries no link items, so drop it there (the
  # library's own compilation still uses it through LINK_LIBRARIES).
  get_target_property(_cql_iface ${_cql_target} INTERFACE_LINK_LIBRARIES)
  if(_cql_iface)
    list(REMOVE_ITEM _cql_iface cql_warnings "$<LINK_ONLY:cql_warnings>")
    set_property(TARGET ${_cql_target} PROPERTY INTERFACE_LINK_LIBRARIES "${_cql_iface}")
  endif()
endwhile()

install(TARGETS ${_cql_installed_libs}
  EXPORT cqlasioTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT cqlasio_development
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT cqlasio_runtime
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cqlasio_runtime)

foreach(_cql_program IN ITEMS cqlsim cqldump)
  if(TARGET ${_cql_program})
    install(TARGETS ${_cql_program} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
            COMPONENT cqlasio_runtime)
  endif()
endforeach()

# Headers: the driver (include/cql, with cql/detail which the public templates use), the
# protocol layer (cql/protocol) and cqlsim (users' own tests may run it in-process).
foreach(_cql_dir IN ITEMS include/cql protocol/include/cql sim/include/cqlsim)
  if(EXISTS ${PROJECT_SOURCE_DIR}/${_cql_dir})
    install(DIRECTORY ${PROJECT_SOURCE_DIR}/${_cql_dir}
            DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
            COMPONENT cqlasio_development
            FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h")
  endif()
endforeach()

# CMake package.
install(EXPORT cqlasioTargets
  NAMESPACE cqlasio::
  FILE cqlasioTargets.cmake
  DESTINATION ${CQL_INSTALL_CMAKEDIR}
  COMPONENT cqlasio_development)
configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/cqlasioConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/cqlasioConfig.cmake
  INSTALL_DESTINATION ${CQL_INSTALL_CMAKEDIR})
# 0.x: a minor version may break the API.
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/cmake/cqlasioConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/cmake/cqlasioConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/cqlasioConfigVersion.cmake
  DESTINATION ${CQL_INSTALL_CMAKEDIR}
  COMPONENT cqlasio_development)

# pkg-config: relocatable (prefix relative to the .pc file), so that
# `cmake --install build --prefix X` works for any X.
set(_cql_pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(CQL_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(CQL_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  file(RELATIVE_PATH _cql_pc_up /x/${_cql_pc_dir} /x)
  string(REGEX REPLACE "/$" "" _cql_pc_up "${_cql_pc_up}")
  set(CQL_PC_PREFIX "\${pcfiledir}/${_cql_pc_up}")
  set(CQL_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(CQL_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(CQL_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
# Boost has no .pc file: name its include directory unless it is the compiler's own.
set(CQL_PC_EXTRA_CFLAGS "")
if(TARGET Boost::headers)
  get_target_property(_cql_boost_inc Boost::headers INTERFACE_INCLUDE_DIRECTORIES)
  foreach(_cql_dir IN LISTS _cql_boost_inc)
    if(_cql_dir AND NOT _cql_dir IN_LIST CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
      string(APPEND CQL_PC_EXTRA_CFLAGS " -I${_cql_dir}")
    endif()
  endforeach()
endif()
set(CQL_PC_LIBS "")
foreach(_cql_lib IN ITEMS cqlasio cql_asio cqlasio_protocol)
  if(TARGET ${_cql_lib})
    get_target_property(_cql_type ${_cql_lib} TYPE)
    if(NOT _cql_type STREQUAL "INTERFACE_LIBRARY")
      string(APPEND CQL_PC_LIBS " -l${_cql_lib}")
    endif()
  endif()
endforeach()
# The Asio settings programs must share with the library (CQL_ASIO_SEPARATE_COMPILATION,
# CQL_ASIO_NO_DEPRECATED in the top-level CMakeLists.txt).
set(CQL_PC_ASIO_CFLAGS "")
if(CQL_ASIO_SEPARATE_COMPILATION)
  string(APPEND CQL_PC_ASIO_CFLAGS " -DBOOST_ASIO_SEPARATE_COMPILATION")
endif()
if(CQL_ASIO_NO_DEPRECATED)
  string(APPEND CQL_PC_ASIO_CFLAGS " -DBOOST_ASIO_NO_DEPRECATED -DCQL_ASIO_BUILT_WITH_NO_DEPRECATED")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/cqlasio.pc.in ${PROJECT_BINARY_DIR}/cmake/cqlasio.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cmake/cqlasio.pc DESTINATION ${_cql_pc_dir}
        COMPONENT cqlasio_development)

unset(_cql_export_names)
unset(_cql_installed_libs)
unset(_cql_target)
unset(_cql_name)
unset(_cql_iface)
unset(_cql_incs)
unset(_cql_program)
unset(_cql_dir)
unset(_cql_pc_dir)
unset(_cql_pc_up)
unset(_cql_boost_inc)
unset(_cql_lib)
unset(_cql_type)
