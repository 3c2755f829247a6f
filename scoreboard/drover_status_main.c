/*
 * drover_status_main.c: drover-status(8), the ops view of the scoreboards.
 *
 * Reads /dev/shm/drover.* segments read-only through sb.h and prints
 * them as text (or the per-method table, --methods), JSON or
 * OpenMetrics, once or every --watch SECONDS.  It never writes to a
 * segment and never waits on a writer: a slot that does not read
 * consistently within the retry bound is shown as unstable.  A segment
 * of another layout version (an older droverd still running) is refused
 * with both versions named.
 *
 * Divisions: snapshot (copy one segment out), formatting helpers, text
 * view, method table, JSON view, OpenMetrics view, main (options, list
 * or one service, watch loop).
 *
 * Exit status (an API, see the man page): 0 ok, 1 no such service,
 * 2 usage, 3 incompatible or corrupt segment, 4 other failures.
 */
#include "sb.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "util.h"

enum {
	EXIT_OK = 0,
	EXIT_NOSERVICE = 1,
	EXIT_USAGE = 2,
	EXIT_INCOMPAT = 3,
	EXIT_OTHER = 4,
};

enum format { FMT_TEXT, FMT_JSON, FMT_OPENMETRICS };

/* What a frame shows; one snapshot serves every format. */
struct opts {
	enum format	 fmt;
	int		 methods;	/* --methods */
	double		 watch;		/* seconds, 0 = once */
	const char	*target;	/* SERVICE[@INSTANCE] or NULL */
};

/* --watch bounds: faster than 0.1 s is a busy loop, a day is plenty. */
#define WATCH_MIN_S	0.1
#define WATCH_MAX_S	86400.0
/* Second chance for unstable slots: longer than a scheduler slice. */
#define RETRY_PAUSE_NS	10000000L
/* The compact line is printed in rows of this many slots (80 columns). */
#define LINE_ROW	64

/* Everything drover-status shows about one segment, copied out. */
struct snap {
	char			 name[SB_SHM_NAME_MAX];
	int			 err;		/* 0, or sb_open/read error */
	uint32_t		 found_version;	/* -EPROTO: its layout, or 0 */
	struct sb_info		 info;
	struct sb_slot_info	 slots[SB_SLOTS];
	struct sb_summary	 sum;
	struct sb_death_info	 deaths[SB_DEATHS];
	int			 ndeaths;
	struct sb_method_info	 methods[SB_METHOD_CELLS];
	int			 nmethods;	/* named, or -EAGAIN */
	char			 line[SB_SLOTS + 1];
	uint64_t		 now_us;	/* wall clock at the read */
	uint64_t		 now_mono_us;	/* mono_us() at the read */
};

static volatile sig_atomic_t	stop_flag;

static void
on_stop(int sig)
{
	(void)sig;		/* one handler for SIGINT and SIGTERM */
	stop_flag = 1;
}

/* ------------------------------------------------------------ snapshot */

static int
snap_take(struct snap *sn, const char *name)
{
	static const struct timespec retry_pause = { 0, RETRY_PAUSE_NS };
	struct sb	*sb;
	unsigned	 i, unstable = 0;
	int		 rc;

	memset(sn, 0, sizeof(*sn));
	(void)str_copy(sn->name, name, sizeof(sn->name));	/* bounded */
	if ((rc = sb_open(&sb, name)) != 0) {
		sn->err = rc;
		/* Say which layout it has, if it is a drover scoreboard. */
		if (rc == -EPROTO &&
		    sb_peek_version(name, &sn->found_version) != 0)
			sn->found_version = 0;
		return rc;
	}
	sn->now_us = wall_us();
	sn->now_mono_us = mono_us();
	if ((rc = sb_read_info(sb, &sn->info)) != 0) {
		sn->err = rc;
		sb_close(&sb);
		return rc;
	}
	for (i = 0; i < SB_SLOTS; i++)
		if (sb_read_slot(sb, i, &sn->slots[i]) != 0)
			unstable++;
	if (unstable > 0) {
		/*
		 * A writer preempted mid-update holds its slot odd for a
		 * time slice: give it one, then try those slots once more.
		 * Still unstable means the writer died mid-update (shown
		 * as '?').
		 */
		(void)nanosleep(&retry_pause, NULL);	/* early is fine */
		for (i = 0; i < SB_SLOTS; i++)
			if (sn->slots[i].unstable &&
			    sb_read_slot(sb, i, &sn->slots[i]) != 0)
				log_debug("%s: slot %u unstable", name, i);
	}
	sn->ndeaths = sb_read_deaths(sb, sn->deaths, SB_DEATHS);
	/* A fold under way for the whole retry bound: shown as unstable. */
	sn->nmethods = sb_read_methods(sb, sn->methods);
	sb_close(&sb);
	sb_summarize(sn->slots, SB_SLOTS, &sn->sum);
	sb_state_line(sn->slots, SB_SLOTS, sn->line);
	return 0;
}

/* Why a segment cannot be shown, in one line (into buf, returned). */
static const char *
err_text(const struct snap *sn, char *buf, size_t sz)
{
	switch (sn->err) {
	case -ENOENT:
		return "no such service";
	case -EPROTO:
		if (sn->found_version == 0)
			return "incompatible segment (not a drover "
			    "scoreboard)";
		(void)snprintf(buf, sz, "incompatible segment: scoreboard "
		    "layout version %u, this drover-status reads version %u "
		    "(a droverd of another drover version owns it: use its "
		    "own drover-status, or restart the service)",
		    sn->found_version, SB_LAYOUT_VERSION);
		return buf;
	case -EBADMSG:
		return "corrupt segment";
	case -EAGAIN:
		return "unstable segment";
	default:
		return strerror(-sn->err);
	}
}

static int
err_exit(int err)
{
	switch (err) {
	case 0:
		return EXIT_OK;
	case -ENOENT:
		return EXIT_NOSERVICE;
	case -EPROTO:
	case -EBADMSG:
	case -EAGAIN:
		return EXIT_INCOMPAT;
	default:
		return EXIT_OTHER;
	}
}

/* "svc" or "svc@inst" for display. */
static void
display_name(const struct snap *sn, char *buf, size_t sz)
{
	if (sn->err != 0)
		(void)snprintf(buf, sz, "%s", sn->name + 1 +
		    strlen(SB_SHM_PREFIX));
	else if (sn->info.instance[0] != '\0')
		(void)snprintf(buf, sz, "%s@%s", sn->info.service,
		    sn->info.instance);
	else
		(void)snprintf(buf, sz, "%s", sn->info.service);
}

static uint64_t
since(const struct snap *sn, uint64_t t_us)
{
	return t_us != 0 && sn->now_us > t_us ? sn->now_us - t_us : 0;
}

static uint64_t
since_mono(const struct snap *sn, uint64_t t_mono_us)
{
	return t_mono_us != 0 && sn->now_mono_us > t_mono_us ?
	    sn->now_mono_us - t_mono_us : 0;
}

static int
slot_in_request(const struct sb_slot_info *s)
{
	return s->state == SB_BUSY || s->state == SB_SESSION;
}

