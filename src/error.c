/* error.c - text for pprobe's error codes (see error.h). */
#include <string.h>

#include "pprobe/error.h"

static const char *const error_messages[] = {
#define PPROBE_ERROR_MSG(name, msg) [PPROBE_E_##name - PPROBE_E_BASE] = msg,
	PPROBE_ERROR_LIST(PPROBE_ERROR_MSG)
#undef PPROBE_ERROR_MSG
};

const char *error_str(int err)
{
	if (err < 0)
		err = -err;
	if (err == 0)
		return "success";
	if (err > PPROBE_E_BASE && err < PPROBE_E_END)
		return error_messages[err - PPROBE_E_BASE];
	return strerror(err);
}
