# cmake -P script run by the package.install_and_consume test (see CMakeLists.txt here).
# Inputs (-D): CQL_BUILD_DIR, CQL_WORK_DIR, CQL_CONSUMER_DIR, CQL_PROTOCOL_ONLY, CQL_CONFIG,
# CQL_GENERATOR, CQL_MAKE_PROGRAM, CQL_CXX_COMPILER, CQL_LAUNCHER, CQL_SANITIZE,
# CQL_PKG_CONFIG. The work directory has a fixed path so that ccache hits on reruns.
cmake_minimum_required(VERSION 3.25)

function(cql_run what)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "TIMEOUT;OUTPUT" "COMMAND")
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 300)
  endif()
  execute_process(COMMAND ${arg_COMMAND}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT ${arg_TIMEOUT})
  if(NOT rc EQUAL 0)
    string(JOIN " " cmd ${arg_COMMAND})
    message(FATAL_ERROR "package test: ${what} failed (${rc})\n  ${cmd}\n${out}\n${err}")
  endif()
  if(arg_OUTPUT)
    set(${arg_OUTPUT} "${out}" PARENT_SCOPE)
  endif()
endfunction()

# Runs `program`, which must print one line matching `regex`.
function(cql_expect_line what program timeout regex)
  cql_run("running ${what}" COMMAND ${program} TIMEOUT ${timeout} OUTPUT line)
  string(STRIP "${line}" line)
  message(STATUS "${line}")
  if(NOT line MATCHES "${regex}")
    message(FATAL_ERROR "package test: unexpected output of ${what}: ${line}")
  endif()
endfunction()

# The program `name` the consumer project built.
function(cql_built_program name out)
  file(GLOB_RECURSE exe ${CQL_WORK_DIR}/consumer-build/${name})
  if(NOT exe)
    message(FATAL_ERROR "package test: no ${name} program was built")
  endif()
  list(GET exe 0 exe)
  set(${out} ${exe} PARENT_SCOPE)
endfunction()

set(prefix ${CQL_WORK_DIR}/prefix)
file(REMOVE_RECURSE ${prefix})
file(MAKE_DIRECTORY ${CQL_WORK_DIR})

# 1. Install the build tree.
set(config_args "")
if(CQL_CONFIG)
  set(config_args --config ${CQL_CONFIG})
endif()
cql_run("cmake --install (are all targets built?)"
  COMMAND ${CMAKE_COMMAND} --install ${CQL_BUILD_DIR} --prefix ${prefix} ${config_args})

file(GLOB_RECURSE config_file ${prefix}/*/cqlasioConfig.cmake)
file(GLOB_RECURSE pc_file ${prefix}/*/cqlasio.pc)
foreach(f IN ITEMS include/cql/cluster.hpp include/cql/detail/op_completion.hpp
                   include/cql/protocol/frame.hpp include/cqlsim/cluster.hpp
                   bin/cqlsim bin/cqldump)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "package test: ${f} was not installed")
  endif()
endforeach()
if(NOT config_file OR NOT pc_file)
  message(FATAL_ERROR "package test: cqlasioConfig.cmake or cqlasio.pc was not installed")
endif()
get_filename_component(cmake_dir ${config_file} DIRECTORY)
file(GLOB targets_files ${cmake_dir}/cqlasioTargets*.cmake)
foreach(f IN LISTS targets_files)
  file(READ ${f} text)
  if(text MATCHES "cql_warnings|cqlasio_internal")
    message(FATAL_ERROR "package test: ${f} names a build-only target")
  endif()
endforeach()

# 2. An out-of-tree project: find_package(cqlasio), cqlsim in-process, the driver.
set(sanitize_flags "")
if(CQL_SANITIZE)
  set(sanitize_flags "-fsanitize=${CQL_SANITIZE} -fno-omit-frame-pointer")
endif()
set(consumer_args
  -S ${CQL_CONSUMER_DIR} -B ${CQL_WORK_DIR}/consumer-build
  -G "${CQL_GENERATOR}"
  -DCMAKE_PREFIX_PATH=${prefix}
  -DCMAKE_CXX_COMPILER=${CQL_CXX_COMPILER}
  "-DCMAKE_CXX_FLAGS=${sanitize_flags}"
  "-DCMAKE_EXE_LINKER_FLAGS=${sanitize_flags}")
