# Safety tests (test_safety_*.py): what pprobe must never do to a process
# it works on -- lose or alter a signal, make a call fail with EINTR or a
# sleep end early, leave a thread stopped or traced when it is killed,
# break job control, trace a child, fail on threads that come and go, on
# a target that exits, on another tracer, on hostile ELF files, on a
# planted output path, or on a very large target, nor release it in a way
# that breaks a blocked call.  Included from
# CMakeLists.txt and registered the same way as the others there: run
# serially, scratch files in tmp/<test>, exit 77 is a skip.  They run
# against the safety fixtures (fixtures/safety/).  Label "safety"; the
# long ones also "long".

# name -> TIMEOUT in seconds
set(PPROBE_SAFETY_TESTS
  safety_signals 120
  safety_eintr 120
  safety_kill 180
  safety_jobctl 120
  safety_churn 120
  safety_exec 90
  safety_exit 120
  safety_tracer 90
  safety_badelf 120
  safety_outfile 90
  safety_terminal 90
  safety_escape 90
  safety_chroot 60
  safety_limits 240
  safety_release 240
  safety_stopcont 60
  safety_fifo 180
  safety_execloop 300
  safety_plugins 120
  safety_threads 240)

pprobe_integration_tests(safety ${PPROBE_SAFETY_TESTS})
set_property(TEST integration.safety_kill integration.safety_limits integration.safety_threads APPEND PROPERTY LABELS long)
