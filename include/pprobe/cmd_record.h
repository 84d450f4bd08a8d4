/* cmd_record.h - `pprobe [record]`: sample on-CPU threads, write a profile. */
#ifndef PPROBE_CMD_RECORD_H
#define PPROBE_CMD_RECORD_H

#include "pprobe/options.h"

/* Run the record command; reports its own errors (once, on stderr) and
 * returns the process exit code. */
int cmd_record_run(const struct options *o);

#endif
