/* cli.c - command-line parsing (see cli.h).
 *
 * The table below is the only list of flags: the parser, --help and
 * --list-flags (used by the test that keeps the man page and completions in
 * sync) all read it.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pprobe/cli.h"

enum cli_opt_id {
	OPT_PID,
	OPT_SECONDS,
	OPT_HZ,
	OPT_OUTPUT,
	OPT_TIDS,
	OPT_QUIET,
	OPT_VERBOSE,
	OPT_FORMAT,
	OPT_GROUP,
	OPT_MODE,
	OPT_KERNEL,
	OPT_SAMPLER,
	OPT_NODECOUNT,
	OPT_FOLDED_UNIT,
	OPT_DEBUGINFOD,
	OPT_DEBUGINFOD_TIMEOUT,
	OPT_HELP,
	OPT_VERSION,
	OPT_LIST_FLAGS,
};

#define CLI_REC (1u << OPTIONS_CMD_RECORD)
#define CLI_DUMP (1u << OPTIONS_CMD_DUMP)
#define CLI_TOP (1u << OPTIONS_CMD_TOP)
#define CLI_ALL (CLI_REC | CLI_DUMP | CLI_TOP)

struct cli_opt {
	const char *name;  /* long name, used with one or two dashes */
	char shortname;    /* single-letter alias, or 0 */
	const char *arg;   /* argument name, NULL for a switch */
	unsigned commands; /* which commands take it */
	enum cli_opt_id id;
	const char *help;
};

static const struct cli_opt cli_opts[] = {
	{ "pid", 'p', "PID", CLI_ALL, OPT_PID, "process to attach to (required)" },
	{ "seconds", 0, "N", CLI_REC, OPT_SECONDS, "length of the sampling window (default 30; fractions allowed)" },
	{ "hz", 0, "N", CLI_REC | CLI_TOP, OPT_HZ, "samples per second of each thread sampled (cpu: running ones; wall: all), 1-10000 (default 100)" },
	{ "output", 'o', "FILE", CLI_REC | CLI_DUMP, OPT_OUTPUT, "where to write; - for stdout (default ./pprobe.COMM.PID.TIME.MODE.pb.gz; dump: stdout)" },
	{ "tids", 't', "TID[,TID...]", CLI_REC | CLI_TOP, OPT_TIDS, "sample only these threads" },
	{ "mode", 0, "MODE", CLI_REC | CLI_TOP, OPT_MODE, "cpu (threads on CPU, default) or wall (every thread, running or not)" },
	{ "format", 0, "FMT", CLI_REC | CLI_DUMP, OPT_FORMAT, "record: pprof, folded, text or svg; dump: text, json or pprof (default: from -o's extension)" },
	{ "nodecount", 0, "N", CLI_REC, OPT_NODECOUNT, "rows of the text report and the summary (default 10)" },
	{ "folded-unit", 0, "UNIT", CLI_REC, OPT_FOLDED_UNIT, "values of folded output: ns (CPU or wall nanoseconds, default) or samples (counts, what flamegraph.pl calls samples)" },
	{ "sampler", 0, "KIND", CLI_REC | CLI_TOP, OPT_SAMPLER, "cpu mode: perf (kernel timer, no stops), ptrace (stop each thread) or auto (perf if allowed, default)" },
	{ "kernel", 0, NULL, CLI_REC | CLI_TOP, OPT_KERNEL, "wall mode only: add blocked threads' kernel stacks, marked [kernel] (needs root)" },
	{ "group", 0, NULL, CLI_DUMP, OPT_GROUP, "fold threads with identical stacks (automatic above 64 threads)" },
	{ "debuginfod", 0, NULL, CLI_ALL, OPT_DEBUGINFOD, "fetch missing debug info from debuginfod servers: DEBUGINFOD_URLS, else /etc/debuginfod/*.urls (DEBUGINFOD_URLS set turns this on too)" },
	{ "debuginfod-timeout", 0, "N", CLI_ALL, OPT_DEBUGINFOD_TIMEOUT, "seconds all the fetches of a run may take together (default 30)" },
	{ "quiet", 'q', NULL, CLI_ALL, OPT_QUIET, "errors only: no status line, no Saved line, no summary, notes or warnings" },
	{ "verbose", 'v', NULL, CLI_ALL, OPT_VERBOSE, "print the sampler used, how long threads were stopped or perf events' losses, and whose symbols loaded before attaching (record, top), or how long the process was frozen (dump)" },
	{ "help", 'h', NULL, CLI_ALL, OPT_HELP, "show this help" },
	{ "version", 0, NULL, CLI_ALL, OPT_VERSION, "show the version" },
	{ "list-flags", 0, NULL, CLI_ALL, OPT_LIST_FLAGS, NULL },
};

