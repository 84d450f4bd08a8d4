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
  dump_pprof 180
  dump_rbp 60
  dump_dstate 60)

pprobe_integration_tests(dump ${PPROBE_DUMP_INTEGRATION_TESTS})
