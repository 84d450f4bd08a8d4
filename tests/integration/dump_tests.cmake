# Integration tests of `pprobe dump` (test_dump_*.py), included from
# CMakeLists.txt and registered the same way as the others there: run
# serially, scratch files in tmp/<test>, exit 77 is a skip.  They run
# against the dump fixtures (fixtures/dump/); only dump_pprof needs go.

# name -> TIMEOUT in seconds
set(PPROBE_DUMP_INTEGRATION_TESTS
  dump_waits 120
  dump_repeat 240
  dump_stopped 120
  dump_many 240
  dump_pprof 180)

while(PPROBE_DUMP_INTEGRATION_TESTS)
  list(POP_FRONT PPROBE_DUMP_INTEGRATION_TESTS name timeout)
  add_test(NAME integration.${name}
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/test_${name}.py)
  set_tests_properties(integration.${name} PROPERTIES
    ENVIRONMENT "PPROBE=$<TARGET_FILE:pprobe>;PPROF_DECODE=$<$<TARGET_EXISTS:pprof_decode>:$<TARGET_FILE:pprof_decode>>;FIXTURES=${CMAKE_BINARY_DIR}/fixtures;GO=${PPROBE_TEST_GO};TEST_TMPDIR=${CMAKE_CURRENT_BINARY_DIR}/tmp/${name}"
    SKIP_RETURN_CODE 77
    TIMEOUT ${timeout}
    LABELS "integration;dump"
    RUN_SERIAL TRUE)
endwhile()
