/* cmd_dump.h - `pprobe dump`: one consistent snapshot of every thread. */
#ifndef PPROBE_CMD_DUMP_H
#define PPROBE_CMD_DUMP_H

#include "pprobe/options.h"

/* Run the dump command; reports its own errors and returns the exit code. */
int cmd_dump_run(const struct options *o);

#endif
