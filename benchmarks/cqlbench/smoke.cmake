# Runs cqlbench (CQLBENCH) with ARGS and checks its exit status and its JSON line:
# present, and (load runs) "errors":0.
execute_process(COMMAND ${CQLBENCH} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err TIMEOUT 110)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cqlbench exited with ${rc}\n${err}")
endif()
if(MODE STREQUAL "idle")
  if(NOT out MATCHES "\n{\"tool\":\"cqlbench\",\"mode\":\"idle_connections\"[^\n]*\"heap_bytes_per_connection\":")
    message(FATAL_ERROR "no idle-connection JSON line in the output\n${err}")
  endif()
else()
  if(NOT out MATCHES "\n{\"tool\":\"cqlbench\",[^\n]*\"ops\":2000,\"errors\":0,\"rows_missing\":0,[^\n]*}")
    message(FATAL_ERROR "no JSON line with 2000 ops and 0 errors in the output\n${err}")
  endif()
endif()