/* The current request's age: monotonic when the child gave that clock. */
static uint64_t
request_elapsed(const struct snap *sn, const struct sb_slot_info *s)
{
	return s->req_start_mono_us != 0 ?
	    since_mono(sn, s->req_start_mono_us) : since(sn, s->req_start_us);
}

static int
slot_alive(const struct sb_slot_info *s)
{
	return !s->unstable && s->state != SB_EMPTY && s->state != SB_DEAD &&
	    s->state < SB_NSTATES;
}

/* Mean of a method's calls in us (0 without calls). */
static uint64_t
method_mean_us(const struct sb_method_info *m)
{
	return m->calls != 0 ? m->sum_us / m->calls : 0;
}

/* Is method cell i worth showing: named or other, and called. */
static int
method_shown(const struct snap *sn, unsigned i)
{
	return sn->nmethods >= 0 && sn->methods[i].calls != 0 &&
	    (i < (unsigned)sn->nmethods || i == SB_METHOD_OTHER);
}

/* ------------------------------------------------------------- text view */

/* A duration for people: 0.25s, 42.0s, 3m04s, 5h02m, 2d03h. */
static const char *
fmt_dur(char *buf, size_t sz, uint64_t us)
{
	uint64_t	s = us / 1000000u;

	if (s < 60)
		(void)snprintf(buf, sz, "%.*fs", s < 10 ? 2 : 1,
		    (double)us / 1e6);
	else if (s < 3600)
		(void)snprintf(buf, sz, "%" PRIu64 "m%02" PRIu64 "s", s / 60,
		    s % 60);
	else if (s < 86400)
		(void)snprintf(buf, sz, "%" PRIu64 "h%02" PRIu64 "m", s / 3600,
		    s / 60 % 60);
	else
		(void)snprintf(buf, sz, "%" PRIu64 "d%02" PRIu64 "h",
		    s / 86400, s / 3600 % 24);
	return buf;
}

/* A latency for people: 96us, 2.0ms, 1.05s ("-" when none). */
static const char *
fmt_lat(char *buf, size_t sz, uint64_t us, int any)
{
	if (!any)
		(void)snprintf(buf, sz, "-");
	else if (us < 1000)
		(void)snprintf(buf, sz, "%" PRIu64 "us", us);
	else if (us < 1000000)
		(void)snprintf(buf, sz, "%.1fms", (double)us / 1e3);
	else
		(void)snprintf(buf, sz, "%.2fs", (double)us / 1e6);
	return buf;
}

/* A size in KiB for people: 512K, 10.0M, 1.5G ("-" for 0: not sampled). */
static const char *
fmt_kb(char *buf, size_t sz, uint64_t kb)
{
	if (kb == 0)
		(void)snprintf(buf, sz, "-");
	else if (kb < 1024)
		(void)snprintf(buf, sz, "%" PRIu64 "K", kb);
	else if (kb < 1024 * 1024)
		(void)snprintf(buf, sz, "%.1fM", (double)kb / 1024);
	else
		(void)snprintf(buf, sz, "%.1fG", (double)kb / (1024 * 1024));
	return buf;
}

/* A limit that 0 turns off. */
static const char *
fmt_limit(char *buf, size_t sz, uint32_t v, const char *unit)
{
	if (v == 0)
		(void)snprintf(buf, sz, "off");
	else
		(void)snprintf(buf, sz, "%u%s", v, unit);
	return buf;
}

