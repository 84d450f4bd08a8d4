/* preflight.c - target checks before attaching (see preflight.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pprobe/cli.h"
#include "pprobe/preflight.h"
#include "pprobe/procfs.h"

static int preflight_fail(struct preflight *pf, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int preflight_fail(struct preflight *pf, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pf->msg, sizeof(pf->msg), fmt, ap);
	va_end(ap);
	pf->exit_code = code;
	return -1;
}

int preflight_check(const struct options *o, struct preflight *pf)
{
	struct procfs_status st, tracer;
	pid_t pid = o->pid, live;
	int kt;

	memset(pf, 0, sizeof(*pf));
	if (pid == getpid())
		return preflight_fail(pf, CLI_EXIT_USAGE, "refusing to trace pprobe itself (pid %d)", (int)pid);
	if (pid == getppid())
		return preflight_fail(pf, CLI_EXIT_USAGE,
				      "refusing to trace pprobe's own parent process (pid %d)", (int)pid);
	if (procfs_read_status(pid, &st) != 0)
		return preflight_fail(pf, CLI_EXIT_NOPROC, "no such process %d", (int)pid);
	snprintf(pf->comm, sizeof(pf->comm), "%s", st.name);
	if (st.tgid != pid)
		return preflight_fail(pf, CLI_EXIT_USAGE,
				      "%d is a thread of process %d; use -p %d -t %d", (int)pid,
				      (int)st.tgid, (int)st.tgid, (int)pid);
	if ((st.state == 'Z' || st.state == 'X') && procfs_find_live_task(pid, &live) <= 0)
		return preflight_fail(pf, CLI_EXIT_NOPROC,
				      "process %d (%s) is a zombie: it has exited and waits for its parent to reap it",
				      (int)pid, st.name);
	kt = procfs_is_kthread(pid);
	if (kt > 0)
		return preflight_fail(pf, CLI_EXIT_USAGE,
				      "process %d (%s) is a kernel thread: it has no user-space stack to profile",
				      (int)pid, st.name);
	if (st.tracer_pid != 0) {
		if (procfs_read_status(st.tracer_pid, &tracer) != 0)
			tracer.name[0] = '\0';
		return preflight_fail(pf, CLI_EXIT_TRACED,
				      "process %d is already traced by process %d (%s); only one tracer can attach",
				      (int)pid, (int)st.tracer_pid, tracer.name[0] ? tracer.name : "?");
	}
	for (size_t i = 0; i < o->ntids; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)pid, (int)o->tids[i]);
		if (access(path, F_OK) != 0)
			return preflight_fail(pf, CLI_EXIT_USAGE, "-t: %d is not a thread of process %d",
					      (int)o->tids[i], (int)pid);
	}
	return 0;
}
