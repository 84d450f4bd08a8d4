/* test_session.c - a session that failed early releases nothing it does
 * not own.
 *
 * session_preflight zeroed the session, so the maps descriptor was 0, and
 * session_close after an early failure (no such process, pprobe's own
 * pid) closed stdin: `strace -e close pprobe -p 999999` ended with
 * close(0).  Here fd 0 is a descriptor of the test's own, and must still
 * be open after each failed preflight and its session_close.
 */
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "check.h"
#include "pprobe/cli.h"
#include "pprobe/options.h"
#include "pprobe/session.h"

static void check_failed_preflight(pid_t pid, int want_code)
{
	struct options o;
	struct session s;
	char msg[256] = "";

	options_init(&o);
	o.pid = pid;
	CHECK_EQ_INT(session_preflight(&s, &o, msg, sizeof(msg)), want_code);
	CHECK(msg[0] != '\0');
	CHECK_EQ_INT(s.maps.fd, -1);
	CHECK_EQ_INT(s.sigfd, -1);
	session_close(&s);
	CHECK(fcntl(STDIN_FILENO, F_GETFD) != -1);
	/* Closing twice is as harmless. */
	session_close(&s);
	CHECK(fcntl(STDIN_FILENO, F_GETFD) != -1);
}

int main(void)
{
	int fd = open("/dev/null", O_RDONLY);

	CHECK(fd >= 0);
	if (fd > 0) {
		CHECK_EQ_INT(dup2(fd, STDIN_FILENO), STDIN_FILENO);
		close(fd);
	}
	/* No process has pid INT_MAX (pid_max is at most 2^22). */
	check_failed_preflight(INT_MAX, CLI_EXIT_NOPROC);
	check_failed_preflight(getpid(), CLI_EXIT_USAGE);
	return check_done();
}
