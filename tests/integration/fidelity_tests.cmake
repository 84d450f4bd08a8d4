# Fidelity tests (test_fidelity_*.py): pprobe against fixtures built every
# way a profiler meets programs in the field (fixtures/fidelity/), checked
# against gdb and perf where those can say.  Included from CMakeLists.txt
# and registered like the others there: serial, scratch files in
# tmp/<test>, exit 77 is a skip (the test prints why).  test_fidelity_lib.py
# holds their shared helpers and is not a test.

# name -> TIMEOUT in seconds
set(PPROBE_FIDELITY_TESTS
  fidelity_debuginfo 180
  fidelity_debuginfod 240
  fidelity_nounwind 120
  fidelity_rust 120
  fidelity_signal 120
  fidelity_jit 180
  fidelity_mntns 120
  fidelity_deleted 120
  fidelity_deep 120
  fidelity_gdb_oracle 180
  fidelity_perf_oracle 180
  fidelity_layout 180
  fidelity_go 180
  fidelity_gostrip 120
  fidelity_v8frames 60
  fidelity_cxx 120)

pprobe_integration_tests(fidelity ${PPROBE_FIDELITY_TESTS})