if(CQL_MAKE_PROGRAM)
  list(APPEND consumer_args -DCMAKE_MAKE_PROGRAM=${CQL_MAKE_PROGRAM})
endif()
if(CQL_LAUNCHER)
  list(APPEND consumer_args -DCMAKE_CXX_COMPILER_LAUNCHER=${CQL_LAUNCHER})
endif()
if(CQL_CONFIG)
  list(APPEND consumer_args -DCMAKE_BUILD_TYPE=${CQL_CONFIG})
endif()
file(REMOVE_RECURSE ${CQL_WORK_DIR}/consumer-build)
cql_run("configuring the consumer" COMMAND ${CMAKE_COMMAND} ${consumer_args})
cql_run("building the consumer"
  COMMAND ${CMAKE_COMMAND} --build ${CQL_WORK_DIR}/consumer-build ${config_args} -j2)
cql_built_program(consumer consumer_exe)
cql_expect_line("the consumer" ${consumer_exe} 120
  "^cqlasio consumer: connected to 127\\.0\\.0\\.1:[0-9]+, release_version ")

# 2b. The consumer's program using Asio's deprecated names next to the driver.
set(deprecated_line "^cqlasio deprecated asio names: 2 handlers ran, logger set$")
cql_built_program(deprecated_asio deprecated_exe)
cql_expect_line("deprecated_asio" ${deprecated_exe} 60 "${deprecated_line}")

# 3. pkg-config: one file using the protocol layer, compiled with those flags alone.
if(NOT CQL_PKG_CONFIG)
  message(FATAL_ERROR "package test: pkg-config was not found")
endif()
get_filename_component(pc_dir ${pc_file} DIRECTORY)
set(ENV{PKG_CONFIG_PATH} ${pc_dir})
cql_run("pkg-config --cflags --libs cqlasio"
  COMMAND ${CQL_PKG_CONFIG} --cflags --libs cqlasio OUTPUT flags)
string(STRIP "${flags}" flags)
message(STATUS "pkg-config --cflags --libs cqlasio: ${flags}")
separate_arguments(flags UNIX_COMMAND "${flags}")
separate_arguments(sanitize_list UNIX_COMMAND "${sanitize_flags}")
set(pc_exe ${CQL_WORK_DIR}/protocol_only)
set(opt_flags "")
if(CQL_CONFIG MATCHES "^(Release|RelWithDebInfo)$")
  set(opt_flags -O3)
endif()
file(REMOVE ${pc_exe})
cql_run("compiling with pkg-config's flags"
  COMMAND ${CQL_LAUNCHER} ${CQL_CXX_COMPILER} -std=c++20 ${opt_flags} -Wall -Wextra -Wpedantic
          -Wshadow -Wold-style-cast -Werror ${sanitize_list} ${CQL_PROTOCOL_ONLY} ${flags}
          -o ${pc_exe})
cql_expect_line("the pkg-config program" ${pc_exe} 60
  "^cqlasio pkg-config consumer: protocol OPTIONS OK$")

# 4. pkg-config's flags force no Asio setting but the one the library was built with, and a
# driver program using Asio's deprecated names builds and links with them alone.
if(flags MATCHES "NO_DEPRECATED")
  message(FATAL_ERROR "package test: pkg-config's flags force BOOST_ASIO_NO_DEPRECATED: ${flags}")
endif()
set(pc_driver_exe ${CQL_WORK_DIR}/deprecated_asio_pkg_config)
file(REMOVE ${pc_driver_exe})
cql_run("compiling deprecated_asio.cpp with pkg-config's flags"
  COMMAND ${CQL_LAUNCHER} ${CQL_CXX_COMPILER} -std=c++20 ${opt_flags} -Wall -Wextra -Wpedantic
          -Werror ${sanitize_list} ${CQL_CONSUMER_DIR}/deprecated_asio.cpp ${flags}
          -o ${pc_driver_exe})
cql_expect_line("the pkg-config driver program" ${pc_driver_exe} 60 "${deprecated_line}")
