/* timeutil.c - clocks and duration formatting. */
#include <stdio.h>
#include <time.h>

#include "pprobe/timeutil.h"

int64_t timeutil_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t timeutil_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void timeutil_format_duration(int64_t ns, char *buf, unsigned len)
{
	double v = (double)ns;

	if (ns >= 1000000000 || ns <= -1000000000)
		snprintf(buf, len, "%.2fs", v / 1e9);
	else if (ns >= 1000000 || ns <= -1000000)
		snprintf(buf, len, "%.2fms", v / 1e6);
	else if (ns >= 1000 || ns <= -1000)
		snprintf(buf, len, "%.2fus", v / 1e3);
	else
		snprintf(buf, len, "%lldns", (long long)ns);
}