static const char *
fmt_time(char *buf, size_t sz, uint64_t t_us)
{
	time_t		t = (time_t)(t_us / 1000000u);
	struct tm	tm;

	if (t_us == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(buf, sz, "-");
	return buf;
}

/* One summary line per service, for the listing. */
static void
text_list_line(FILE *f, const struct snap *sn)
{
	char	name[2 * SB_NAME_LEN], d[32], e[320];

	display_name(sn, name, sizeof(name));
	if (sn->err != 0) {
		fprintf(f, "%-32s %s\n", name, err_text(sn, e, sizeof(e)));
		return;
	}
	fprintf(f, "%-32s pid %-7d %-11s up %-7s children %u (idle %u "
	    "busy %u session %u) queue %" PRIu64 " accepted %" PRIu64
	    " failed %" PRIu64 " bus %s\n", name, (int)sn->info.parent_pid,
	    sn->info.parent_alive ? "running" : "NOT RUNNING",
	    fmt_dur(d, sizeof(d), since(sn, sn->info.start_us)),
	    sn->sum.children, sn->sum.by_state[SB_IDLE],
	    sn->sum.by_state[SB_BUSY], sn->sum.by_state[SB_SESSION],
	    sn->info.counters[SB_C_QUEUED],
	    sn->info.counters[SB_C_ACCEPTED],
	    sn->info.counters[SB_C_FAILED], sb_bus_name(sn->info.bus_state));
}

static void
text_slots(FILE *f, const struct snap *sn)
{
	const struct sb_slot_info	*s;
	char				 d1[32], d2[32], r[32], c[32];
	unsigned			 i;

	fprintf(f, "%4s %7s %4s %-8s %1s %8s %7s %6s %7s %-28s %-24s %-16s "
	    "%7s\n", "SLOT", "PID", "GEN", "STATE", "B", "REQS", "SINCE",
	    "RSS", "CPU", "METHOD", "CLIENT", "THREAD", "ELAPSED");
	for (i = 0; i < SB_SLOTS; i++) {
		s = &sn->slots[i];
		if (s->unstable) {
			fprintf(f, "%4u %7s %4s %-8s\n", i, "-", "-",
			    "unstable");
			continue;
		}
		if (s->state == SB_EMPTY)
			continue;
		fprintf(f, "%4u %7d %4u %-8s %c %8" PRIu64 " %7s %6s %7s "
		    "%-28.28s %-24.24s %-16.16s %7s\n", i, (int)s->pid,
		    s->generation, sb_state_name(s->state),
		    sb_bus_letter(s->bus_state), s->requests,
		    fmt_dur(d1, sizeof(d1), since(sn, s->state_us)),
		    fmt_kb(r, sizeof(r), s->rss_kb),
		    s->cpu_us != 0 ? fmt_dur(c, sizeof(c), s->cpu_us) : "-",
		    s->method[0] ? s->method : "-",
		    s->client[0] ? s->client : "-",
		    s->thread[0] ? s->thread : "-",
		    slot_in_request(s) ?
		    fmt_dur(d2, sizeof(d2), request_elapsed(sn, s)) : "-");
	}
}

static void
text_deaths(FILE *f, const struct snap *sn)
{
	const struct sb_death_info	*d;
	char				 t[32], st[32], r[32];
	int				 i;

	fprintf(f, "recent deaths (%" PRIu64 " in all, newest first):\n",
	    sn->info.deaths_total);
	if (sn->ndeaths == 0) {
		fprintf(f, "  none\n");
		return;
	}
	fprintf(f, "%-20s %4s %7s %4s %-14s %-14s %6s %8s %s\n", "TIME",
	    "SLOT", "PID", "GEN", "STATUS", "REASON", "RSS", "REQS",
	    "LAST METHOD");
	for (i = 0; i < sn->ndeaths; i++) {
		d = &sn->deaths[i];
		if (d->signal != 0)
			(void)snprintf(st, sizeof(st), "signal %d%s",
			    d->signal, d->core_dumped ? " core" : "");
		else
			(void)snprintf(st, sizeof(st), "exit %d",
			    d->exit_code);
		fprintf(f, "%-20s %4u %7d %4u %-14s %-14s %6s %8" PRIu64
		    " %s\n", fmt_time(t, sizeof(t), d->time_us), d->slot,
		    (int)d->pid, d->generation, st,
		    sb_exit_reason_name(d->exit_reason),
		    fmt_kb(r, sizeof(r), d->rss_kb), d->requests,
		    d->last_method[0] ? d->last_method : "-");
	}
}

/* The largest live child, for the memory line; -1 when none sampled. */
static int
largest_child(const struct snap *sn)
{
	unsigned	i;
	int		best = -1;

	for (i = 0; i < SB_SLOTS; i++)
		if (slot_alive(&sn->slots[i]) && sn->slots[i].rss_kb != 0 &&
		    (best < 0 ||
		    sn->slots[i].rss_kb > sn->slots[best].rss_kb))
			best = (int)i;
	return best;
}

static void
text_queues(FILE *f, const struct snap *sn)
{
	const struct sb_info	*in = &sn->info;
	const uint64_t		*c = in->counters;
	char			 d[32], d2[32];

	fprintf(f, "queue:      now %" PRIu64 ", max %" PRIu64 ", limit %u, "
	    "oldest %s\n", c[SB_C_QUEUED], c[SB_C_MAX_QUEUED],
	    in->limits.max_backlog_queue, in->backlog_oldest_mono_us != 0 ?
	    fmt_dur(d, sizeof(d), since_mono(sn, in->backlog_oldest_mono_us)) :
	    "-");
	if (in->svc_queue.sampled_mono_us == 0)
		return;
	fprintf(f, "svc queue:  depth %" PRIu64 ", oldest >= %s, sampled %s "
	    "ago\n", in->svc_queue.depth,
	    fmt_dur(d, sizeof(d), in->svc_queue.oldest_ms * 1000u),
	    fmt_dur(d2, sizeof(d2),
	    since_mono(sn, in->svc_queue.sampled_mono_us)));
}

static void
text_service(FILE *f, const struct snap *sn)
{
	const struct sb_info	*in = &sn->info;
	const struct sb_limits	*l = &in->limits;
	const uint64_t		*c = in->counters;
	char			 name[2 * SB_NAME_LEN], d[32], t[32];
	char			 k1[32], k2[32], k3[32];
	unsigned		 i;
	int			 big;

	display_name(sn, name, sizeof(name));
	fprintf(f, "service:    %s (%s)\n", name, sn->name);
	fprintf(f, "parent:     pid %d, %s, started %s, up %s, "
	    "generation %u\n", (int)in->parent_pid,
	    in->parent_alive ? "running" : "NOT RUNNING (stale segment)",
	    fmt_time(t, sizeof(t), in->start_us),
	    fmt_dur(d, sizeof(d), since(sn, in->start_us)), in->generation);
	fprintf(f, "bus:        %s, %s\n", sb_bus_kind_name(in->bus_kind),
	    sb_bus_name(in->bus_state));
	fprintf(f, "children:   %u (starting %u, idle %u, busy %u, "
	    "session %u, exiting %u), dead slots %u, unstable %u, "
	    "bus not up %u\n",
	    sn->sum.children, sn->sum.by_state[SB_STARTING],
	    sn->sum.by_state[SB_IDLE], sn->sum.by_state[SB_BUSY],
	    sn->sum.by_state[SB_SESSION], sn->sum.by_state[SB_EXITING],
	    sn->sum.by_state[SB_DEAD], sn->sum.unstable, sn->sum.bus_not_up);
	big = largest_child(sn);
	fprintf(f, "memory:     RSS %s in all", fmt_kb(k1, sizeof(k1),
	    sn->sum.rss_kb));
	if (big >= 0)
		fprintf(f, ", largest %s (slot %d)", fmt_kb(k2, sizeof(k2),
		    sn->slots[big].rss_kb), big);
	fprintf(f, ", CPU %s\n", fmt_dur(d, sizeof(d), sn->sum.cpu_us));
	text_queues(f, sn);
	fprintf(f, "requests:   accepted %" PRIu64 ", completed %" PRIu64
	    ", failed %" PRIu64 ", rejected (503) %" PRIu64 ", slow %"
	    PRIu64 ", rescued %" PRIu64 ", unsent %" PRIu64 "\n",
	    c[SB_C_ACCEPTED], c[SB_C_COMPLETED], c[SB_C_FAILED],
	    c[SB_C_REJECTED], c[SB_C_SLOW], c[SB_C_RESCUED], c[SB_C_UNSENT]);
	fprintf(f, "lifecycle:  spawned %" PRIu64 ", abnormal deaths %" PRIu64
	    ", max_children reached %" PRIu64 " times, recycled %" PRIu64
	    "\n", c[SB_C_SPAWNED], c[SB_C_ABNORMAL], c[SB_C_MAXCHILD],
	    c[SB_C_RECYCLED]);
	fprintf(f, "limits:     children %u-%u (now %u), spare %u-%u, "
	    "max_requests %u (+%u), keepalive %us, backlog %u, "
	    "request_timeout %us, slow_request %ums\n", l->min_children,
	    l->max_children, in->max_children_now, l->min_spare,
	    l->max_spare, l->max_requests, l->max_requests_jitter,
	    l->keepalive_s, l->max_backlog_queue, l->request_timeout_s,
	    l->slow_request_ms);
	fprintf(f, "recycling:  max_rss_growth %s, max_rss %s, "
	    "max_child_lifetime %s (+%us)\n",
	    fmt_limit(k1, sizeof(k1), l->max_rss_growth_kb, "kB"),
	    fmt_limit(k2, sizeof(k2), l->max_rss_kb, "kB"),
	    fmt_limit(k3, sizeof(k3), l->max_child_lifetime_s, "s"),
	    l->max_child_lifetime_jitter_s);
	fprintf(f, "\nslots (. empty, S starting, _ idle, W busy, "
	    "K session, G exiting, X dead, ? unstable):\n");
	for (i = 0; i < SB_SLOTS; i += LINE_ROW)
		fprintf(f, "  %.*s\n", LINE_ROW, sn->line + i);
	fprintf(f, "\nchildren's bus (B): U up, C connecting, D down, "
	    "- not reported\n");
	text_slots(f, sn);
	fprintf(f, "\n");
	text_deaths(f, sn);
}

/* ---------------------------------------------------------- method table */

/* --methods: one row per method called, in the plugin's order. */
static void
text_methods(FILE *f, const struct snap *sn)
{
	const struct sb_method_info	*m;
	char				 name[2 * SB_NAME_LEN];
	char				 a[32], b[32], c[32], d[32];
	unsigned			 i;
	int				 rows = 0, any;

	display_name(sn, name, sizeof(name));
	if (sn->nmethods < 0) {
		fprintf(f, "methods of %s: unstable (a fold never finished "
		    "under the reader)\n", name);
		return;
	}
	fprintf(f, "methods of %s (%d in the table; p50/p90/p99 estimated "
	    "from buckets):\n", name, sn->nmethods);
	fprintf(f, "%-40s %10s %8s %8s %8s %8s %8s %8s %8s\n", "METHOD",
	    "CALLS", "4XX", "5XX", "OTHER", "MEAN", "P50", "P90", "P99");
	for (i = 0; i < SB_METHOD_CELLS; i++) {
		if (!method_shown(sn, i))
			continue;
		m = &sn->methods[i];
		any = m->calls != 0;
		fprintf(f, "%-40.40s %10" PRIu64 " %8" PRIu64 " %8" PRIu64
		    " %8" PRIu64 " %8s %8s %8s %8s\n", m->name, m->calls,
		    m->err_4xx, m->err_5xx, m->err_other,
		    fmt_lat(a, sizeof(a), method_mean_us(m), any),
		    fmt_lat(b, sizeof(b),
		    sb_method_quantile_us(m->buckets, 0.5), any),
		    fmt_lat(c, sizeof(c),
		    sb_method_quantile_us(m->buckets, 0.9), any),
		    fmt_lat(d, sizeof(d),
		    sb_method_quantile_us(m->buckets, 0.99), any));
		rows++;
	}
	if (rows == 0)
		fprintf(f, "  no calls yet\n");
}

/* ------------------------------------------------------------- JSON view */

/* drover-status is a tool: running out of memory ends it. */
static void
jset(json_t *o, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(o, key, v) != 0)
		fatalx("out of memory building JSON");
}

