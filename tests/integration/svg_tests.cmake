# The interactive SVG flame graph in a real browser: tests/tools/svg_sample
# writes a known profile's flame graph and test_svg_browser.py drives
# headless chromium through the DevTools protocol (exit 77 without
# chromium).  Screenshots go to ${CMAKE_BINARY_DIR}/artifacts.
add_test(NAME integration.svg_browser
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/test_svg_browser.py)
set_tests_properties(integration.svg_browser PROPERTIES
  ENVIRONMENT "PPROBE=$<TARGET_FILE:pprobe>;SVG_SAMPLE=$<TARGET_FILE:svg_sample>;ARTIFACTS_DIR=${CMAKE_BINARY_DIR}/artifacts;TEST_TMPDIR=${CMAKE_CURRENT_BINARY_DIR}/tmp/svg_browser"
  SKIP_RETURN_CODE 77
  TIMEOUT 180
  LABELS integration)
