/* perfmap.h - names of JIT-compiled code from the target's perf map.
 *
 * A JIT (V8 with --perf-basic-prof, the JVM with an agent, LuaJIT, .NET,
 * Python 3.12's perf trampolines...) that wants profilers to name its code
 * appends lines "START SIZE name" (START and SIZE in hex, with or without
 * 0x) to /tmp/perf-PID.map, PID being the process id as the JIT sees it.
 * The file is read the way the target sees /tmp: below /proc/PID/root,
 * every link resolved inside that root (rootpath.h: a chroot whose /tmp is
 * a link to /etc does not lead to the host's /etc), with the pid of the
 * target's own pid namespace (NSpid) tried before the host's, so a JIT in a
 * container is named too.
 *
 * The file is hostile input: it is taken only if it is a regular file owned
 * by the target's user or root (perf's rule) and not a symbolic link; the
 * bytes read, the entries kept and each name's length are capped; malformed
 * lines are skipped and control characters in names replaced by '?'.
 *
 * Entries may overlap (code freed and its memory reused): the entry written
 * last wins.  The file only grows while the JIT runs, so a refresh reads
 * only what was appended since the last one; a file that shrank or was
 * replaced is read again from the start.
 *
 * Never touches the target itself: it reads a file in /proc.
 */
#ifndef PPROBE_PERFMAP_H
#define PPROBE_PERFMAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct perfmap;

/* Caps on what a map file can make us hold. */
#define PERFMAP_MAX_BYTES (256u << 20)  /* bytes read from one file, in all */
#define PERFMAP_MAX_ENTRIES 2000000u
#define PERFMAP_MAX_NAME 1024           /* longer names are cut */

/* A map for process pid, with whatever its perf map file holds now.  A
 * missing file is no error: the map is empty and perfmap_refresh (or a
 * lookup miss) picks the file up once the JIT writes it.  Returns 0 or
 * -errno (-ENOMEM).  Free with perfmap_free. */
int perfmap_load(pid_t pid, struct perfmap **out);

/* The same for an explicit file path (tests, tools), without the owner
 * check. */
int perfmap_load_path(const char *path, struct perfmap **out);

void perfmap_free(struct perfmap *pm);

/* Read what was appended to the file since the last read (all of it again
 * if it was replaced or truncated).  Returns 0, or -errno on a read error
 * (the entries read before stay). */
int perfmap_refresh(struct perfmap *pm);

/* The name of the JIT code holding addr.  On a miss, the file is checked
 * for growth first (at most every PERFMAP_RECHECK_MS per map) and the
 * lookup repeated.  Returns 0 with *name set (borrowed: valid until the
 * next perfmap_lookup, perfmap_refresh or perfmap_free on pm) and *start
 * (may be NULL) the entry's start address, or -ENOENT. */
int perfmap_lookup(struct perfmap *pm, uint64_t addr, const char **name, uint64_t *start);

#define PERFMAP_RECHECK_MS 100

/* Entries held (overlapping ones included). */
size_t perfmap_count(const struct perfmap *pm);

#endif