static void
jint(json_t *o, const char *key, uint64_t v)
{
	jset(o, key, json_integer((json_int_t)v));
}

static void
jsint(json_t *o, const char *key, int64_t v)
{
	jset(o, key, json_integer((json_int_t)v));
}

static void
jstr(json_t *o, const char *key, const char *s)
{
	/* Segment strings may be any bytes: keep valid UTF-8 only. */
	json_t	*v = json_string(s);

	jset(o, key, v != NULL ? v : json_string(""));
}

static json_t *
jnew(void)
{
	json_t	*o = json_object();

	if (o == NULL)
		fatalx("out of memory building JSON");
	return o;
}

static json_t *
jarr(void)
{
	json_t	*a = json_array();

	if (a == NULL)
		fatalx("out of memory building JSON");
	return a;
}

static void
jpush(json_t *a, json_t *v)
{
	if (json_array_append_new(a, v) != 0)
		fatalx("out of memory building JSON");
}

static json_t *
json_slot(const struct snap *sn, const struct sb_slot_info *s)
{
	json_t	*o = jnew();
	char	 letter[2] = { sb_state_letter(s->state), '\0' };

	jint(o, "slot", s->index);
	if (s->unstable) {
		jstr(o, "state", "unstable");
		jstr(o, "letter", "?");
		return o;
	}
	jstr(o, "state", sb_state_name(s->state));
	jstr(o, "letter", letter);
	jsint(o, "pid", s->pid);
	jint(o, "generation", s->generation);
	jint(o, "requests", s->requests);
	jint(o, "errors", s->errors);
	jint(o, "spawn_time_us", s->spawn_us);
	jint(o, "age_us", since_mono(sn, s->spawn_mono_us));
	jint(o, "state_since_us", s->state_us);
	jstr(o, "bus_state", sb_bus_name(s->bus_state));
	jstr(o, "addr", s->addr);
	jint(o, "rss_kb", s->rss_kb);
	jint(o, "rss_base_kb", s->rss_base_kb);
	jint(o, "cpu_us", s->cpu_us);
	jstr(o, "exit_reason", sb_exit_reason_name(s->exit_reason));
	jint(o, "last_duration_us", s->last_dur_us);
	jint(o, "last_cpu_us", s->last_cpu_us);
	jstr(o, "method", s->method);
	jstr(o, "client", s->client);
	jstr(o, "thread", s->thread);
	jstr(o, "xid", s->xid);
	jint(o, "thread_trace", s->thread_trace);
	jint(o, "request_start_us", s->req_start_us);
	jint(o, "request_start_mono_us", s->req_start_mono_us);
	if (slot_in_request(s))
		jint(o, "elapsed_us", request_elapsed(sn, s));
	else
		jset(o, "elapsed_us", json_null());
	return o;
}

/* One method: counts, errors by class, estimates, cumulative buckets. */
static json_t *
json_method(const struct sb_method_info *m)
{
	json_t		*o = jnew(), *e = jnew(), *a = jarr(), *b;
	uint64_t	 cum = 0;
	unsigned	 k;

	jstr(o, "method", m->name);
	jint(o, "calls", m->calls);
	jint(e, "4xx", m->err_4xx);
	jint(e, "5xx", m->err_5xx);
	jint(e, "other", m->err_other);
	jset(o, "errors", e);
	jint(o, "sum_us", m->sum_us);
	jint(o, "mean_us", method_mean_us(m));
	jint(o, "p50_us", sb_method_quantile_us(m->buckets, 0.5));
	jint(o, "p90_us", sb_method_quantile_us(m->buckets, 0.9));
	jint(o, "p99_us", sb_method_quantile_us(m->buckets, 0.99));
	for (k = 0; k < SB_METHOD_BUCKETS; k++) {
		cum += m->buckets[k];
		b = jnew();
		if (k == SB_METHOD_BUCKETS - 1)
			jset(b, "le_us", json_null());	/* +Inf */
		else
			jint(b, "le_us", sb_method_le_us(k));
		jint(b, "count", cum);
		jpush(a, b);
	}
	jset(o, "buckets", a);
	return o;
}

static json_t *
json_methods(const struct snap *sn)
{
	json_t		*a;
	unsigned	 i;

	if (sn->nmethods < 0)
		return json_null();		/* unstable */
	a = jarr();
	for (i = 0; i < SB_METHOD_CELLS; i++)
		if (method_shown(sn, i))
			jpush(a, json_method(&sn->methods[i]));
	return a;
}

