/* cli.h - the command line: parsing, checking and --help.
 *
 * Both Go-style (-seconds 30, -seconds=30) and GNU-style (--seconds 30,
 * --seconds=30) flags are accepted.  The option table in cli.c is the single
 * source for parsing and for --help; a test keeps it in sync with the man
 * page and the completion files.
 */
#ifndef PPROBE_CLI_H
#define PPROBE_CLI_H

#include <stdio.h>

#include "pprobe/options.h"

/* Exit codes: one table, documented in README, --help and pprobe.1. */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILURE = 1,
	CLI_EXIT_USAGE = 2,
	CLI_EXIT_NOPROC = 3,
	CLI_EXIT_PERM = 4,
	CLI_EXIT_TRACED = 5,
};

enum cli_action {
	CLI_RUN = 0,     /* options filled, run the command */
	CLI_HELP,        /* print usage, exit 0 */
	CLI_VERSION,     /* print version, exit 0 */
	CLI_LIST_FLAGS,  /* print the flag table, exit 0 */
};

/* Parse argv into o.  On a usage error returns -EINVAL with a one-line
 * message (no "pprobe: " prefix) in err.  *action says what to do. */
int cli_parse(int argc, char **argv, struct options *o, enum cli_action *action,
	      char *err, size_t errlen);

void cli_print_help(FILE *out);

/* Names of every flag (without dashes) and subcommand, one per line, for
 * the sync test (`pprobe --list-flags`). */
void cli_print_flags(FILE *out);

#endif
