/* rootpath.h - open a file of the target the way the target sees it.
 *
 * /proc/PID/root is the target's root directory, but a path opened through
 * it is resolved by the kernel for pprobe: an absolute symbolic link in it
 * (a chroot's /tmp -> /etc) leads out to the host's files, and ".." can
 * climb out too.  Run as root, pprobe would read a host file the target
 * chose.  Here every component is resolved as if the target's root were
 * "/": with openat2(RESOLVE_IN_ROOT) (Linux 5.6), else by a walk that does
 * the same one component at a time (symbolic links read and restarted
 * from the root, ".." never above it, at most ROOTPATH_MAX_LINKS links).
 */
#ifndef PPROBE_ROOTPATH_H
#define PPROBE_ROOTPATH_H

#include <stdbool.h>

#define ROOTPATH_MAX_LINKS 40 /* as the kernel's own limit (ELOOP) */

/* Open path (absolute or relative: both start at the root) below the
 * directory rootfd, resolved inside it.  flags are open(2)'s (O_CREAT is
 * not supported; O_NOFOLLOW refuses a link as the last component).
 * Returns a descriptor or -errno. */
int rootpath_open(int rootfd, const char *path, int flags);

/* rootpath_open below the directory named rootdir (/proc/PID/root). */
int rootpath_open_under(const char *rootdir, const char *path, int flags);

/* The same without openat2: the walk (exposed for the unit test). */
int rootpath_open_walk(int rootfd, const char *path, int flags);

#endif
