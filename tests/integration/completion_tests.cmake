# The test that keeps the option table, --help, the man page and the three
# shell completions in sync, and runs the completions in bash, zsh and fish
# (test_completions.py).  Included from CMakeLists.txt and registered like
# the tests there (exit 77 is a skip, scratch files in tmp/<test>); it needs
# no fixture and no go, and burns no CPU, so it need not run serially.
add_test(NAME integration.completions
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/test_completions.py)
set_tests_properties(integration.completions PROPERTIES
  ENVIRONMENT "PPROBE=$<TARGET_FILE:pprobe>;PPROBE_SOURCE_DIR=${PROJECT_SOURCE_DIR};TEST_TMPDIR=${CMAKE_CURRENT_BINARY_DIR}/tmp/completions"
  SKIP_RETURN_CODE 77
  TIMEOUT 300
  LABELS "integration;completions")
