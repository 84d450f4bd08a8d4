/* main.c - the dispatcher: parse the command line, run a command. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pprobe/cli.h"
#include "pprobe/cmd_dump.h"
#include "pprobe/cmd_record.h"
#include "pprobe/cmd_top.h"
#include "pprobe/debugfetch.h"
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

/* The debuginfod servers of this run into o (NULL: none), from -debuginfod
 * and the environment (debugfetch.h); a usage error when -debuginfod finds
 * none, before any thread of the target is touched. */
static int main_debuginfod(struct options *o, const char *env_urls, char **urls)
{
	int err = debugfetch_servers(o->debuginfod, env_urls, DEBUGFETCH_URLS_DIR, urls);

	if (err == -ENOENT) {
		fprintf(stderr, "pprobe: -debuginfod: no server: DEBUGINFOD_URLS is not set and no "
			"%s/*.urls file lists one; try 'pprobe --help'\n", DEBUGFETCH_URLS_DIR);
		return CLI_EXIT_USAGE;
	}
	if (err) {
		fprintf(stderr, "pprobe: %s\n", strerror(-err));
		return CLI_EXIT_FAILURE;
	}
	o->debuginfod_urls = *urls;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	enum cli_action action;
	char err[256];
	char *line = NULL, *env_urls, *urls = NULL;
	int code;

	/* Taken out before anything can reach libdwfl, which would otherwise
	 * fetch from these servers whenever a lookup misses -- while the
	 * target is traced too.  Fetching is only when asked (debugfetch.h). */
	env_urls = debugfetch_take_env();
	signal(SIGPIPE, SIG_IGN);
	options_init(&o);
	if (cli_parse(argc, argv, &o, &action, err, sizeof(err)) != 0) {
		fprintf(stderr, "pprobe: %s; try 'pprobe --help'\n", err);
		code = CLI_EXIT_USAGE;
		goto out;
	}
	code = CLI_EXIT_OK;
	switch (action) {
	case CLI_HELP:
		cli_print_help(stdout);
		goto out;
	case CLI_VERSION:
		printf("pprobe %s\n", PPROBE_VERSION);
		goto out;
	case CLI_LIST_FLAGS:
		cli_print_flags(stdout);
		goto out;
	case CLI_RUN:
		break;
	}
	code = main_debuginfod(&o, env_urls, &urls);
	if (code)
		goto out;
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
out:
	free(line);
	free(urls);
	free(env_urls);
	return code;
}
