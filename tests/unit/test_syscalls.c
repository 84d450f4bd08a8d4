/* test_syscalls.c - the system call table against the kernel's own header.
 *
 * syscalls.c writes its numbers out by hand (so pprobe names calls the same
 * whatever headers it was built with); a number typed wrong names the wrong
 * call in every dump (449 and 455, futex_waitv and futex_wait, were once
 * swapped, so futex_waitv's array pointer was shown as a lock address).
 * Every name the table gives, for every number it knows, is looked up in
 * asm/unistd_64.h ("#define __NR_futex_waitv 449") at test time.  Without
 * that header (linux-libc-dev) the test skips (exit 77) and says why.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pprobe/syscalls.h"

#define TEST_NR_MAX 1024

struct header_entry {
	char name[64];
	long nr;
};

static const char *const header_paths[] = {
	"/usr/include/x86_64-linux-gnu/asm/unistd_64.h",
	"/usr/include/asm/unistd_64.h",
};

/* Every "#define __NR_name nr" of the header; their count, or -1. */
static int header_read(const char *path, struct header_entry *v, int cap)
{
	char line[256];
	int n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		struct header_entry e;

		if (sscanf(line, "#define __NR_%63s %ld", e.name, &e.nr) == 2 && n < cap)
			v[n++] = e;
	}
	fclose(f);
	return n;
}

static const struct header_entry *header_by_name(const struct header_entry *v, int n,
						 const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

int main(void)
{
	static struct header_entry hdr[TEST_NR_MAX];
	const char *path = NULL;
	int nhdr = -1, named = 0;
	long hdr_max = -1;

	for (size_t i = 0; i < sizeof(header_paths) / sizeof(header_paths[0]) && nhdr < 0; i++) {
		path = header_paths[i];
		nhdr = header_read(path, hdr, TEST_NR_MAX);
	}
	if (nhdr <= 0) {
		printf("SKIP: no asm/unistd_64.h to check the table against (install linux-libc-dev)\n");
		return 77;
	}

	for (int i = 0; i < nhdr; i++)
		if (hdr[i].nr > hdr_max)
			hdr_max = hdr[i].nr;

	/* Every number the table names: the header must give that name the
	 * same number. */
	for (long nr = 0; nr < TEST_NR_MAX; nr++) {
		const char *name = syscalls_name(nr);
		const struct header_entry *e;

		if (!name)
			continue;
		named++;
		e = header_by_name(hdr, nhdr, name);
		if (!e && nr > hdr_max) {
			/* A call newer than these headers (Debian 12's are
			 * Linux 6.1's; futex_wait came in 6.7): nothing to
			 * check it against here. */
			printf("note: %ld \"%s\" is newer than %s (its last call is %ld): not checked\n",
			       nr, name, path, hdr_max);
			continue;
		}
		if (!e) {
			check_fail_head(__FILE__, __LINE__);
			fprintf(stderr, "%ld \"%s\": no such call in %s\n", nr, name, path);
			continue;
		}
		if (e->nr != nr) {
			check_fail_head(__FILE__, __LINE__);
			fprintf(stderr, "table says %ld is %s; %s says %s is %ld\n", nr, name, path,
				name, e->nr);
		}
		check_count++;
	}
	/* The table is not empty, and the calls the dump reads arguments of
	 * are there. */
	CHECK(named >= 60);
	CHECK_EQ_STR(syscalls_name(202), "futex");
	CHECK_EQ_STR(syscalls_name(449), "futex_waitv");
	CHECK_EQ_STR(syscalls_name(455), "futex_wait");

	/* Numbers on the EINTR lists name calls the header knows by the name
	 * their comments give: the lists are numbers only, so check the
	 * number-to-name direction through the header. */
	{
		static const struct {
			long nr;
			bool on_socket;
			const char *name;
		} eintr[] = {
			{ 232, false, "epoll_wait" }, { 281, false, "epoll_pwait" },
			{ 441, false, "epoll_pwait2" }, { 128, false, "rt_sigtimedwait" },
			{ 65, false, "semop" }, { 220, false, "semtimedop" },
			{ 208, false, "io_getevents" }, { 426, false, "io_uring_enter" },
			{ 43, false, "accept" }, { 288, false, "accept4" }, { 42, false, "connect" },
			{ 44, false, "sendto" }, { 45, false, "recvfrom" }, { 46, false, "sendmsg" },
			{ 47, false, "recvmsg" }, { 299, false, "recvmmsg" }, { 307, false, "sendmmsg" },
			{ 0, true, "read" }, { 1, true, "write" }, { 19, true, "readv" },
			{ 20, true, "writev" },
		};

		for (size_t i = 0; i < sizeof(eintr) / sizeof(eintr[0]); i++) {
			const struct header_entry *e = header_by_name(hdr, nhdr, eintr[i].name);

			CHECK(e != NULL);
			if (e)
				CHECK_EQ_INT(e->nr, eintr[i].nr);
			CHECK(syscalls_eintr_on_stop(eintr[i].nr, eintr[i].on_socket));
		}
		CHECK(!syscalls_eintr_on_stop(0, false));
		CHECK(!syscalls_eintr_on_stop(202, true));
	}
	return check_done();
}
