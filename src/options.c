/* options.c - the defaults of every setting (see options.h). */
#include <string.h>

#include "pprobe/debugfetch.h"
#include "pprobe/options.h"

void options_init(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->command = OPTIONS_CMD_RECORD;
	o->pid = 0;
	o->seconds = 30.0;
	o->hz = 100;
	o->stack_bytes = 64 * 1024;
	o->max_depth = 256;
	o->nodecount = 10;
	o->debuginfod_timeout = DEBUGFETCH_DEFAULT_TIMEOUT;
}
