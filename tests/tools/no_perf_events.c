/* no_perf_events PROGRAM [ARG...] - run PROGRAM where perf_event_open(2)
 * fails with EACCES, as in a container or under a seccomp profile that
 * forbids it (root is not exempt from seccomp, unlike perf_event_paranoid).
 *
 * A seccomp filter is installed (no_new_privs first, so no privilege is
 * needed) that answers perf_event_open with EACCES and allows every other
 * call; then PROGRAM is exec'd and inherits it.  Used by
 * tests/integration/test_sampler_fallback.py.  Exits 127 if it cannot. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sock_filter filter[] = {
		/* Only x86_64 calls are judged; anything else is allowed. */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_perf_event_open, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };

	if (argc < 2) {
		fprintf(stderr, "usage: no_perf_events PROGRAM [ARG...]\n");
		return 127;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		perror("no_perf_events: seccomp");
		return 127;
	}
	execvp(argv[1], argv + 1);
	perror("no_perf_events: exec");
	return 127;
}
