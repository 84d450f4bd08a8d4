/* placeholder until the flame graph writer lands */
#include <errno.h>
#include "pprobe/fmt_svg.h"
int fmt_svg_flamegraph(const struct profile *p, int vi, const char *title, FILE *out)
{
	(void)p; (void)vi; (void)title; (void)out;
	return -ENOSYS;
}
