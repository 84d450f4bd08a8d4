/* main.c - the dispatcher: parse the command line, run a command. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pprobe/cli.h"
#include "pprobe/cmd_dump.h"
#include "pprobe/cmd_record.h"
#include "pprobe/cmd_top.h"
#include "pprobe/options.h"

/* The command line as one string, for the profile's comments. */
static char *main_join_argv(int argc, char **argv)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	if (!s)
		return NULL;
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

int main(int argc, char **argv)
{
	struct options o;
	enum cli_action action;
	char err[256];
	char *line;
	int code;

	/* Debug info is fetched from the network only when asked for. */
	unsetenv("DEBUGINFOD_URLS");
	signal(SIGPIPE, SIG_IGN);
	options_init(&o);
	if (cli_parse(argc, argv, &o, &action, err, sizeof(err)) != 0) {
		fprintf(stderr, "pprobe: %s; try 'pprobe --help'\n", err);
		return CLI_EXIT_USAGE;
	}
	switch (action) {
	case CLI_HELP:
		cli_print_help(stdout);
		return CLI_EXIT_OK;
	case CLI_VERSION:
		printf("pprobe %s\n", PPROBE_VERSION);
		return CLI_EXIT_OK;
	case CLI_LIST_FLAGS:
		cli_print_flags(stdout);
		return CLI_EXIT_OK;
	case CLI_RUN:
		break;
	}
	line = main_join_argv(argc, argv);
	o.argv_line = line;
	switch (o.command) {
	case OPTIONS_CMD_DUMP:
		code = cmd_dump_run(&o);
		break;
	case OPTIONS_CMD_TOP:
		code = cmd_top_run(&o);
		break;
	case OPTIONS_CMD_RECORD:
	default:
		code = cmd_record_run(&o);
		break;
	}
	free(line);
	return code;
}
