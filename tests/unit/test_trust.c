/* test_trust.c - the warnings for a profile not to be trusted (trust.c). */
#include <string.h>

#include "check.h"
#include "pprobe/trust.h"

static int warn(const struct trust_figures *f, char *buf, size_t len)
{
	return trust_format_warnings(f, buf, len);
}

int main(void)
{
	char buf[1024], tiny[24];
	struct trust_figures f;

	/* An idle process: no samples, the reason and -mode wall. */
	f = (struct trust_figures){ .hz = 100, .window_ns = 1000000000, .target_cpu_ns = 0 };
	CHECK_EQ_INT(warn(&f, buf, sizeof(buf)), 1);
	CHECK(strstr(buf, "pprobe: warning: no samples: no thread was on CPU") == buf);
	CHECK(strstr(buf, "-mode wall"));
	/* Issue 12's case: 1 sample while the process used 390 ms of CPU. */
	f = (struct trust_figures){ .hz = 100, .window_ns = 1000000000, .samples = 1,
				    .target_cpu_ns = 390000000 };
	CHECK_EQ_INT(warn(&f, buf, sizeof(buf)), 1);
	CHECK(strstr(buf, "1 samples for 390 ms of CPU the process used (39 expected at 100 Hz)"));
	/* Enough, and as many as the CPU asks: nothing. */
	f.samples = 30;
	CHECK_EQ_INT(warn(&f, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "");
	/* Few, but all the CPU asks for: too few for shares. */
	f = (struct trust_figures){ .hz = 100, .window_ns = 1000000000, .samples = 5,
				    .target_cpu_ns = 50000000 };
	CHECK_EQ_INT(warn(&f, buf, sizeof(buf)), 1);
	CHECK(strstr(buf, "only 5 samples"));
	/* Late ticks past 25%, and wall time at 55% of the threads' time. */
	f = (struct trust_figures){ .wall = true, .hz = 100, .window_ns = 1000000000,
				    .samples = 400, .target_cpu_ns = -1, .ticks = 80,
				    .late_ticks = 40, .wall_ns = 2200000000,
				    .thread_ns = 4000000000 };
	CHECK_EQ_INT(warn(&f, buf, sizeof(buf)), 2);
	CHECK(strstr(buf, "40 of 120 ticks came late"));
	CHECK(strstr(buf, "cover 55% of the threads' time"));
	f.late_ticks = 20;
	f.wall_ns = 3900000000;
	CHECK_EQ_INT(warn(&f, buf, sizeof(buf)), 0);
	/* Cut, still terminated. */
	f = (struct trust_figures){ .hz = 100, .window_ns = 1000000000, .target_cpu_ns = 0 };
	CHECK_EQ_INT(warn(&f, tiny, sizeof(tiny)), 1);
	CHECK(strlen(tiny) < sizeof(tiny));
	return check_done();
}
