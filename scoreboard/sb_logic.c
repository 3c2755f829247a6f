/*
 * sb_logic.c: the scoreboard's pure functions (see sb.h): state letters
 * and names, counter names, the compact line, summaries, segment names
 * and the liveness test.  Nothing here touches shared memory, so tests
 * call these without creating a segment.
 */
#include "sb.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static const struct {
	char		 letter;
	const char	*name;
} state_tab[SB_NSTATES] = {
	[SB_EMPTY] =	{ '.', "empty" },
	[SB_STARTING] =	{ 'S', "starting" },
	[SB_IDLE] =	{ '_', "idle" },
	[SB_BUSY] =	{ 'W', "busy" },
	[SB_SESSION] =	{ 'K', "session" },
	[SB_EXITING] =	{ 'G', "exiting" },
	[SB_DEAD] =	{ 'X', "dead" },
};

static const char *const counter_tab[SB_NCOUNTERS] = {
	[SB_C_ACCEPTED] = "accepted",
	[SB_C_COMPLETED] = "completed",
	[SB_C_FAILED] = "failed",
	[SB_C_QUEUED] = "queued",
	[SB_C_MAX_QUEUED] = "max_queued",
	[SB_C_REJECTED] = "rejected",
	[SB_C_MAXCHILD] = "max_children_reached",
	[SB_C_SPAWNED] = "spawned",
	[SB_C_ABNORMAL] = "abnormal_deaths",
	[SB_C_SLOW] = "slow",
};

char
sb_state_letter(uint32_t state)
{
	return state < SB_NSTATES ? state_tab[state].letter : '?';
}

const char *
sb_state_name(uint32_t state)
{
	return state < SB_NSTATES ? state_tab[state].name : "unknown";
}

const char *
sb_counter_name(unsigned counter)
{
	return counter < SB_NCOUNTERS ? counter_tab[counter] : NULL;
}

void
sb_state_line(const struct sb_slot_info *slots, size_t n, char *line)
{
	size_t	i;

	for (i = 0; i < n; i++)
		line[i] = slots[i].unstable ? '?' :
		    sb_state_letter(slots[i].state);
	line[n] = '\0';
}

void
sb_summarize(const struct sb_slot_info *slots, size_t n,
    struct sb_summary *sum)
{
	size_t	i;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < n; i++) {
		if (slots[i].unstable) {
			sum->unstable++;
			continue;
		}
		if (slots[i].state >= SB_NSTATES)
			continue;
		sum->by_state[slots[i].state]++;
		switch (slots[i].state) {
		case SB_STARTING:
		case SB_IDLE:
		case SB_BUSY:
		case SB_SESSION:
		case SB_EXITING:
			sum->children++;
			break;
		default:
			break;
		}
	}
}

/* A name part: 1..SB_NAME_LEN-1 printable bytes, no '/', no '@'. */
static int
name_ok(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len >= SB_NAME_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (!isgraph((unsigned char)s[i]) || s[i] == '/' ||
		    s[i] == '@')
			return 0;
	return 1;
}

static int
build_name(char *buf, size_t bufsz, const char *svc, size_t svclen,
    const char *inst, size_t instlen)
{
	int	n;

	if (!name_ok(svc, svclen) || (instlen > 0 && !name_ok(inst, instlen)))
		return -EINVAL;
	if (instlen > 0)
		n = snprintf(buf, bufsz, "/" SB_SHM_PREFIX "%.*s@%.*s",
		    (int)svclen, svc, (int)instlen, inst);
	else
		n = snprintf(buf, bufsz, "/" SB_SHM_PREFIX "%.*s",
		    (int)svclen, svc);
	if (n < 0 || (size_t)n >= bufsz)
		return -ENAMETOOLONG;
	return 0;
}

int
sb_shm_name(char *buf, size_t bufsz, const char *service, const char *instance)
{
	if (service == NULL)
		return -EINVAL;
	return build_name(buf, bufsz, service, strlen(service), instance,
	    instance != NULL ? strlen(instance) : 0);
}

int
sb_shm_name_arg(char *buf, size_t bufsz, const char *arg)
{
	const char	*at;

	if (arg == NULL)
		return -EINVAL;
	if ((at = strchr(arg, '@')) == NULL)
		return build_name(buf, bufsz, arg, strlen(arg), NULL, 0);
	if (at[1] == '\0')
		return -EINVAL;		/* "svc@" names no instance */
	return build_name(buf, bufsz, arg, (size_t)(at - arg), at + 1,
	    strlen(at + 1));
}

int
sb_pid_alive(pid_t pid)
{
	if (pid <= 0)
		return 0;
	return kill(pid, 0) == 0 || errno == EPERM;
}