static json_t *
json_service(const struct snap *sn, int full, int methods)
{
	const struct sb_info	*in = &sn->info;
	const struct sb_limits	*l = &in->limits;
	json_t			*o = jnew(), *p, *a;
	char			 e[320];
	unsigned		 i;
	int			 k;

	jstr(o, "segment", sn->name);
	if (sn->err != 0) {
		jstr(o, "error", err_text(sn, e, sizeof(e)));
		if (sn->found_version != 0)
			jint(o, "layout_version", sn->found_version);
		return o;
	}
	jstr(o, "service", in->service);
	jstr(o, "instance", in->instance);
	jint(o, "layout_version", in->version);
	jint(o, "now_us", sn->now_us);
	p = jnew();
	jsint(p, "pid", in->parent_pid);
	jset(p, "running", json_boolean(in->parent_alive));
	jint(p, "start_time_us", in->start_us);
	jint(p, "uptime_us", since(sn, in->start_us));
	jstr(p, "bus_kind", sb_bus_kind_name(in->bus_kind));
	jstr(p, "bus_state", sb_bus_name(in->bus_state));
	jset(o, "parent", p);
	jint(o, "generation", in->generation);

	p = jnew();
	jint(p, "total", sn->sum.children);
	for (i = 0; i < SB_NSTATES; i++)
		jint(p, sb_state_name(i), sn->sum.by_state[i]);
	jint(p, "unstable", sn->sum.unstable);
	jint(p, "bus_not_up", sn->sum.bus_not_up);
	jint(p, "rss_kb", sn->sum.rss_kb);
	jint(p, "cpu_us", sn->sum.cpu_us);
	jset(o, "children", p);

	p = jnew();
	jint(p, "now", in->counters[SB_C_QUEUED]);
	jint(p, "max", in->counters[SB_C_MAX_QUEUED]);
	jint(p, "limit", l->max_backlog_queue);
	if (in->backlog_oldest_mono_us != 0)
		jint(p, "oldest_age_us",
		    since_mono(sn, in->backlog_oldest_mono_us));
	else
		jset(p, "oldest_age_us", json_null());
	jset(o, "queue", p);

	if (in->svc_queue.sampled_mono_us != 0) {
		p = jnew();
		jint(p, "depth", in->svc_queue.depth);
		jint(p, "oldest_ms", in->svc_queue.oldest_ms);
		jint(p, "sample_age_us",
		    since_mono(sn, in->svc_queue.sampled_mono_us));
		jset(o, "service_queue", p);
	} else
		jset(o, "service_queue", json_null());

	p = jnew();
	for (i = 0; i < SB_NCOUNTERS; i++)
		if (i != SB_C_QUEUED && i != SB_C_MAX_QUEUED)
			jint(p, sb_counter_name(i), in->counters[i]);
	jint(p, "deaths", in->deaths_total);
	jset(o, "counters", p);

	p = jnew();
	jint(p, "min_children", l->min_children);
	jint(p, "max_children", l->max_children);
	jint(p, "max_children_now", in->max_children_now);
	jint(p, "min_spare", l->min_spare);
	jint(p, "max_spare", l->max_spare);
	jint(p, "max_requests", l->max_requests);
	jint(p, "keepalive_s", l->keepalive_s);
	jint(p, "max_backlog_queue", l->max_backlog_queue);
	jint(p, "request_timeout_s", l->request_timeout_s);
	jint(p, "slow_request_ms", l->slow_request_ms);
	jint(p, "max_requests_jitter", l->max_requests_jitter);
	jint(p, "max_rss_growth_kb", l->max_rss_growth_kb);
	jint(p, "max_rss_kb", l->max_rss_kb);
	jint(p, "max_child_lifetime_s", l->max_child_lifetime_s);
	jint(p, "max_child_lifetime_jitter_s",
	    l->max_child_lifetime_jitter_s);
	jset(o, "limits", p);

	jstr(o, "state_line", sn->line);
	if (full || methods)
		jset(o, "methods", json_methods(sn));
	if (!full)
		return o;

	a = jarr();
	for (i = 0; i < SB_SLOTS; i++)
		if (sn->slots[i].unstable || sn->slots[i].state != SB_EMPTY)
			jpush(a, json_slot(sn, &sn->slots[i]));
	jset(o, "slots", a);

	a = jarr();
	for (k = 0; k < sn->ndeaths; k++) {
		const struct sb_death_info *d = &sn->deaths[k];

		p = jnew();
		jint(p, "time_us", d->time_us);
		jint(p, "slot", d->slot);
		jsint(p, "pid", d->pid);
		jint(p, "generation", d->generation);
		jsint(p, "exit_code", d->exit_code);
		jsint(p, "signal", d->signal);
		jset(p, "core_dumped", json_boolean(d->core_dumped));
		jstr(p, "exit_reason", sb_exit_reason_name(d->exit_reason));
		jint(p, "rss_kb", d->rss_kb);
		jint(p, "cpu_us", d->cpu_us);
		jint(p, "requests", d->requests);
		jstr(p, "last_method", d->last_method);
		jpush(a, p);
	}
	jset(o, "deaths", a);
	return o;
}

static int
json_print(FILE *f, json_t *root, int watch)
{
	size_t	flags = JSON_SORT_KEYS | (watch ? JSON_COMPACT : JSON_INDENT(2));
	int	rc;

	rc = json_dumpf(root, f, flags);
	json_decref(root);
	if (rc != 0)
		return -EIO;
	fputc('\n', f);
	return 0;
}

/* ------------------------------------------------------- OpenMetrics view */

