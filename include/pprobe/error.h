/* error.h - pprobe's error codes.
 *
 * Library code returns 0 on success, -errno for a failed system call, or
 * -PPROBE_E_xxx for a condition of pprobe's own.  The enum and the messages
 * come from one X-macro list so they cannot drift apart (elfutils' manner).
 * Only the command layer turns a code into text, once, at the top.
 */
#ifndef PPROBE_ERROR_H
#define PPROBE_ERROR_H

#define PPROBE_ERROR_LIST(X)                                                   \
	X(BADPROTO, "malformed profile data")                                    \
	X(GZIP, "gzip stream is corrupt")                                        \
	X(NOTHREADS, "target has no threads that can be traced")                 \
	X(ZOMBIE, "process is a zombie")                                         \
	X(KTHREAD, "process is a kernel thread")                                 \
	X(SELF, "refusing to trace pprobe itself or its parent")                 \
	X(TRACED, "process is already traced by another tracer")                 \
	X(TOOBIG, "value too large")                                             \
	X(NOELF, "not an ELF file")                                              \
	X(NOUNWIND, "no unwind information")                                     \
	X(UNMAPPED, "address is not in any mapping")                             \
	X(OUTLINK, "is a symbolic link to neither a device nor a FIFO: name the file itself") \
	X(OUTKIND, "is neither a regular file, a character device nor a FIFO")   \
	X(NOREADER, "is a FIFO that nobody reads")                               \
	X(BADSNAP, "malformed snapshot file")                                    \
	X(INTERNAL, "internal error")

/* Our codes start well above any errno value so -code never collides. */
enum pprobe_error {
	PPROBE_E_BASE = 4096,
#define PPROBE_ERROR_ENUM(name, msg) PPROBE_E_##name,
	PPROBE_ERROR_LIST(PPROBE_ERROR_ENUM)
#undef PPROBE_ERROR_ENUM
	PPROBE_E_END
};

/* Text for 0, -errno or -PPROBE_E_xxx; never NULL, static storage. */
const char *error_str(int err);

#endif
