/* cmd_top.h - `pprobe top`: a live view of the hottest functions. */
#ifndef PPROBE_CMD_TOP_H
#define PPROBE_CMD_TOP_H

#include "pprobe/options.h"

/* Run until q, Ctrl-C or the target's exit; returns the exit code. */
int cmd_top_run(const struct options *o);

#endif
