/* timeutil.h - monotonic and wall clocks in nanoseconds. */
#ifndef PPROBE_TIMEUTIL_H
#define PPROBE_TIMEUTIL_H

#include <stdint.h>

int64_t timeutil_mono_ns(void);
int64_t timeutil_wall_ns(void);
/* Format a duration compactly: "1.23s", "450ms", "80us", "12ns". */
void timeutil_format_duration(int64_t ns, char *buf, unsigned len);

#endif
