/* snapshot_record - record one snapshot of every thread of a process, for
 * replay tests (the format: include/pprobe/snapfile.h).
 *
 * usage: snapshot_record PID FILE [COPYDIR]
 *
 * Reads PID's maps, then stops each thread in turn with PTRACE_SEIZE +
 * PTRACE_INTERRUPT, copies its registers and stack with snapshot_capture()
 * (what pprobe's samplers and dump use, with dump's stack size) and
 * detaches it; then writes the maps, the build ID of every mapped file (as
 * maps_resolve() opens it, through /proc/PID/map_files) and a copy of the
 * vDSO.  Meant for fixtures parked at a known place (fid_parked): a thread
 * that moves between the maps read and its stop is not this tool's
 * concern.  With COPYDIR, each mapped file is also copied to COPYDIR/PATH
 * (from /proc/PID/map_files: the very file mapped), so the snapshot can be
 * replayed where those paths hold other files or none
 * (snapshot_replay -root COPYDIR).  Exit 0, or 1 with a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pprobe/elfimage.h"
#include "pprobe/error.h"
#include "pprobe/maps.h"
#include "pprobe/procfs.h"
#include "pprobe/ptrace.h"
#include "pprobe/snapfile.h"
#include "pprobe/snapshot.h"

#define RECORD_STACK_BYTES (32 * 1024) /* as cmd_dump.c's DUMP_STACK_BYTES */

static int record_fail(const char *what, int err)
{
	fprintf(stderr, "snapshot_record: %s: %s\n", what, error_str(err));
	return 1;
}

/* Stop tid (seized), capture it, let it go.  A signal that arrives first
 * is passed on. */
static int record_thread(struct snapfile *f, pid_t pid, pid_t tid, const struct maps *maps)
{
	struct snapshot s;
	struct ptrace_stop st;
	char name[64] = "";
	int status, err;

	err = snapshot_init(&s, RECORD_STACK_BYTES);
	if (err)
		return err;
	err = ptrace_seize(tid);
	if (!err)
		err = ptrace_interrupt(tid);
	while (!err) {
		if (waitpid(tid, &status, __WALL) < 0) {
			err = -errno;
			break;
		}
		ptrace_classify(status, &st);
		if (st.kind == PTRACE_KIND_EXITED) {
			err = -ESRCH;
			break;
		}
		if (st.kind == PTRACE_KIND_INTERRUPT || st.kind == PTRACE_KIND_GROUP) {
			err = snapshot_capture(&s, tid, maps);
			ptrace_detach(tid, 0);
			break;
		}
		err = ptrace_cont(tid, st.kind == PTRACE_KIND_SIGNAL ? st.sig : 0);
	}
	if (!err) {
		procfs_read_comm(pid, tid, name, sizeof(name));
		err = snapfile_add_thread(f, name, &s);
	}
	snapshot_fini(&s);
	return err;
}

static int record_vdso(struct snapfile *f, const struct maps *m)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct maps_entry *e = &m->v[i];
		struct iovec local, remote;
		size_t len = e->end - e->start;

		if (strcmp(e->path, "[vdso]") || len > SNAPFILE_MAX_VDSO)
			continue;
		f->vdso = malloc(len);
		if (!f->vdso)
			return -ENOMEM;
		local.iov_base = f->vdso;
		local.iov_len = len;
		remote.iov_base = (void *)(uintptr_t)e->start;
		remote.iov_len = len;
		if (process_vm_readv(m->pid, &local, 1, &remote, 1, 0) != (ssize_t)len)
			return errno ? -errno : -EFAULT;
		f->vdso_start = e->start;
		f->vdso_len = len;
	}
	return 0;
}

/* Copy the file mapped at e to dir/e->path, making the directories. */
static int record_copy(const struct maps *m, const struct maps_entry *e, const char *dir)
{
	char src[128], dst[8192], buf[65536];
	int in, out, err = 0;
	ssize_t n;

	snprintf(src, sizeof(src), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)m->pid,
		 e->start, e->end);
	if ((size_t)snprintf(dst, sizeof(dst), "%s%s", dir, e->path) >= sizeof(dst))
		return -ENAMETOOLONG;
	for (char *p = dst + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(dst, 0755) != 0 && errno != EEXIST)
			err = -errno;
		*p = '/';
		if (err)
			return err;
	}
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		err = -errno;
		close(in);
		return err;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			err = -EIO;
			break;
		}
	if (n < 0)
		err = -errno;
	close(in);
	if (close(out) != 0 && !err)
		err = -errno;
	return err;
}

/* The build ID of each mapped file, once a path (and a copy in dir). */
static int record_files(struct snapfile *f, struct maps *m, const char *dir)
{
	for (size_t i = 0; i < m->n; i++) {
		struct maps_entry *e = &m->v[i];
		struct elfimage *img;
		uint64_t bias;
		bool seen = false;
		int err;

		if (e->path[0] != '/' || maps_resolve(m, e, &img, &bias))
			continue;
		for (size_t k = 0; k < f->nfiles && !seen; k++)
			seen = !strcmp(f->files[k].path, e->path);
		if (seen)
			continue;
		if ((err = snapfile_add_file(f, e->path, img->build_id)))
			return err;
		if (dir && (err = record_copy(m, e, dir))) {
			fprintf(stderr, "snapshot_record: copying %s: %s\n", e->path, error_str(err));
			return err;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct snapfile f;
	struct maps m;
	pid_t *tids = NULL;
	size_t ntids = 0;
	FILE *out;
	char *end;
	long pid;
	int err, rc = 1;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: snapshot_record PID FILE [COPYDIR]\n");
		return 2;
	}
	pid = strtol(argv[1], &end, 10);
	if (*end || pid <= 0) {
		fprintf(stderr, "snapshot_record: bad pid '%s'\n", argv[1]);
		return 2;
	}
	snapfile_init(&f);
	f.pid = (pid_t)pid;
	maps_init(&m, (pid_t)pid);
	err = maps_read(&m);
	if (err) {
		rc = record_fail("reading the maps", err);
		goto out;
	}
	f.maps = malloc(m.last_len + 1);
	if (!f.maps) {
		rc = record_fail("maps", -ENOMEM);
		goto out;
	}
	memcpy(f.maps, m.last, m.last_len);
	f.maps_len = m.last_len;
	err = procfs_list_tasks((pid_t)pid, &tids, &ntids);
	if (err) {
		rc = record_fail("listing the threads", err);
		goto out;
	}
	for (size_t i = 0; i < ntids; i++) {
		err = record_thread(&f, (pid_t)pid, tids[i], &m);
		if (err) {
			char what[64];

			snprintf(what, sizeof(what), "thread %d", (int)tids[i]);
			rc = record_fail(what, err);
			goto out;
		}
	}
	err = record_vdso(&f, &m);
	if (!err)
		err = record_files(&f, &m, argc == 4 ? argv[3] : NULL);
	if (err) {
		rc = record_fail("the vDSO and the mapped files", err);
		goto out;
	}
	out = fopen(argv[2], "w");
	if (!out) {
		rc = record_fail(argv[2], -errno);
		goto out;
	}
	err = snapfile_write(&f, out);
	if (fclose(out) != 0 && !err)
		err = -errno;
	rc = err ? record_fail(argv[2], err) : 0;
out:
	free(tids);
	maps_fini(&m);
	snapfile_fini(&f);
	return rc;
}
