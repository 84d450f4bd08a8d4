/* maps.h - the target's memory map, and the ELF images behind it.
 *
 * maps_read() parses /proc/PID/maps.  Each file-backed mapping can be
 * resolved to an elfimage (opened through /proc/PID/map_files, which works
 * for deleted files and other mount namespaces, else /proc/PID/root) and a
 * load bias.  Images are cached across re-reads (keyed by device, inode
 * and path) and owned by the maps object; the generation counter grows on
 * every re-read so caches above can tell.
 *
 * The cache is bounded: an image no longer mapped (a dlclose'd plugin, a
 * JIT's .so file) stays cached for a while, should it come back, but only
 * the MAPS_KEEP_UNMAPPED most recently seen of them; older ones are freed
 * by maps_evict_unmapped, whose caller first drops what it built on them.
 * Images still mapped are never evicted: their number is the target's.
 */
#ifndef PPROBE_MAPS_H
#define PPROBE_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct elfimage;

struct maps_entry {
	uint64_t start, end, offset;
	uint64_t inode;
	unsigned dev_major, dev_minor;
	char perms[5];
	char *path;            /* "" for anonymous; "[vdso]", "[stack]"... */
	struct elfimage *img;  /* resolved lazily; borrowed from the cache */
	uint64_t bias;
	int img_err;           /* 0 not tried / ok, <0 failed */
	bool img_tried;
};

struct maps_image_cache;

struct maps {
	pid_t pid;
	pid_t view;  /* whose /proc directory and memory are read: pid, or a
			live thread while the main thread is a zombie */
	struct maps_entry *v;
	size_t n;
	unsigned generation;
	struct maps_image_cache *cache;
	int fd;             /* the view's maps, kept open, -1 until read */
	char *text;         /* read buffer */
	size_t text_cap;
	char *last;         /* the text behind v, to tell a read that changed nothing */
	size_t last_len, last_cap;
	/* Saved maps (maps_load_saved): no process behind them. */
	bool saved;
	char *saved_root;   /* files are opened below it; NULL: at their paths */
	uint8_t *saved_vdso;
	size_t saved_vdso_len;
};

/* How many images no longer mapped the cache keeps (see above). */
#define MAPS_KEEP_UNMAPPED 32

void maps_init(struct maps *m, pid_t pid);
void maps_fini(struct maps *m);

/* (Re-)read /proc/PID/maps; keeps cached images.  generation grows only
 * when the mappings changed.  When the view's maps are empty or gone (the
 * main thread exited with pthread_exit, or the viewing thread exited), the
 * view moves to a live thread first; -ESRCH when none is left. */
int maps_read(struct maps *m);

/* Maps of no live process, for replaying a recorded snapshot (snapfile.h):
 * the entries parsed from text (as /proc/PID/maps printed it), each
 * mapped file opened at its path, or at root followed by its path when
 * root is not NULL (a copy of the files elsewhere), and the vDSO parsed
 * from vdso (vdso_len bytes; NULL: the vDSO has no image).  maps_read then
 * changes nothing; maps_find_main finds nothing.  text, root and vdso are
 * copied. */
int maps_load_saved(struct maps *m, const char *text, size_t len, const char *root,
		    const void *vdso, size_t vdso_len);

/* The entry containing addr, or NULL. */
struct maps_entry *maps_find(const struct maps *m, uint64_t addr);

/* Resolve e to its image and bias (lazily, once per entry). */
int maps_resolve(struct maps *m, struct maps_entry *e, struct elfimage **img, uint64_t *bias);

/* Copy len bytes of code at target address addr from the mapped file (never
 * from the live target).  -EFAULT if not file-backed there. */
int maps_read_code(struct maps *m, uint64_t addr, void *buf, size_t len);

/* Called with each image before maps_evict_unmapped frees it. */
typedef void (*maps_evict_fn)(void *arg, const struct elfimage *img);

/* Free the cached images that the maps of the last maps_read no longer
 * map, all but the MAPS_KEEP_UNMAPPED last seen mapped; fn(arg, img) is
 * called before each is freed (fn may be NULL).  No maps entry points to
 * an evicted image (entries hold only images they map).  Returns how many
 * were evicted. */
size_t maps_evict_unmapped(struct maps *m, maps_evict_fn fn, void *arg);

/* The cached image of this serial (elfimage.serial), or NULL once evicted. */
struct elfimage *maps_image_by_serial(const struct maps *m, uint64_t serial);

/* Is this entry executable code pprobe should report as a pprof Mapping? */
bool maps_is_exec(const struct maps_entry *e);

/* The first executable mapping of the main executable (/proc/PID/exe), or
 * NULL when no mapping can be matched to it. */
struct maps_entry *maps_find_main(const struct maps *m);

/* The executable mappings pprof should know (file-backed ones and the
 * vDSO), the main executable's first: *out (the caller frees the array,
 * not the entries, which stay the maps') and *n. */
int maps_list_exec(const struct maps *m, struct maps_entry ***out, size_t *n);

#endif
