# Golden replay tests (test_replay_*.py): a fixture parked at a known place
# is recorded once (tests/tools/snapshot_record: registers, stacks, maps,
# build IDs, vDSO), the fixture is killed, and the recording is unwound and
# symbolized offline (tests/tools/snapshot_replay) and compared frame by
# frame with what the fixture's source says.  The capture needs a live
# process, so these are integration tests; the comparison is exact.  Short
# and through new C paths (the snapshot reader, saved maps): also in the
# sanitizer pass (label asan).

set(PPROBE_REPLAY_TESTS
  replay_parked 120)

set(tests ${PPROBE_REPLAY_TESTS})
while(tests)
  list(POP_FRONT tests name timeout)
  add_test(NAME integration.${name}
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/test_${name}.py)
  set_tests_properties(integration.${name} PROPERTIES
    ENVIRONMENT "PPROBE=$<TARGET_FILE:pprobe>;PPROF_DECODE=$<TARGET_FILE:pprof_decode>;SNAPSHOT_RECORD=$<TARGET_FILE:snapshot_record>;SNAPSHOT_REPLAY=$<TARGET_FILE:snapshot_replay>;FIXTURES=${CMAKE_BINARY_DIR}/fixtures;GO=${PPROBE_TEST_GO};TEST_TMPDIR=${CMAKE_CURRENT_BINARY_DIR}/tmp/${name};DEBUGINFOD_URLS="
    SKIP_RETURN_CODE 77
    TIMEOUT ${timeout}
    LABELS "integration;replay;asan"
    RUN_SERIAL TRUE)
endwhile()