/* Print a label value escaped as OpenMetrics requires. */
static void
om_escape(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* {service=...,instance=...[,k1="v1"[,k2="v2"]]} */
static void
om_labels(FILE *f, const struct snap *sn, const char *k1, const char *v1,
    const char *k2, const char *v2)
{
	fputs("{service=\"", f);
	om_escape(f, sn->info.service);
	fputc('"', f);
	if (sn->info.instance[0] != '\0') {
		fputs(",instance=\"", f);
		om_escape(f, sn->info.instance);
		fputc('"', f);
	}
	if (k1 != NULL) {
		fprintf(f, ",%s=\"", k1);
		om_escape(f, v1);
		fputc('"', f);
	}
	if (k2 != NULL) {
		fprintf(f, ",%s=\"", k2);
		om_escape(f, v2);
		fputc('"', f);
	}
	fputc('}', f);
}

/* Seconds from microseconds, exactly (OpenMetrics takes decimals). */
static void
om_seconds(FILE *f, uint64_t us)
{
	fprintf(f, "%" PRIu64 ".%06" PRIu64, us / 1000000u, us % 1000000u);
}

enum om_kind { OM_GAUGE, OM_COUNTER };
/* How an om_family's value reads: a count, or us shown as seconds. */
enum om_unit { OM_COUNT, OM_SECONDS, OM_BYTES_KB };

/* What one metric family shows of a snapshot. */
struct om_family {
	const char	*name;
	enum om_kind	 kind;
	enum om_unit	 unit;
	const char	*help;
	int		 counter;	/* index into counters[], or -1 */
	uint64_t	 (*value)(const struct snap *);
	int		 (*has)(const struct snap *);	/* NULL: always */
};

static uint64_t
om_up(const struct snap *sn)
{
	return sn->info.parent_alive ? 1 : 0;
}

static uint64_t
om_generation(const struct snap *sn)
{
	return sn->info.generation;
}

static uint64_t
om_deaths(const struct snap *sn)
{
	return sn->info.deaths_total;
}

static uint64_t
om_unstable(const struct snap *sn)
{
	return sn->sum.unstable;
}

static uint64_t
om_bus_up(const struct snap *sn)
{
	return sn->info.bus_state == SB_BUS_UP ? 1 : 0;
}

static uint64_t
om_bus_not_up(const struct snap *sn)
{
	return sn->sum.bus_not_up;
}

static uint64_t
om_rss(const struct snap *sn)
{
	return sn->sum.rss_kb;
}

static uint64_t
om_backlog_age(const struct snap *sn)
{
	return since_mono(sn, sn->info.backlog_oldest_mono_us);
}

static int
om_has_svc_queue(const struct snap *sn)
{
	return sn->info.svc_queue.sampled_mono_us != 0;
}

static uint64_t
om_svc_depth(const struct snap *sn)
{
	return sn->info.svc_queue.depth;
}

static uint64_t
om_svc_oldest(const struct snap *sn)
{
	return sn->info.svc_queue.oldest_ms * 1000u;
}

static uint64_t
om_svc_sample_age(const struct snap *sn)
{
	return since_mono(sn, sn->info.svc_queue.sampled_mono_us);
}

static const struct om_family om_families[] = {
	{ "drover_up", OM_GAUGE, OM_COUNT,
	    "1 if the service's parent process is running", -1, om_up,
	    NULL },
	{ "drover_generation", OM_GAUGE, OM_COUNT,
	    "Configuration generation", -1, om_generation, NULL },
	{ "drover_bus_up", OM_GAUGE, OM_COUNT,
	    "1 if the parent's bus connection is up", -1, om_bus_up, NULL },
	{ "drover_queue_length", OM_GAUGE, OM_COUNT,
	    "Requests waiting for a free child", SB_C_QUEUED, NULL, NULL },
	{ "drover_queue_max_length", OM_GAUGE, OM_COUNT,
	    "Highest queue length seen", SB_C_MAX_QUEUED, NULL, NULL },
	{ "drover_queue_oldest_age_seconds", OM_GAUGE, OM_SECONDS,
	    "Age of the oldest request in the parent's backlog, 0 if empty",
	    -1, om_backlog_age, NULL },
	{ "drover_service_queue_depth", OM_GAUGE, OM_COUNT,
	    "Requests in the Redis service queue at the last sample", -1,
	    om_svc_depth, om_has_svc_queue },
	{ "drover_service_queue_oldest_age_seconds", OM_GAUGE, OM_SECONDS,
	    "Age of the oldest request in the Redis service queue (a lower "
	    "bound) at the last sample", -1, om_svc_oldest,
	    om_has_svc_queue },
	{ "drover_service_queue_sample_age_seconds", OM_GAUGE, OM_SECONDS,
	    "Time since the Redis service queue was sampled", -1,
	    om_svc_sample_age, om_has_svc_queue },
	{ "drover_unstable_slots", OM_GAUGE, OM_COUNT,
	    "Slots that could not be read consistently", -1, om_unstable,
	    NULL },
	{ "drover_children_bus_not_up", OM_GAUGE, OM_COUNT,
	    "Live children whose bus connection is down or connecting", -1,
	    om_bus_not_up, NULL },
	{ "drover_children_rss_bytes", OM_GAUGE, OM_BYTES_KB,
	    "Resident set of the live children together", -1, om_rss, NULL },
	{ "drover_requests_accepted", OM_COUNTER, OM_COUNT,
	    "Requests taken from the bus", SB_C_ACCEPTED, NULL, NULL },
	{ "drover_requests_completed", OM_COUNTER, OM_COUNT,
	    "Requests answered without error", SB_C_COMPLETED, NULL, NULL },
	{ "drover_requests_failed", OM_COUNTER, OM_COUNT,
	    "Requests that ended in error, rescued ones included", SB_C_FAILED,
	    NULL, NULL },
	{ "drover_requests_rejected", OM_COUNTER, OM_COUNT,
	    "Requests refused with 503, backlog full", SB_C_REJECTED, NULL,
	    NULL },
	{ "drover_requests_slow", OM_COUNTER, OM_COUNT,
	    "Requests at or over slow_request_ms", SB_C_SLOW, NULL, NULL },
	{ "drover_requests_rescued", OM_COUNTER, OM_COUNT,
	    "Requests the parent answered with an error for a child that "
	    "died, was killed or could not reply", SB_C_RESCUED, NULL, NULL },
	{ "drover_replies_unsent", OM_COUNTER, OM_COUNT,
	    "Replies a child could not send", SB_C_UNSENT, NULL, NULL },
	{ "drover_max_children_reached", OM_COUNTER, OM_COUNT,
	    "Times a request found max_children busy", SB_C_MAXCHILD, NULL,
	    NULL },
	{ "drover_children_spawned", OM_COUNTER, OM_COUNT,
	    "Children forked", SB_C_SPAWNED, NULL, NULL },
	{ "drover_children_abnormal_deaths", OM_COUNTER, OM_COUNT,
	    "Children dead by a signal or a non-zero exit", SB_C_ABNORMAL,
	    NULL, NULL },
	{ "drover_children_recycled", OM_COUNTER, OM_COUNT,
	    "Children retired by max_requests, memory or lifetime",
	    SB_C_RECYCLED, NULL, NULL },
	{ "drover_children_deaths", OM_COUNTER, OM_COUNT,
	    "Children reaped", -1, om_deaths, NULL },
};

static void
om_value(FILE *f, enum om_unit unit, uint64_t v)
{
	switch (unit) {
	case OM_SECONDS:
		om_seconds(f, v);
		break;
	case OM_BYTES_KB:
		fprintf(f, "%" PRIu64, v * 1024u);
		break;
	default:
		fprintf(f, "%" PRIu64, v);
		break;
	}
}

/* "# TYPE", "# UNIT" (when the name says one) and "# HELP". */
static void
om_meta(FILE *f, const char *name, const char *type, const char *unit,
    const char *help)
{
	fprintf(f, "# TYPE %s %s\n", name, type);
	if (unit != NULL)
		fprintf(f, "# UNIT %s %s\n", name, unit);
	fprintf(f, "# HELP %s %s.\n", name, help);
}

static void
om_family_print(FILE *f, const struct om_family *fam, const struct snap *sv,
    size_t n)
{
	size_t		i;

	om_meta(f, fam->name, fam->kind == OM_COUNTER ? "counter" : "gauge",
	    fam->unit == OM_SECONDS ? "seconds" : fam->unit == OM_BYTES_KB ?
	    "bytes" : NULL, fam->help);
	for (i = 0; i < n; i++) {
		if (sv[i].err != 0 || (fam->has != NULL && !fam->has(&sv[i])))
			continue;
		fprintf(f, "%s%s", fam->name,
		    fam->kind == OM_COUNTER ? "_total" : "");
		om_labels(f, &sv[i], NULL, NULL, NULL, NULL);
		fputc(' ', f);
		om_value(f, fam->unit, fam->value != NULL ?
		    fam->value(&sv[i]) : sv[i].info.counters[fam->counter]);
		fputc('\n', f);
	}
}

/* The parent's bus as an info metric: kind and state as labels. */
static void
om_bus_info(FILE *f, const struct snap *sv, size_t n)
{
	size_t	i;

	om_meta(f, "drover_bus", "info", NULL,
	    "The parent's message bus: kind and connection state");
	for (i = 0; i < n; i++) {
		if (sv[i].err != 0)
			continue;
		fputs("drover_bus_info", f);
		om_labels(f, &sv[i], "kind",
		    sb_bus_kind_name(sv[i].info.bus_kind), "state",
		    sb_bus_name(sv[i].info.bus_state));
		fputs(" 1\n", f);
	}
}

/* Per live child: its RSS and CPU, labelled by slot. */
static void
om_children(FILE *f, const struct snap *sv, size_t n)
{
	static const struct {
		const char	*name;
		const char	*unit;
		const char	*help;
	} fam[] = {
		{ "drover_child_rss_bytes", "bytes",
		    "A live child's resident set, last sampled (children "
		    "not sampled yet are left out)" },
		{ "drover_child_cpu_seconds", "seconds",
		    "A live child's CPU time so far, last sampled" },
	};
	const struct sb_slot_info	*s;
	char				 slot[16];
	size_t				 i, k;
	unsigned			 j;

	for (k = 0; k < ARRAY_LEN(fam); k++) {
		om_meta(f, fam[k].name, "gauge", fam[k].unit, fam[k].help);
		for (i = 0; i < n; i++) {
			if (sv[i].err != 0)
				continue;
			for (j = 0; j < SB_SLOTS; j++) {
				s = &sv[i].slots[j];
				/* not sampled yet: no figure, not 0 */
				if (!slot_alive(s) || s->rss_kb == 0)
					continue;
				(void)snprintf(slot, sizeof(slot), "%u", j);
				fputs(fam[k].name, f);
				om_labels(f, &sv[i], "slot", slot, NULL,
				    NULL);
				fputc(' ', f);
				if (k == 0)
					om_value(f, OM_BYTES_KB, s->rss_kb);
				else
					om_seconds(f, s->cpu_us);
				fputc('\n', f);
			}
		}
	}
}

/* The `le` label of bucket k: seconds, exact, or "+Inf". */
static const char *
om_le(char *buf, size_t sz, unsigned k)
{
	uint64_t	us = sb_method_le_us(k);

	if (k >= SB_METHOD_BUCKETS - 1)
		(void)snprintf(buf, sz, "+Inf");
	else
		(void)snprintf(buf, sz, "%" PRIu64 ".%06" PRIu64,
		    us / 1000000u, us % 1000000u);
	return buf;
}

/* Per method: the duration histogram, then calls and errors counters. */
static void
om_methods(FILE *f, const struct snap *sv, size_t n)
{
	static const char *const cls[] = { "4xx", "5xx", "other" };
	const struct sb_method_info	*m;
	char				 le[32];
	uint64_t			 cum, e[3];
	size_t				 i, c;
	unsigned			 j, k;

	om_meta(f, "drover_method_duration_seconds", "histogram", "seconds",
	    "Time children took per call, by method");
	for (i = 0; i < n; i++)
		for (j = 0; sv[i].err == 0 && j < SB_METHOD_CELLS; j++) {
			if (!method_shown(&sv[i], j))
				continue;
			m = &sv[i].methods[j];
			for (cum = 0, k = 0; k < SB_METHOD_BUCKETS; k++) {
				cum += m->buckets[k];
				fputs("drover_method_duration_seconds_bucket",
				    f);
				om_labels(f, &sv[i], "method", m->name, "le",
				    om_le(le, sizeof(le), k));
				fprintf(f, " %" PRIu64 "\n", cum);
			}
			fputs("drover_method_duration_seconds_sum", f);
			om_labels(f, &sv[i], "method", m->name, NULL, NULL);
			fputc(' ', f);
			om_seconds(f, m->sum_us);
			fputs("\ndrover_method_duration_seconds_count", f);
			om_labels(f, &sv[i], "method", m->name, NULL, NULL);
			fprintf(f, " %" PRIu64 "\n", m->calls);
		}

	om_meta(f, "drover_method_calls", "counter", NULL,
	    "Calls, by method");
	for (i = 0; i < n; i++)
		for (j = 0; sv[i].err == 0 && j < SB_METHOD_CELLS; j++) {
			if (!method_shown(&sv[i], j))
				continue;
			fputs("drover_method_calls_total", f);
			om_labels(f, &sv[i], "method", sv[i].methods[j].name,
			    NULL, NULL);
			fprintf(f, " %" PRIu64 "\n", sv[i].methods[j].calls);
		}

	om_meta(f, "drover_method_errors", "counter", NULL,
	    "Calls that ended in error, by method and status class");
	for (i = 0; i < n; i++)
		for (j = 0; sv[i].err == 0 && j < SB_METHOD_CELLS; j++) {
			if (!method_shown(&sv[i], j))
				continue;
			m = &sv[i].methods[j];
			e[0] = m->err_4xx;
			e[1] = m->err_5xx;
			e[2] = m->err_other;
			for (c = 0; c < ARRAY_LEN(cls); c++) {
				fputs("drover_method_errors_total", f);
				om_labels(f, &sv[i], "method", m->name,
				    "class", cls[c]);
				fprintf(f, " %" PRIu64 "\n", e[c]);
			}
		}
}

static void
om_print(FILE *f, const struct snap *sv, size_t n)
{
	static const char *const limit_names[] = {
		"min_children", "max_children", "max_children_now",
		"min_spare", "max_spare", "max_requests", "keepalive_seconds",
		"max_backlog_queue", "request_timeout_seconds",
		"slow_request_milliseconds", "max_requests_jitter",
		"max_rss_growth_kilobytes", "max_rss_kilobytes",
		"max_child_lifetime_seconds",
		"max_child_lifetime_jitter_seconds",
	};
	size_t		 i, k;
	unsigned	 s;

	om_meta(f, "drover_start_time_seconds", "gauge", "seconds",
	    "Parent start, Unix time");
	for (i = 0; i < n; i++) {
		if (sv[i].err != 0)
			continue;
		fputs("drover_start_time_seconds", f);
		om_labels(f, &sv[i], NULL, NULL, NULL, NULL);
		fputc(' ', f);
		om_seconds(f, sv[i].info.start_us);
		fputc('\n', f);
	}
	for (k = 0; k < ARRAY_LEN(om_families); k++)
		om_family_print(f, &om_families[k], sv, n);
	om_bus_info(f, sv, n);

	om_meta(f, "drover_slots", "gauge", NULL,
	    "Scoreboard slots in each state");
	for (i = 0; i < n; i++) {
		if (sv[i].err != 0)
			continue;
		for (s = 0; s < SB_NSTATES; s++) {
			fputs("drover_slots", f);
			om_labels(f, &sv[i], "state", sb_state_name(s), NULL,
			    NULL);
			fprintf(f, " %u\n", sv[i].sum.by_state[s]);
		}
	}

	om_meta(f, "drover_limit", "gauge", NULL, "Configured limits");
	for (i = 0; i < n; i++) {
		const struct sb_limits *l = &sv[i].info.limits;
		const uint32_t v[] = {
			l->min_children, l->max_children,
			sv[i].info.max_children_now, l->min_spare,
			l->max_spare, l->max_requests, l->keepalive_s,
			l->max_backlog_queue, l->request_timeout_s,
			l->slow_request_ms, l->max_requests_jitter,
			l->max_rss_growth_kb, l->max_rss_kb,
			l->max_child_lifetime_s,
			l->max_child_lifetime_jitter_s,
		};

		_Static_assert(ARRAY_LEN(v) == ARRAY_LEN(limit_names),
		    "one name per limit");
		if (sv[i].err != 0)
			continue;
		for (k = 0; k < ARRAY_LEN(v); k++) {
			fputs("drover_limit", f);
			om_labels(f, &sv[i], "limit", limit_names[k], NULL,
			    NULL);
			fprintf(f, " %u\n", v[k]);
		}
	}
	om_children(f, sv, n);
	om_methods(f, sv, n);
	fputs("# EOF\n", f);
}

/* ------------------------------------------------------------------ main */

struct list {
	struct snap	*v;
	size_t		 n, cap;
};

static int
list_add(const char *name, void *arg)
{
	struct list	*l = arg;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	/* A broken segment is listed with its error, not skipped. */
	(void)snap_take(&l->v[l->n++], name);
	return 0;
}

/* One frame: every service, or the one named.  Returns an exit code. */
static int
frame(FILE *f, const struct opts *o)
{
	char		 name[SB_SHM_NAME_MAX], e[320];
	struct snap	*sn;
	struct list	 l = { NULL, 0, 0 };
	json_t		*root, *a;
	size_t		 i;
	int		 rc, ex = EXIT_OK;

	if (o->target != NULL) {
		/* Validated in main(). */
		if (sb_shm_name_arg(name, sizeof(name), o->target) != 0)
			return EXIT_USAGE;
		sn = xmalloc(sizeof(*sn));
		if ((rc = snap_take(sn, name)) != 0) {
			fprintf(stderr, "drover-status: %s: %s\n", o->target,
			    err_text(sn, e, sizeof(e)));
			free(sn);
			return err_exit(rc);
		}
		if (o->fmt == FMT_JSON)
			rc = json_print(f, json_service(sn, 1, 1),
			    o->watch > 0);
		else if (o->fmt == FMT_OPENMETRICS)
			om_print(f, sn, 1);
		else if (o->methods)
			text_methods(f, sn);
		else
			text_service(f, sn);
		free(sn);
		return rc != 0 ? EXIT_OTHER : EXIT_OK;
	}

	if ((rc = sb_enumerate(list_add, &l)) != 0) {
		fprintf(stderr, "drover-status: /dev/shm: %s\n",
		    strerror(-rc));
		ex = EXIT_OTHER;
	}
	if (o->fmt == FMT_JSON) {
		root = jnew();
		a = jarr();
		for (i = 0; i < l.n; i++)
			jpush(a, json_service(&l.v[i], 0, o->methods));
		jset(root, "services", a);
		if (json_print(f, root, o->watch > 0) != 0)
			ex = EXIT_OTHER;
	} else if (o->fmt == FMT_OPENMETRICS)
		om_print(f, l.v, l.n);
	else if (l.n == 0)
		fprintf(f, "no drover services on this host\n");
	else if (o->methods)
		for (i = 0; i < l.n; i++) {
			if (i > 0)
				fputc('\n', f);
			if (l.v[i].err != 0)
				text_list_line(f, &l.v[i]);
			else
				text_methods(f, &l.v[i]);
		}
	else
		for (i = 0; i < l.n; i++)
			text_list_line(f, &l.v[i]);
	free(l.v);
	return ex;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: drover-status [--json | --openmetrics] "
	    "[--methods] [--watch seconds]\n"
	    "                     [service[@instance]]\n"
	    "       drover-status --help | --version\n");
}

