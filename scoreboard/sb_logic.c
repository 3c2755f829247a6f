/*
 * sb_logic.c: the scoreboard's pure functions (see sb.h): state, bus and
 * exit-reason letters and names, counter names, the exit reason a death
 * record gets, the compact line, summaries, latency bucket bounds and
 * quantile estimates, segment names and the liveness test.  Nothing here
 * touches shared memory, so tests call these without creating a segment.
 */
#include "sb.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

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
	[SB_C_RESCUED] = "rescued",
	[SB_C_UNSENT] = "unsent",
	[SB_C_RECYCLED] = "recycled",
};

static const struct {
	char		 letter;
	const char	*name;
} bus_tab[SB_NBUS] = {
	[SB_BUS_NONE] =		{ '-', "none" },
	[SB_BUS_DOWN] =		{ 'D', "down" },
	[SB_BUS_CONNECTING] =	{ 'C', "connecting" },
	[SB_BUS_UP] =		{ 'U', "up" },
};

static const char *const bus_kind_tab[SB_NBUSKINDS] = {
	[SB_BUSKIND_NONE] = "none",
	[SB_BUSKIND_XMPP] = "xmpp",
	[SB_BUSKIND_REDIS] = "redis",
	[SB_BUSKIND_LOCAL] = "local",
};

static const char *const reason_tab[SB_NEXIT_REASONS] = {
	[SB_EXIT_NONE] = "unknown",
	[SB_EXIT_NORMAL] = "stop",
	[SB_EXIT_RETIRED] = "retired",
	[SB_EXIT_MAX_REQUESTS] = "max_requests",
	[SB_EXIT_RSS_GROWTH] = "rss_growth",
	[SB_EXIT_RSS_MAX] = "rss_max",
	[SB_EXIT_LIFETIME] = "lifetime",
	[SB_EXIT_BUS_LOST] = "bus_lost",
	[SB_EXIT_INIT_FAILED] = "init_failed",
	[SB_EXIT_PANIC] = "panic",
	[SB_EXIT_REQUEST_FAILED] = "request_failed",
	[SB_EXIT_WATCHDOG] = "watchdog",
	[SB_EXIT_KILLED] = "killed",
	[SB_EXIT_CRASHED] = "crashed",
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

const char *
sb_bus_name(uint32_t bus_state)
{
	return bus_state < SB_NBUS ? bus_tab[bus_state].name : "unknown";
}

char
sb_bus_letter(uint32_t bus_state)
{
	return bus_state < SB_NBUS ? bus_tab[bus_state].letter : '?';
}

const char *
sb_bus_kind_name(uint32_t bus_kind)
{
	return bus_kind < SB_NBUSKINDS ? bus_kind_tab[bus_kind] : "unknown";
}

const char *
sb_exit_reason_name(uint32_t reason)
{
	return reason < SB_NEXIT_REASONS ? reason_tab[reason] : "unknown";
}

int
sb_exit_reason_recycles(uint32_t reason)
{
	return reason == SB_EXIT_MAX_REQUESTS ||
	    reason == SB_EXIT_RSS_GROWTH || reason == SB_EXIT_RSS_MAX ||
	    reason == SB_EXIT_LIFETIME;
}

uint32_t
sb_exit_reason_pick(uint32_t child_said, uint32_t parent_says, int wstatus)
{
	int	sig;

	/* The parent's watchdog kill ends whatever the child was doing. */
	if (parent_says == SB_EXIT_WATCHDOG)
		return SB_EXIT_WATCHDOG;
	if (child_said != SB_EXIT_NONE && child_said < SB_NEXIT_REASONS)
		return child_said;
	if (parent_says != SB_EXIT_NONE && parent_says < SB_NEXIT_REASONS)
		return parent_says;
	if (WIFSIGNALED(wstatus)) {
		sig = WTERMSIG(wstatus);
		return sig == SIGKILL || sig == SIGTERM ? SB_EXIT_KILLED :
		    SB_EXIT_CRASHED;
	}
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
		return SB_EXIT_NORMAL;
	return SB_EXIT_CRASHED;
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
			sum->rss_kb += slots[i].rss_kb;
			sum->cpu_us += slots[i].cpu_us;
			if (slots[i].bus_state == SB_BUS_DOWN ||
			    slots[i].bus_state == SB_BUS_CONNECTING)
				sum->bus_not_up++;
			break;
		default:
			break;
		}
	}
}

uint64_t
sb_method_le_us(unsigned k)
{
	if (k >= SB_METHOD_BUCKETS - 1)
		return UINT64_MAX;
	return (uint64_t)1 << (SB_METHOD_LE_SHIFT + k);
}

uint64_t
sb_method_quantile_us(const uint64_t b[SB_METHOD_BUCKETS], double q)
{
	uint64_t	total = 0, cum = 0, lo, hi;
	double		rank;
	unsigned	k;

	for (k = 0; k < SB_METHOD_BUCKETS; k++)
		total += b[k];
	if (total == 0)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	rank = q * (double)total;
	for (k = 0; k < SB_METHOD_BUCKETS; k++) {
		if (b[k] == 0 || (double)(cum + b[k]) < rank) {
			cum += b[k];
			continue;
		}
		/* +Inf has no upper bound: say the last finite one. */
		if (k == SB_METHOD_BUCKETS - 1)
			return sb_method_le_us(k - 1);
		lo = k == 0 ? 0 : sb_method_le_us(k - 1);
		hi = sb_method_le_us(k);
		return lo + (uint64_t)((double)(hi - lo) *
		    ((rank - (double)cum) / (double)b[k]) + 0.5);
	}
	return sb_method_le_us(SB_METHOD_BUCKETS - 2);	/* not reached */
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
