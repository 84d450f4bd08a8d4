/* test_stacks.c - frames known only by name (kernel stacks) keep their
 * names when the names' hashes collide.
 *
 * stacks.c keys named frames by a 64-bit hash of the name; it had no
 * string compare, so two kernel functions whose names collide were merged
 * into one frame, silently.  A real FNV-1a collision is not at hand, so the
 * test sets the table's hash (stacks.name_hash) to one that maps every
 * name to the same value, and then to one that maps half of them together.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "pprobe/profile.h"
#include "pprobe/stacks.h"

static uint64_t hash_constant(const char *name)
{
	(void)name;
	return 42;
}

static uint64_t hash_first_char(const char *name)
{
	return (unsigned char)name[0];
}

/* The leaf frame's name of sample i. */
static const char *sample_leaf(const struct profile *p, size_t i)
{
	const struct profile_sample *s = profile_sample_at(p, i);
	const struct profile_location *l;
	const struct profile_function *f;

	if (!s || s->nlocations == 0)
		return NULL;
	l = profile_location_by_id(p, s->location_ids[0]);
	if (!l || l->nlines == 0)
		return NULL;
	f = profile_function_by_id(p, l->lines[0].function_id);
	return f ? f->name : NULL;
}

static void run(uint64_t (*hash)(const char *), const char *what)
{
	static const char *const names[] = { "futex_wait_queue", "do_epoll_wait", "schedule",
					      "do_nanosleep", "futex_wait", "pipe_read" };
	const size_t nnames = sizeof(names) / sizeof(names[0]);
	struct profile *p = profile_new();
	struct stacks st;
	int64_t one = 1;

	fprintf(stderr, "hash: %s\n", what);
	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ_INT(profile_add_sample_type(p, "samples", "count"), 0);
	stacks_init(&st, p, NULL, NULL);
	st.name_hash = hash;
	/* Each name three times, interleaved: one location and one sample
	 * (of value 3) per name. */
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < nnames; i++) {
			size_t index = SIZE_MAX;

			CHECK_EQ_INT(stacks_add(&st, &names[i], 1, NULL, 0, false, &one, NULL, 0,
						&index),
				     0);
			CHECK_EQ_INT(index, i);
		}
	CHECK_EQ_INT(profile_location_count(p), nnames);
	CHECK_EQ_INT(profile_sample_count(p), nnames);
	for (size_t i = 0; i < nnames && i < profile_sample_count(p); i++) {
		CHECK_EQ_STR(sample_leaf(p, i), names[i]);
		CHECK_EQ_INT(profile_sample_at(p, i)->values[0], 3);
	}
	stacks_fini(&st);
	profile_free(p);
}

int main(void)
{
	run(NULL, "FNV-1a (the default)");
	run(hash_constant, "every name collides");
	run(hash_first_char, "names collide by first letter");
	return check_done();
}