static int
parse_opts(int argc, char **argv, struct opts *o, int *done)
{
	static const struct option longopts[] = {
		{ "json",	 no_argument,	    NULL, 'j' },
		{ "openmetrics", no_argument,	    NULL, 'm' },
		{ "methods",	 no_argument,	    NULL, 'M' },
		{ "watch",	 required_argument, NULL, 'w' },
		{ "help",	 no_argument,	    NULL, 'h' },
		{ "version",	 no_argument,	    NULL, 'V' },
		{ NULL,		 0,		    NULL, 0 }
	};
	char	 name[SB_SHM_NAME_MAX], *end;
	int	 ch;

	memset(o, 0, sizeof(*o));
	*done = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			if (o->fmt == FMT_OPENMETRICS)
				goto bad;
			o->fmt = FMT_JSON;
			break;
		case 'm':
			if (o->fmt == FMT_JSON)
				goto bad;
			o->fmt = FMT_OPENMETRICS;
			break;
		case 'M':
			o->methods = 1;
			break;
		case 'w':
			errno = 0;
			o->watch = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(o->watch >= WATCH_MIN_S &&
			    o->watch <= WATCH_MAX_S)) {
				fprintf(stderr, "drover-status: --watch: "
				    "expected seconds from %.1f to %.0f, got "
				    "\"%s\"\n", WATCH_MIN_S, WATCH_MAX_S,
				    optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			*done = 1;
			return EXIT_OK;
		case 'V':
			printf("drover-status %s (scoreboard layout %u)\n",
			    DROVER_VERSION, SB_LAYOUT_VERSION);
			*done = 1;
			return EXIT_OK;
		default:
			goto bad;
		}
	}
	if (argc - optind > 1)
		goto bad;
	if (argc - optind == 1) {
		o->target = argv[optind];
		if (sb_shm_name_arg(name, sizeof(name), o->target) != 0) {
			fprintf(stderr, "drover-status: \"%s\": not a valid "
			    "service[@instance] name\n", o->target);
			return EXIT_USAGE;
		}
	}
	return EXIT_OK;
