/* procfs.h - small readers of /proc/PID and /proc/PID/task/TID files.
 *
 * Everything here reads the kernel's view of a process without stopping it.
 * A task that vanished returns -ENOENT or -ESRCH: callers treat that as
 * "gone", not as an error.
 */
#ifndef PPROBE_PROCFS_H
#define PPROBE_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The fields of /proc/PID/status pprobe looks at. */
struct procfs_status {
	char name[64];
	char state;      /* 'R', 'S', 'D', 'T', 't', 'Z', 'X', 'I' */
	pid_t tgid;
	pid_t ppid;
	pid_t tracer_pid;
	uid_t uid_real, uid_effective;
	int threads;
};

/* Read a whole small file into buf (NUL-terminated); returns length or -errno. */
ssize_t procfs_read_file(const char *path, char *buf, size_t len);
/* pread a whole small file from an open descriptor; returns length or -errno. */
ssize_t procfs_pread_fd(int fd, char *buf, size_t len);

int procfs_read_status(pid_t pid, struct procfs_status *st);
/* Kernel threads have PF_KTHREAD in /proc/PID/stat's flags. */
int procfs_is_kthread(pid_t pid);

/* Thread ids of /proc/PID/task into a malloc'd array (caller frees). */
int procfs_list_tasks(pid_t pid, pid_t **tids, size_t *n);

/* A thread of PID that is neither a zombie nor dead, PID itself when it
 * is: 1 with *tid set, 0 if there is none, -errno if the task list cannot
 * be read.  A process whose main thread called pthread_exit shows 'Z' in
 * /proc/PID/status for as long as its other threads run (and so does one
 * whose non-main thread is in execve, for a moment), and the main thread's
 * /proc/PID/maps, mem, root and map_files are empty or gone meanwhile:
 * what belongs to the whole process is read through a live thread. */
int procfs_find_live_task(pid_t pid, pid_t *tid);

/* comm of a task ("" if unreadable); buf of 16+ bytes. */
int procfs_read_comm(pid_t pid, pid_t tid, char *buf, size_t len);

/* From the text of /proc/.../stat: the state letter, and utime+stime in
 * clock ticks.  The comm field may hold spaces and ')' so parsing starts at
 * the last ')'. */
int procfs_parse_stat(const char *text, char *state, uint64_t *cpu_ticks);

/* From the text of /proc/.../stat: the comm field (between the first '('
 * and the last ')'), truncated to len - 1 bytes. */
int procfs_parse_stat_comm(const char *text, char *buf, size_t len);

/* From the text of /proc/.../schedstat: on-CPU ns and run-queue wait ns. */
int procfs_parse_schedstat(const char *text, uint64_t *run_ns, uint64_t *wait_ns);

#endif
