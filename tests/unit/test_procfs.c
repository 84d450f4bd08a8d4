/* test_procfs.c - the /proc text parsers (procfs.c), and the live-thread
 * lookup on this very process. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "pprobe/procfs.h"
#include "pprobe/threadstate.h"

/* A comm may hold spaces, parentheses and ')' followed by a space: the
 * fields after it are found from the last ')'. */
static void test_parse_stat(void)
{
	static const char text[] =
		"4242 (a) b) (c) R 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 9 "
		"12345678 99 18446744073709551615\n";
	char comm[16], state = 0;
	uint64_t ticks = 0;

	CHECK_EQ_INT(procfs_parse_stat(text, &state, &ticks), 0);
	CHECK_EQ_INT(state, 'R');
	CHECK_EQ_INT((int)ticks, 300);
	CHECK_EQ_INT(procfs_parse_stat_comm(text, comm, sizeof(comm)), 0);
	CHECK_EQ_STR(comm, "a) b) (c");
	CHECK_EQ_INT(procfs_parse_stat_comm(text, comm, 4), 0);
	CHECK_EQ_STR(comm, "a) ");
	CHECK_EQ_INT(procfs_parse_stat_comm("4242 no parentheses", comm, sizeof(comm)), -EINVAL);
	CHECK_EQ_INT(procfs_parse_stat_comm("4242 )x( R", comm, sizeof(comm)), -EINVAL);
	CHECK_EQ_INT(procfs_parse_stat("4242 (x)", &state, &ticks), -EINVAL);
}

static void *test_sleeper(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

/* This process is alive, through its main thread first. */
static void test_find_live_task(void)
{
	pthread_t id;
	pid_t tid = 0;

	CHECK_EQ_INT(pthread_create(&id, NULL, test_sleeper, NULL), 0);
	CHECK_EQ_INT(procfs_find_live_task(getpid(), &tid), 1);
	CHECK_EQ_INT(tid, getpid());
	CHECK(procfs_find_live_task(-1, &tid) < 0);
}

/* /proc/PID/task/TID/syscall's three forms (proc_pid_syscall): "running"
 * (on a CPU, or its state changed while read: no pc and sp), "-1 SP PC"
 * (blocked outside a system call, in a page fault), and a blocked call. */
static void test_parse_syscall(void)
{
	struct threadstate ts;

	memset(&ts, 0, sizeof(ts));
	CHECK_EQ_INT(threadstate_parse_syscall("running\n", &ts), 0);
	CHECK(ts.said_running && !ts.blocked_known);
	CHECK_EQ_INT(threadstate_parse_syscall("-1 0x7ffc10 0x401234\n", &ts), 0);
	CHECK(!ts.said_running && ts.blocked_known && ts.syscall_nr == -1);
	CHECK(ts.sp == 0x7ffc10 && ts.pc == 0x401234);
	CHECK_EQ_INT(threadstate_parse_syscall("310 0x274a 0x7f10 0x1 0x7f20 0x1 0x0 0x7f00 0x7f30\n",
					       &ts), 0);
	CHECK(!ts.said_running && ts.blocked_known && ts.syscall_nr == 310);
	CHECK(ts.args[0] == 0x274a && ts.sp == 0x7f00 && ts.pc == 0x7f30);
	CHECK(threadstate_parse_syscall("garbage", &ts) < 0);
	CHECK(!ts.said_running && !ts.blocked_known);
}

int main(void)
{
	test_parse_stat();
	test_find_live_task();
	test_parse_syscall();
	return check_done();
}
