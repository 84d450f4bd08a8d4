/* hashutil.h - the hash functions pprobe's open-addressing tables share. */
#ifndef PPROBE_HASHUTIL_H
#define PPROBE_HASHUTIL_H

#include <stddef.h>
#include <stdint.h>

/* splitmix64's finalizer: every input bit affects every output bit. */
static inline uint64_t hashutil_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

static inline uint64_t hashutil_combine(uint64_t h, uint64_t v)
{
	return hashutil_mix(h ^ (v + UINT64_C(0x9e3779b97f4a7c15) + (h << 6) + (h >> 2)));
}

/* FNV-1a over the bytes of s, mixed; NULL hashes apart from "". */
static inline uint64_t hashutil_str(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	if (!s)
		return 1;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(0x100000001b3);
	}
	return hashutil_mix(h);
}

/* Smallest power of two >= 2 * n (and >= 16): a table at most half full. */
static inline size_t hashutil_slots_for(size_t n)
{
	size_t s = 16;

	while (s < n * 2)
		s *= 2;
	return s;
}

#endif
