/* pprof.h - encode and decode pprof's gzip-compressed profile.proto.
 *
 * The wire format is proto/profile.proto (written here from the published
 * field numbers), compiled with protoc-c at build time.  Encoding reads the
 * profile model only; decoding builds a new one.  No target is touched.
 */
#ifndef PPROBE_PPROF_H
#define PPROBE_PPROF_H

#include <stddef.h>
#include <stdint.h>

struct profile;

/* Encode p as gzip-compressed protobuf into *buf (malloc'd, caller frees). */
int pprof_encode(const struct profile *p, uint8_t **buf, size_t *len);

/* Write the encoded profile to fd (all of it, retrying short writes). */
int pprof_write_fd(const struct profile *p, int fd);

/* Decode len bytes (gzip-compressed or plain protobuf) into a new profile
 * (caller frees with profile_free). */
int pprof_decode(const uint8_t *buf, size_t len, struct profile **out);

/* Read and decode a file. */
int pprof_read_file(const char *path, struct profile **out);

#endif
