/* options.h - every setting of a pprobe run, in one struct.
 *
 * cli.c fills it from argv; drivers read it as `const struct options *`.
 * options_init() is the one place defaults are set.
 */
#ifndef PPROBE_OPTIONS_H
#define PPROBE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum options_command {
	OPTIONS_CMD_RECORD = 0,
	OPTIONS_CMD_DUMP,
	OPTIONS_CMD_TOP,
};

/* Where CPU samples come from (record, top; wall mode always stops). */
enum options_sampler {
	OPTIONS_SAMPLER_AUTO = 0, /* perf events if allowed, else ptrace */
	OPTIONS_SAMPLER_PERF,     /* perf events or fail */
	OPTIONS_SAMPLER_PTRACE,   /* stop each thread (sampler.c) */
};

#define OPTIONS_MAX_TIDS 64

struct options {
	enum options_command command;
	pid_t pid;
	double seconds;
	int hz;
	const char *output;   /* NULL: default name; "-": stdout */
	pid_t tids[OPTIONS_MAX_TIDS];
	size_t ntids;
	bool quiet;
	bool verbose;         /* print stop-time statistics at the end */
	bool group;           /* dump: fold identical stacks */
	const char *format;   /* NULL: guess from -o (see README) */
	bool wall;            /* record: sample every thread, not only those on CPU */
	bool kernel;          /* record -mode wall: kernel stacks of blocked threads */
	enum options_sampler sampler; /* cpu mode's source of samples */
	int nodecount;        /* rows of text reports */
	bool folded_samples;  /* -folded-unit samples: folded values are counts */
	size_t stack_bytes;   /* bytes of stack copied per sample */
	int max_depth;        /* frames per stack */
	bool debuginfod;      /* -debuginfod: fetch debug info (debugfetch.h) */
	double debuginfod_timeout; /* seconds all the fetches of a run may take */
	const char *debuginfod_urls; /* servers to fetch from, NULL: fetch nothing;
					set by main from the flag and the environment */
	const char *argv_line; /* the command line, for the profile's comment */
};

void options_init(struct options *o);

#endif
