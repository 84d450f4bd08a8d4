/* test_cli.c - the option parser, called directly.
 *
 * Flags are single words (Go's style, one dash or two): a one-letter flag
 * that takes a value may have it glued on (-p1234), but switches are not
 * combined, and a switch glued to anything else is an unknown flag.  Each
 * bad command line is a usage error (-EINVAL, which main turns into exit
 * 2) with a message that names the flag and what was wrong.
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "pprobe/cli.h"
#include "pprobe/options.h"

struct parsed {
	int rc;
	enum cli_action action;
	struct options o;
	char err[256];
};

/* Parse the NULL-terminated words after "pprobe". */
static struct parsed parse_v(const char *const *words)
{
	struct parsed r;
	char *argv[32];
	int argc = 0;

	argv[argc++] = (char *)"pprobe";
	while (*words && argc < 31)
		argv[argc++] = (char *)*words++;
	argv[argc] = NULL;
	memset(&r, 0, sizeof(r));
	options_init(&r.o);
	r.rc = cli_parse(argc, argv, &r.o, &r.action, r.err, sizeof(r.err));
	return r;
}

#define PARSE(...) parse_v((const char *const[]){ __VA_ARGS__, NULL })

/* A usage error with exactly this message. */
#define CHECK_USAGE(msg, ...)                                                  \
	do {                                                                   \
		struct parsed r_ = PARSE(__VA_ARGS__);                         \
		CHECK_EQ_INT(r_.rc, -EINVAL);                                  \
		CHECK_EQ_STR(r_.err, msg);                                     \
	} while (0)

int main(void)
{
	struct parsed r;

	/* What works. */
	r = PARSE("-p", "1234", "-q", "--verbose", "-seconds=2.5", "--hz", "99");
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_INT(r.action, CLI_RUN);
	CHECK_EQ_INT(r.o.pid, 1234);
	CHECK(r.o.quiet);
	CHECK(r.o.verbose);
	CHECK(r.o.seconds == 2.5);
	CHECK_EQ_INT(r.o.hz, 99);

	r = PARSE("dump", "-p1234", "-o/tmp/x=y", "-v");
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_INT(r.o.command, OPTIONS_CMD_DUMP);
	CHECK_EQ_INT(r.o.pid, 1234);
	CHECK_EQ_STR(r.o.output, "/tmp/x=y");
	CHECK(r.o.verbose);

	r = PARSE("-p=7", "-t1,2", "-seconds", "86400", "-debuginfod-timeout", "1");
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_INT(r.o.pid, 7);
	CHECK_EQ_INT(r.o.ntids, 2);
	CHECK(r.o.seconds == 86400);
	CHECK(r.o.debuginfod_timeout == 1);

	r = PARSE("-h");
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_INT(r.action, CLI_HELP);

	/* Switches glued together or to other text: -qv applied only -q,
	 * -vfoo was -v, -hz100 printed the help and exited 0. */
	CHECK_USAGE("unknown flag '-qv'", "-p", "1", "-qv");
	CHECK_USAGE("unknown flag '-vq'", "-p", "1", "-vq");
	CHECK_USAGE("unknown flag '-vfoo'", "-p", "1", "-vfoo");
	CHECK_USAGE("unknown flag '-hz100'", "-p", "1", "-hz100");
	CHECK_USAGE("unknown flag '-hfoo'", "-hfoo");
	CHECK_USAGE("unknown flag '--p1234'", "--p1234");
	CHECK_USAGE("unknown flag '-qv'", "-p", "1", "-qv=1");
	r = PARSE("-p", "1", "-qv");
	CHECK(!r.o.quiet);

	/* -seconds: decimal only (0x10 was 16 s), and a message that says
	 * which bound was missed (0 said "not a number of seconds between 0
	 * and 86400"). */
	CHECK_USAGE("-seconds must be greater than 0 (got '0')", "-p", "1", "-seconds", "0");
	CHECK_USAGE("-seconds must be greater than 0 (got '0.0')", "-p", "1", "-seconds", "0.0");
	CHECK_USAGE("-seconds must be at most 86400 (got '86400.5')", "-p", "1", "-seconds",
		    "86400.5");
	CHECK_USAGE("-seconds: '0x10' is not a decimal number of seconds", "-p", "1", "-seconds",
		    "0x10");
	CHECK_USAGE("-seconds: '-1' is not a decimal number of seconds", "-p", "1", "-seconds",
		    "-1");
	CHECK_USAGE("-seconds: '1e3' is not a decimal number of seconds", "-p", "1", "-seconds",
		    "1e3");
	CHECK_USAGE("-seconds: 'inf' is not a decimal number of seconds", "-p", "1", "-seconds",
		    "inf");
	CHECK_USAGE("-seconds: 'nan' is not a decimal number of seconds", "-p", "1", "-seconds",
		    "nan");
	CHECK_USAGE("-seconds: ' 5' is not a decimal number of seconds", "-p", "1", "-seconds",
		    " 5");
	CHECK_USAGE("-seconds: '.' is not a decimal number of seconds", "-p", "1", "-seconds", ".");
	CHECK_USAGE("-seconds: '' is not a decimal number of seconds", "-p", "1", "-seconds=");
	r = PARSE("-p", "1", "-seconds", ".5");
	CHECK_EQ_INT(r.rc, 0);
	CHECK(r.o.seconds == 0.5);
	CHECK_USAGE("-debuginfod-timeout must be at least 1 (got '0.5')", "-p", "1",
		    "-debuginfod-timeout", "0.5");

	/* Integers: decimal digits only. */
	CHECK_USAGE("-hz: '0x10' is not a rate from 1 to 10000", "-p", "1", "-hz", "0x10");
	CHECK_USAGE("-hz: '+5' is not a rate from 1 to 10000", "-p", "1", "-hz", "+5");
	CHECK_USAGE("-p: ' 12' is not a process id", "-p", " 12");
	CHECK_USAGE("-p: '99999999999999999999' is not a process id", "-p",
		    "99999999999999999999");

	/* The rest of the usage errors. */
	CHECK_USAGE("-seconds needs a value (N)", "-p", "1", "-seconds");
	CHECK_USAGE("-quiet takes no value", "-p", "1", "-q=1");
	CHECK_USAGE("missing -p PID", "-q");
	CHECK_USAGE("unexpected argument 'x'", "-p", "1", "x");
	/* A bare pid, as perf and py-spy users type it. */
	CHECK_USAGE("unknown command '1234'; did you mean -p 1234?", "1234");
	CHECK_USAGE("unexpected argument '1234'; did you mean -p 1234?", "dump", "1234");
	CHECK_USAGE("-seconds is not a flag of 'dump'", "dump", "-p", "1", "-seconds", "1");
	return check_done();
}