#define CLI_NOPTS (sizeof(cli_opts) / sizeof(cli_opts[0]))

static const char *const cli_commands[] = { "record", "dump", "top" };

static int cli_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cli_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const struct cli_opt *cli_find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < CLI_NOPTS; i++)
		if (strlen(cli_opts[i].name) == len && !strncmp(cli_opts[i].name, name, len))
			return &cli_opts[i];
	return NULL;
}

static const struct cli_opt *cli_find_short(char c)
{
	for (size_t i = 0; i < CLI_NOPTS; i++)
		if (cli_opts[i].shortname == c)
			return &cli_opts[i];
	return NULL;
}

/* Is s a plain decimal number: digits, and with fraction also one '.'
 * followed by digits?  strtol and strtod take more than a person means by
 * a count of seconds or a pid: leading blanks, a sign, hex ("0x10" is 16),
 * exponents, "inf" and "nan". */
static bool cli_is_decimal(const char *s, bool fraction)
{
	bool digits = false;

	for (; *s >= '0' && *s <= '9'; s++)
		digits = true;
	if (fraction && *s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++)
			digits = true;
	}
	return digits && *s == '\0';
}

/* Parse a whole decimal integer in [lo, hi] (lo >= 0). */
static int cli_parse_long(const char *s, long lo, long hi, long *out)
{
	long v;

	if (!cli_is_decimal(s, false))
		return -EINVAL;
	errno = 0;
	v = strtol(s, NULL, 10);
	if (errno || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Parse a decimal number of seconds, fractions allowed, in (0, hi] when
 * lo_open, else [lo, hi], with a message naming the bound it misses. */
static int cli_parse_seconds(const char *flag, const char *s, double lo, bool lo_open,
			     double hi, double *out, char *err, size_t errlen)
{
	double d;

	if (!cli_is_decimal(s, true))
		return cli_fail(err, errlen, "%s: '%s' is not a decimal number of seconds", flag, s);
	d = strtod(s, NULL);
	if (lo_open ? d <= lo : d < lo)
		return cli_fail(err, errlen, "%s must be %s %g (got '%s')", flag,
				lo_open ? "greater than" : "at least", lo, s);
	if (d > hi)
		return cli_fail(err, errlen, "%s must be at most %g (got '%s')", flag, hi, s);
	*out = d;
	return 0;
}

static int cli_parse_tids(const char *s, struct options *o, char *err, size_t errlen)
{
	char buf[1024];
	char *save = NULL, *tok;

	if (strlen(s) >= sizeof(buf))
		return cli_fail(err, errlen, "-t: list too long");
	strcpy(buf, s);
	o->ntids = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		long v;

		if (cli_parse_long(tok, 1, INT_MAX, &v))
			return cli_fail(err, errlen, "-t: '%s' is not a thread id", tok);
		if (o->ntids == OPTIONS_MAX_TIDS)
			return cli_fail(err, errlen, "-t: at most %d thread ids", OPTIONS_MAX_TIDS);
		o->tids[o->ntids++] = (pid_t)v;
	}
	if (o->ntids == 0)
		return cli_fail(err, errlen, "-t: no thread id given");
	return 0;
}

static int cli_apply(const struct cli_opt *opt, const char *typed, const char *val,
		     struct options *o, enum cli_action *action, char *err, size_t errlen)
{
	long v;

	if (!(opt->commands & (1u << o->command)))
		return cli_fail(err, errlen, "%s is not a flag of '%s'", typed,
				cli_commands[o->command]);
	switch (opt->id) {
	case OPT_PID:
		if (cli_parse_long(val, 1, INT_MAX, &v))
			return cli_fail(err, errlen, "-p: '%s' is not a process id", val);
		o->pid = (pid_t)v;
		break;
	case OPT_SECONDS:
		return cli_parse_seconds("-seconds", val, 0, true, 86400, &o->seconds, err, errlen);
	case OPT_HZ:
		if (cli_parse_long(val, 1, 10000, &v))
			return cli_fail(err, errlen, "-hz: '%s' is not a rate from 1 to 10000", val);
		o->hz = (int)v;
		break;
	case OPT_OUTPUT:
		if (!*val)
			return cli_fail(err, errlen, "-o: empty file name");
		o->output = val;
		break;
	case OPT_TIDS:
		return cli_parse_tids(val, o, err, errlen);
	case OPT_FORMAT:
		if (o->command == OPTIONS_CMD_DUMP && strcmp(val, "text") && strcmp(val, "json") &&
		    strcmp(val, "pprof"))
			return cli_fail(err, errlen, "-format: '%s' is not one of text, json, pprof", val);
		if (o->command == OPTIONS_CMD_RECORD && strcmp(val, "pprof") && strcmp(val, "folded") &&
		    strcmp(val, "text") && strcmp(val, "svg"))
			return cli_fail(err, errlen, "-format: '%s' is not one of pprof, folded, text, svg",
					val);
		o->format = val;
		break;
	case OPT_MODE:
		if (!strcmp(val, "cpu"))
			o->wall = false;
		else if (!strcmp(val, "wall"))
			o->wall = true;
		else
			return cli_fail(err, errlen, "-mode: '%s' is not cpu or wall", val);
		break;
	case OPT_KERNEL:
		o->kernel = true;
		break;
	case OPT_SAMPLER:
		if (!strcmp(val, "auto"))
			o->sampler = OPTIONS_SAMPLER_AUTO;
		else if (!strcmp(val, "perf"))
			o->sampler = OPTIONS_SAMPLER_PERF;
		else if (!strcmp(val, "ptrace"))
			o->sampler = OPTIONS_SAMPLER_PTRACE;
		else
			return cli_fail(err, errlen, "-sampler: '%s' is not auto, perf or ptrace", val);
		break;
	case OPT_NODECOUNT:
		if (cli_parse_long(val, 1, 100000, &v))
			return cli_fail(err, errlen, "-nodecount: '%s' is not a count from 1 to 100000", val);
		o->nodecount = (int)v;
		break;
	case OPT_FOLDED_UNIT:
		if (strcmp(val, "ns") && strcmp(val, "samples"))
			return cli_fail(err, errlen, "-folded-unit: '%s' is not ns or samples", val);
		o->folded_samples = !strcmp(val, "samples");
		break;
	case OPT_GROUP:
		o->group = true;
		break;
	case OPT_DEBUGINFOD:
		o->debuginfod = true;
		break;
	case OPT_DEBUGINFOD_TIMEOUT:
		return cli_parse_seconds("-debuginfod-timeout", val, 1, false, 86400,
					 &o->debuginfod_timeout, err, errlen);
	case OPT_QUIET:
		o->quiet = true;
		break;
	case OPT_VERBOSE:
		o->verbose = true;
		break;
	case OPT_HELP:
		*action = CLI_HELP;
		break;
	case OPT_VERSION:
		*action = CLI_VERSION;
		break;
	case OPT_LIST_FLAGS:
		*action = CLI_LIST_FLAGS;
		break;
	}
	return 0;
}

int cli_parse(int argc, char **argv, struct options *o, enum cli_action *action,
	      char *err, size_t errlen)
{
	int i = 1;
	int rc;

	*action = CLI_RUN;
	if (i < argc && argv[i][0] != '-') {
		if (!strcmp(argv[i], "record"))
			o->command = OPTIONS_CMD_RECORD;
		else if (!strcmp(argv[i], "dump"))
			o->command = OPTIONS_CMD_DUMP;
		else if (!strcmp(argv[i], "top"))
			o->command = OPTIONS_CMD_TOP;
		else if (cli_is_decimal(argv[i], false))
			/* perf and py-spy users type the pid as it comes. */
			return cli_fail(err, errlen, "unknown command '%s'; did you mean -p %s?",
					argv[i], argv[i]);
		else
			return cli_fail(err, errlen, "unknown command '%s'", argv[i]);
		i++;
	}
	for (; i < argc; i++) {
		const char *a = argv[i];
		const char *name, *eq, *val = NULL;
		const struct cli_opt *opt;
		char typed[64];
		size_t nlen;

		if ((a[0] != '-' || a[1] == '\0') && cli_is_decimal(a, false))
			return cli_fail(err, errlen, "unexpected argument '%s'; did you mean -p %s?", a, a);
		if (a[0] != '-' || a[1] == '\0')
			return cli_fail(err, errlen, "unexpected argument '%s'", a);
		name = a + 1 + (a[1] == '-');
		eq = strchr(name, '=');
		nlen = eq ? (size_t)(eq - name) : strlen(name);
		opt = cli_find_long(name, nlen);
		if (!opt && a[1] != '-') {
			const struct cli_opt *sh = cli_find_short(name[0]);

			/* -q, -p 1234; and the value of a one-letter flag that
			 * takes one glued on: -p1234, -o/tmp/x.  A switch glued
			 * to anything (-qv, -vfoo, -hz100) is a word of its own
			 * that names no flag: flags are single words, as Go's,
			 * and are not combined. */
			if (sh && nlen == 1) {
				opt = sh;
			} else if (sh && sh->arg) {
				opt = sh;
				val = name + 1;
				eq = NULL;
			}
		}
		if (!opt)
			return cli_fail(err, errlen, "unknown flag '%.*s'", (int)(nlen + (name - a)), a);
		if (opt->arg && !val) {
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return cli_fail(err, errlen, "-%s needs a value (%s)", opt->name, opt->arg);
		} else if (!opt->arg && eq) {
			return cli_fail(err, errlen, "-%s takes no value", opt->name);
		}
		snprintf(typed, sizeof(typed), "%.*s", (int)(nlen + (size_t)(name - a)), a);
		rc = cli_apply(opt, typed, val, o, action, err, errlen);
		if (rc)
			return rc;
	}
	if (*action != CLI_RUN)
		return 0;
	if (o->pid == 0)
		return cli_fail(err, errlen, "missing -p PID");
	/* In cpu mode every sample is of a thread on CPU: there is no
	 * blocked thread whose kernel stack -kernel could add. */
	if (o->kernel && !o->wall)
		return cli_fail(err, errlen, "-kernel adds blocked threads' kernel stacks: it needs "
				"-mode wall");
	return 0;
}

void cli_print_help(FILE *out)
{
	fprintf(out,
		"Usage: pprobe [record] -p PID [-seconds N] [-hz N] [-mode cpu|wall] [-o FILE]\n"
		"                [-format pprof|folded|text|svg] [-folded-unit ns|samples]\n"
		"                [-nodecount N] [-kernel]\n"
		"                [-sampler auto|perf|ptrace]\n"
		"                [-t TID,...] [-debuginfod] [-debuginfod-timeout N] [-q] [-v]\n"
		"       pprobe dump -p PID [-o FILE] [-format text|json|pprof] [-group]\n"
		"                [-debuginfod] [-debuginfod-timeout N] [-q] [-v]\n"
		"       pprobe top -p PID [-hz N] [-mode cpu|wall] [-kernel] [-t TID,...]\n"
		"                [-sampler auto|perf|ptrace]\n"
		"                [-debuginfod] [-debuginfod-timeout N] [-q] [-v]\n"
		"       pprobe -h | --help | --version\n"
		"\n"
		"Attach to a running process with ptrace, without changing it, and tell what\n"
		"it is doing.  record (the default) samples the threads that are on CPU and\n"
		"writes a pprof CPU profile for `go tool pprof`; dump shows every thread's\n"
		"state, what it waits on, and its stack; top is a live view of the hottest\n"
		"functions (q or Ctrl-C ends it).\n"
		"\n"
		"Flags (one or two dashes; -flag value, -flag=value or -p1234; -q -v, not -qv):\n");
	for (size_t i = 0; i < CLI_NOPTS; i++) {
		const struct cli_opt *opt = &cli_opts[i];
		char left[64];

		if (!opt->help)
			continue;
		if (opt->shortname)
			snprintf(left, sizeof(left), "-%c, -%s%s%s", opt->shortname, opt->name,
				 opt->arg ? " " : "", opt->arg ? opt->arg : "");
		else
			snprintf(left, sizeof(left), "-%s%s%s", opt->name, opt->arg ? " " : "",
				 opt->arg ? opt->arg : "");
		fprintf(out, "  %-24s %s", left, opt->help);
		if (opt->commands != CLI_ALL) {
			const char *sep = " [";

			for (size_t c = 0; c < sizeof(cli_commands) / sizeof(cli_commands[0]); c++)
				if (opt->commands & (1u << c)) {
					fprintf(out, "%s%s", sep, cli_commands[c]);
					sep = ", ";
				}
			fputc(']', out);
		}
		fputc('\n', out);
	}
	fprintf(out,
		"\n"
		"Exit codes: 0 ok, 1 runtime failure, 2 usage error, 3 no such process,\n"
		"            4 permission denied, 5 already traced by another tracer.\n"
		"\n"
		"Needs root or CAP_SYS_PTRACE (or the same user with kernel.yama.ptrace_scope 0).\n"
		"Examples:\n"
		"  sudo pprobe -p 1234 -seconds 30 && go tool pprof -top pprobe.*.pb.gz\n"
		"  sudo pprobe dump -p 1234\n");
}

void cli_print_flags(FILE *out)
{
	for (size_t i = 0; i < sizeof(cli_commands) / sizeof(cli_commands[0]); i++)
		fprintf(out, "command %s\n", cli_commands[i]);
	for (size_t i = 0; i < CLI_NOPTS; i++) {
		if (!cli_opts[i].help)
			continue;
		fprintf(out, "flag %s", cli_opts[i].name);
		if (cli_opts[i].shortname)
			fprintf(out, " %c", cli_opts[i].shortname);
		fputc('\n', out);
	}
}
