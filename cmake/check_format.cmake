# Fails when a C++ file of ours differs from what clang-format (.clang-format at the root)
# makes of it. Run by ctest (tools.clang_format):
#   cmake -DCLANG_FORMAT=clang-format -DROOT=<source dir> -P cmake/check_format.cmake
set(folders benchmarks examples fuzz include protocol sim src tests tools)
set(files)
foreach(folder IN LISTS folders)
  file(GLOB_RECURSE found ${ROOT}/${folder}/*.cpp ${ROOT}/${folder}/*.hpp ${ROOT}/${folder}/*.h)
  list(APPEND files ${found})
endforeach()
list(FILTER files EXCLUDE REGEX "/tests/fixtures/")
list(LENGTH files count)
execute_process(COMMAND ${CLANG_FORMAT} --dry-run -Werror ${files}
                RESULT_VARIABLE status ERROR_VARIABLE complaints)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "not formatted by clang-format (run clang-format -i on them):\n"
                      "${complaints}")
endif()
message(STATUS "${count} files formatted as .clang-format says")
