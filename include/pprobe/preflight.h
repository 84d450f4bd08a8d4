/* preflight.h - check the target before any thread is touched.
 *
 * Everything that can fail because of what the user typed fails here, with
 * the exit code the command should return and a one-line message.
 */
#ifndef PPROBE_PREFLIGHT_H
#define PPROBE_PREFLIGHT_H

#include <sys/types.h>

#include "pprobe/options.h"

struct preflight {
	int exit_code;  /* enum cli_exit; 0 when the target can be traced */
	char msg[256];  /* what is wrong, without the "pprobe: " prefix */
	char comm[64];  /* the target's name */
};

/* Check o->pid (and o->tids) as a target; fills pf.  Returns 0 when the
 * target is fine, -1 otherwise (pf says why). */
int preflight_check(const struct options *o, struct preflight *pf);

#endif