bad:
	usage(stderr);
	return EXIT_USAGE;
}

/* Sleep `s` seconds unless a stop signal arrives first. */
static void
watch_sleep(double s)
{
	struct timespec	ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - floor(s)) * 1e9);
	while (!stop_flag && nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
main(int argc, char **argv)
{
	struct sigaction	 sa;
	struct opts		 o;
	int			 ex, done, tty, first = 1;

	log_init("drover-status");
	if ((ex = parse_opts(argc, argv, &o, &done)) != EXIT_OK || done)
		return ex;
	if (o.watch == 0) {
		ex = frame(stdout, &o);
		if (fflush(stdout) == EOF || ferror(stdout))
			return EXIT_OTHER;
		return ex;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the signal must cut nanosleep() short. */
	if (sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1)
		fatal("sigaction");
	tty = isatty(STDOUT_FILENO) && o.fmt == FMT_TEXT;
	while (!stop_flag) {
		if (tty)
			fputs("\033[H\033[2J", stdout);	/* home, clear */
		else if (!first && o.fmt == FMT_TEXT)
			fputs("\n", stdout);
		ex = frame(stdout, &o);
		if (fflush(stdout) == EOF)
			return EXIT_OTHER;
		/* A service missing at the start is an error; later, it
		 * may just be restarting, so keep watching. */
		if (first && ex != EXIT_OK)
			return ex;
		first = 0;
		watch_sleep(o.watch);
	}
	return EXIT_OK;
}
