# Runs one compile-fail test: SOURCE must compile as it is, and must fail to compile with
# -DCQL_EXPECT_FAIL, printing every "// expect: TEXT" line of SOURCE (the static_assert's
# message, the instantiation naming the member). Both runs make sure the failure comes
# from the line the test means, not from a broken include path or flag.
#
#   cmake -DCXX=... -DINCLUDES="a|b" -DSOURCE=file.cpp -P compile_fail.cmake
string(REPLACE "|" ";" include_dirs "${INCLUDES}")
set(flags -std=c++20 -fsyntax-only -fdiagnostics-color=never)
foreach(dir IN LISTS include_dirs)
  list(APPEND flags -I${dir})
endforeach()

execute_process(COMMAND ${CXX} ${flags} ${SOURCE} RESULT_VARIABLE ok_rc
                OUTPUT_VARIABLE ok_out ERROR_VARIABLE ok_out)
if(NOT ok_rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} does not compile without CQL_EXPECT_FAIL:\n${ok_out}")
endif()

execute_process(COMMAND ${CXX} ${flags} -DCQL_EXPECT_FAIL ${SOURCE} RESULT_VARIABLE bad_rc
                OUTPUT_VARIABLE bad_out ERROR_VARIABLE bad_out)
if(bad_rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled with CQL_EXPECT_FAIL; it must not")
endif()

file(STRINGS ${SOURCE} expectations REGEX "^// expect: ")
if(NOT expectations)
  message(FATAL_ERROR "${SOURCE} has no '// expect:' line")
endif()
foreach(line IN LISTS expectations)
  string(REPLACE "// expect: " "" text "${line}")
  string(FIND "${bad_out}" "${text}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the compiler's output lacks \"${text}\":\n${bad_out}")
  endif()
endforeach()
message(STATUS "${SOURCE}: fails to compile as expected")
