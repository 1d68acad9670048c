/* Error-code names, explanations and the one user-facing error message. */
#include <inttypes.h>
#include <stdio.h>

#include "deferbench.h"

static const char *const err_names[] = {
#define DFB_X(name, status, text) [DFB_ERR_##name] = #name,
	DFB_ERRORS(DFB_X)
#undef DFB_X
};

static const char *const err_texts[] = {
#define DFB_X(name, status, text) [DFB_ERR_##name] = text,
	DFB_ERRORS(DFB_X)
#undef DFB_X
};

static const int32_t err_status[] = {
#define DFB_X(name, status, text) [DFB_ERR_##name] = status,
	DFB_ERRORS(DFB_X)
#undef DFB_X
};

int32_t dfb_err_upstream_status(enum dfb_err e)
{
	if ((unsigned)e >= (unsigned)DFB_ERR__COUNT)
		return 0;
	return err_status[e];
}

const char *dfb_err_name(enum dfb_err e)
{
	/* Compare as unsigned so a negative value cast to the enum is caught. */
	if ((unsigned)e >= (unsigned)DFB_ERR__COUNT)
		return "UNKNOWN";
	return err_names[e];
}

const char *dfb_err_text(enum dfb_err e)
{
	if ((unsigned)e >= (unsigned)DFB_ERR__COUNT)
		return "UNKNOWN";
	return err_texts[e];
}

/* "NAME: text (task R:L index I, thread N): detail".  The task part (token
 * as ring:local id, then submission index) appears when task_index >= 0,
 * the thread part when thread >= 0; the parentheses go when neither is
 * known, and ": detail" goes when detail is empty.  Truncates to len. */
void dfb_error_format(const struct dfb_error *e, char *buf, size_t len)
{
	if (!buf || len == 0)
		return;
	buf[0] = '\0';
	if (!e)
		return;

	size_t off = 0;
	int n;
#define APPEND(...)                                                    \
	do {                                                           \
		if (off < len) {                                       \
			n = snprintf(buf + off, len - off, __VA_ARGS__); \
			if (n > 0)                                     \
				off += (size_t)n;                      \
		}                                                      \
	} while (0)

	APPEND("%s: %s", dfb_err_name(e->code), dfb_err_text(e->code));
	bool task = e->task_index >= 0, thread = e->thread >= 0;
	if (task || thread) {
		APPEND(" (");
		if (task)
			APPEND("task %" PRIu32 ":%" PRIu32 " index %" PRId64,
			       (uint32_t)(e->task_token >> 32), (uint32_t)e->task_token,
			       e->task_index);
		if (task && thread)
			APPEND(", ");
		if (thread)
			APPEND("thread %d", e->thread);
		APPEND(")");
	}
	if (e->detail[0])
		APPEND(": %.*s", (int)sizeof(e->detail), e->detail);
	if (e->status)
		APPEND(" [upstream status %" PRId32 "]", e->status);
#undef APPEND
}
