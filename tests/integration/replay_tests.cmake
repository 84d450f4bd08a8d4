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

pprobe_integration_tests("replay;asan" ${PPROBE_REPLAY_TESTS})
# The recording and replaying tools, beside what every test reads.
set(tests ${PPROBE_REPLAY_TESTS})
while(tests)
  list(POP_FRONT tests name timeout)
  set_property(TEST integration.${name} APPEND PROPERTY ENVIRONMENT
    "SNAPSHOT_RECORD=$<TARGET_FILE:snapshot_record>"
    "SNAPSHOT_REPLAY=$<TARGET_FILE:snapshot_replay>")
endwhile()
