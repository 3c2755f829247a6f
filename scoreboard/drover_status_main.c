/*
 * drover_status_main.c: drover-status(8), the ops view of the scoreboards.
 *
 * Reads /dev/shm/drover.* segments read-only through sb.h and prints
 * them as text, JSON or OpenMetrics, once or every --watch SECONDS.  It
 * never writes to a segment and never waits on a writer: a slot that
 * does not read consistently within the retry bound is shown as unstable.
 *
 * Divisions: snapshot (copy one segment out), text view, JSON view,
 * OpenMetrics view, main (options, list or one service, watch loop).
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
	struct sb_info		 info;
	struct sb_slot_info	 slots[SB_SLOTS];
	struct sb_summary	 sum;
	struct sb_death_info	 deaths[SB_DEATHS];
	int			 ndeaths;
	char			 line[SB_SLOTS + 1];
	uint64_t		 now_us;
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
		return rc;
	}
	sn->now_us = wall_us();
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
	sb_close(&sb);
	sb_summarize(sn->slots, SB_SLOTS, &sn->sum);
	sb_state_line(sn->slots, SB_SLOTS, sn->line);
	return 0;
}

static const char *
err_word(int err)
{
	switch (err) {
	case -ENOENT:
		return "no such service";
	case -EPROTO:
		return "incompatible segment (not a drover scoreboard of "
		    "this layout version)";
	case -EBADMSG:
		return "corrupt segment";
	case -EAGAIN:
		return "unstable segment";
	default:
		return strerror(-err);
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

static int
slot_in_request(const struct sb_slot_info *s)
{
	return s->state == SB_BUSY || s->state == SB_SESSION;
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
	char	name[2 * SB_NAME_LEN], d[32];

	display_name(sn, name, sizeof(name));
	if (sn->err != 0) {
		fprintf(f, "%-32s %s\n", name, err_word(sn->err));
		return;
	}
	fprintf(f, "%-32s pid %-7d %-11s up %-7s children %u (idle %u "
	    "busy %u session %u) queue %" PRIu64 " accepted %" PRIu64
	    " failed %" PRIu64 "\n", name, (int)sn->info.parent_pid,
	    sn->info.parent_alive ? "running" : "NOT RUNNING",
	    fmt_dur(d, sizeof(d), since(sn, sn->info.start_us)),
	    sn->sum.children, sn->sum.by_state[SB_IDLE],
	    sn->sum.by_state[SB_BUSY], sn->sum.by_state[SB_SESSION],
	    sn->info.counters[SB_C_QUEUED],
	    sn->info.counters[SB_C_ACCEPTED],
	    sn->info.counters[SB_C_FAILED]);
}

static void
text_slots(FILE *f, const struct snap *sn)
{
	const struct sb_slot_info	*s;
	char				 d1[32], d2[32];
	unsigned			 i;

	fprintf(f, "%4s %7s %4s %-8s %8s %7s %-28s %-24s %-16s %7s\n",
	    "SLOT", "PID", "GEN", "STATE", "REQS", "SINCE", "METHOD",
	    "CLIENT", "THREAD", "ELAPSED");
	for (i = 0; i < SB_SLOTS; i++) {
		s = &sn->slots[i];
		if (s->unstable) {
			fprintf(f, "%4u %7s %4s %-8s\n", i, "-", "-",
			    "unstable");
			continue;
		}
		if (s->state == SB_EMPTY)
			continue;
		fprintf(f, "%4u %7d %4u %-8s %8" PRIu64 " %7s %-28.28s "
		    "%-24.24s %-16.16s %7s\n", i, (int)s->pid, s->generation,
		    sb_state_name(s->state), s->requests,
		    fmt_dur(d1, sizeof(d1), since(sn, s->state_us)),
		    s->method[0] ? s->method : "-",
		    s->client[0] ? s->client : "-",
		    s->thread[0] ? s->thread : "-",
		    slot_in_request(s) ?
		    fmt_dur(d2, sizeof(d2), since(sn, s->req_start_us)) : "-");
	}
}

static void
text_deaths(FILE *f, const struct snap *sn)
{
	const struct sb_death_info	*d;
	char				 t[32], st[32];
	int				 i;

	fprintf(f, "recent deaths (%" PRIu64 " in all, newest first):\n",
	    sn->info.deaths_total);
	if (sn->ndeaths == 0) {
		fprintf(f, "  none\n");
		return;
	}
	fprintf(f, "%-20s %4s %7s %4s %-14s %8s %s\n", "TIME", "SLOT", "PID",
	    "GEN", "STATUS", "REQS", "LAST METHOD");
	for (i = 0; i < sn->ndeaths; i++) {
		d = &sn->deaths[i];
		if (d->signal != 0)
			(void)snprintf(st, sizeof(st), "signal %d%s",
			    d->signal, d->core_dumped ? " core" : "");
		else
			(void)snprintf(st, sizeof(st), "exit %d",
			    d->exit_code);
		fprintf(f, "%-20s %4u %7d %4u %-14s %8" PRIu64 " %s\n",
		    fmt_time(t, sizeof(t), d->time_us), d->slot, (int)d->pid,
		    d->generation, st, d->requests,
		    d->last_method[0] ? d->last_method : "-");
	}
}

static void
text_service(FILE *f, const struct snap *sn)
{
	const struct sb_info	*in = &sn->info;
	const struct sb_limits	*l = &in->limits;
	const uint64_t		*c = in->counters;
	char			 name[2 * SB_NAME_LEN], d[32], t[32];
	unsigned		 i;

	display_name(sn, name, sizeof(name));
	fprintf(f, "service:    %s (%s)\n", name, sn->name);
	fprintf(f, "parent:     pid %d, %s, started %s, up %s, "
	    "generation %u\n", (int)in->parent_pid,
	    in->parent_alive ? "running" : "NOT RUNNING (stale segment)",
	    fmt_time(t, sizeof(t), in->start_us),
	    fmt_dur(d, sizeof(d), since(sn, in->start_us)), in->generation);
	fprintf(f, "children:   %u (starting %u, idle %u, busy %u, "
	    "session %u, exiting %u), dead slots %u, unstable %u\n",
	    sn->sum.children, sn->sum.by_state[SB_STARTING],
	    sn->sum.by_state[SB_IDLE], sn->sum.by_state[SB_BUSY],
	    sn->sum.by_state[SB_SESSION], sn->sum.by_state[SB_EXITING],
	    sn->sum.by_state[SB_DEAD], sn->sum.unstable);
	fprintf(f, "queue:      now %" PRIu64 ", max %" PRIu64 ", limit %u\n",
	    c[SB_C_QUEUED], c[SB_C_MAX_QUEUED], l->max_backlog_queue);
	fprintf(f, "requests:   accepted %" PRIu64 ", completed %" PRIu64
	    ", failed %" PRIu64 ", rejected (503) %" PRIu64 ", slow %"
	    PRIu64 "\n", c[SB_C_ACCEPTED], c[SB_C_COMPLETED], c[SB_C_FAILED],
	    c[SB_C_REJECTED], c[SB_C_SLOW]);
	fprintf(f, "lifecycle:  spawned %" PRIu64 ", abnormal deaths %" PRIu64
	    ", max_children reached %" PRIu64 " times\n", c[SB_C_SPAWNED],
	    c[SB_C_ABNORMAL], c[SB_C_MAXCHILD]);
	fprintf(f, "limits:     children %u-%u (now %u), spare %u-%u, "
	    "max_requests %u, keepalive %us, backlog %u, request_timeout %us, "
	    "slow_request %ums\n", l->min_children, l->max_children,
	    in->max_children_now, l->min_spare, l->max_spare, l->max_requests,
	    l->keepalive_s, l->max_backlog_queue, l->request_timeout_s,
	    l->slow_request_ms);
	fprintf(f, "\nslots (. empty, S starting, _ idle, W busy, "
	    "K session, G exiting, X dead, ? unstable):\n");
	for (i = 0; i < SB_SLOTS; i += LINE_ROW)
		fprintf(f, "  %.*s\n", LINE_ROW, sn->line + i);
	fprintf(f, "\n");
	text_slots(f, sn);
	fprintf(f, "\n");
	text_deaths(f, sn);
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
	jint(o, "state_since_us", s->state_us);
	jint(o, "rss_kb", s->rss_kb);
	jint(o, "last_duration_us", s->last_dur_us);
	jint(o, "last_cpu_us", s->last_cpu_us);
	jstr(o, "method", s->method);
	jstr(o, "client", s->client);
	jstr(o, "thread", s->thread);
	jstr(o, "xid", s->xid);
	jint(o, "thread_trace", s->thread_trace);
	jint(o, "request_start_us", s->req_start_us);
	if (slot_in_request(s))
		jint(o, "elapsed_us", since(sn, s->req_start_us));
	else
		jset(o, "elapsed_us", json_null());
	return o;
}

static json_t *
json_service(const struct snap *sn, int full)
{
	const struct sb_info	*in = &sn->info;
	const struct sb_limits	*l = &in->limits;
	json_t			*o = jnew(), *p, *a;
	unsigned		 i;
	int			 k;

	jstr(o, "segment", sn->name);
	if (sn->err != 0) {
		jstr(o, "error", err_word(sn->err));
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
	jset(o, "parent", p);
	jint(o, "generation", in->generation);

	p = jnew();
	jint(p, "total", sn->sum.children);
	for (i = 0; i < SB_NSTATES; i++)
		jint(p, sb_state_name(i), sn->sum.by_state[i]);
	jint(p, "unstable", sn->sum.unstable);
	jset(o, "children", p);

	p = jnew();
	jint(p, "now", in->counters[SB_C_QUEUED]);
	jint(p, "max", in->counters[SB_C_MAX_QUEUED]);
	jint(p, "limit", l->max_backlog_queue);
	jset(o, "queue", p);

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
	jset(o, "limits", p);

	jstr(o, "state_line", sn->line);
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

static void
om_labels(FILE *f, const struct snap *sn, const char *k, const char *v)
{
	fputs("{service=\"", f);
	om_escape(f, sn->info.service);
	fputc('"', f);
	if (sn->info.instance[0] != '\0') {
		fputs(",instance=\"", f);
		om_escape(f, sn->info.instance);
		fputc('"', f);
	}
	if (k != NULL) {
		fprintf(f, ",%s=\"", k);
		om_escape(f, v);
		fputc('"', f);
	}
	fputc('}', f);
}

enum om_kind { OM_GAUGE, OM_COUNTER };

/* What one metric family shows of a snapshot. */
struct om_family {
	const char	*name;
	enum om_kind	 kind;
	const char	*help;
	int		 counter;	/* index into counters[], or -1 */
	uint64_t	 (*value)(const struct snap *);
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

static const struct om_family om_families[] = {
	{ "drover_up", OM_GAUGE,
	    "1 if the service's parent process is running", -1, om_up },
	{ "drover_generation", OM_GAUGE,
	    "Configuration generation", -1, om_generation },
	{ "drover_queue_length", OM_GAUGE,
	    "Requests waiting for a free child", SB_C_QUEUED, NULL },
	{ "drover_queue_max_length", OM_GAUGE,
	    "Highest queue length seen", SB_C_MAX_QUEUED, NULL },
	{ "drover_unstable_slots", OM_GAUGE,
	    "Slots that could not be read consistently", -1, om_unstable },
	{ "drover_requests_accepted", OM_COUNTER,
	    "Requests taken from the bus", SB_C_ACCEPTED, NULL },
	{ "drover_requests_completed", OM_COUNTER,
	    "Requests answered without error", SB_C_COMPLETED, NULL },
	{ "drover_requests_failed", OM_COUNTER,
	    "Requests that ended in error", SB_C_FAILED, NULL },
	{ "drover_requests_rejected", OM_COUNTER,
	    "Requests refused with 503, backlog full", SB_C_REJECTED, NULL },
	{ "drover_requests_slow", OM_COUNTER,
	    "Requests at or over slow_request_ms", SB_C_SLOW, NULL },
	{ "drover_max_children_reached", OM_COUNTER,
	    "Times a request found max_children busy", SB_C_MAXCHILD, NULL },
	{ "drover_children_spawned", OM_COUNTER,
	    "Children forked", SB_C_SPAWNED, NULL },
	{ "drover_children_abnormal_deaths", OM_COUNTER,
	    "Children dead by a signal or a non-zero exit", SB_C_ABNORMAL,
	    NULL },
	{ "drover_children_deaths", OM_COUNTER,
	    "Children reaped", -1, om_deaths },
};

static void
om_family_print(FILE *f, const struct om_family *fam, const struct snap *sv,
    size_t n)
{
	size_t		i;
	uint64_t	v;

	fprintf(f, "# TYPE %s %s\n# HELP %s %s.\n", fam->name,
	    fam->kind == OM_COUNTER ? "counter" : "gauge", fam->name,
	    fam->help);
	for (i = 0; i < n; i++) {
		if (sv[i].err != 0)
			continue;
		v = fam->value != NULL ? fam->value(&sv[i]) :
		    sv[i].info.counters[fam->counter];
		fprintf(f, "%s%s", fam->name,
		    fam->kind == OM_COUNTER ? "_total" : "");
		om_labels(f, &sv[i], NULL, NULL);
		fprintf(f, " %" PRIu64 "\n", v);
	}
}

static void
om_print(FILE *f, const struct snap *sv, size_t n)
{
	static const char *const limit_names[] = {
		"min_children", "max_children", "max_children_now",
		"min_spare", "max_spare", "max_requests", "keepalive_seconds",
		"max_backlog_queue", "request_timeout_seconds",
		"slow_request_milliseconds",
	};
	size_t		 i, k;
	unsigned	 s;

	fprintf(f, "# TYPE drover_start_time_seconds gauge\n"
	    "# UNIT drover_start_time_seconds seconds\n"
	    "# HELP drover_start_time_seconds Parent start, Unix time.\n");
	for (i = 0; i < n; i++) {
		if (sv[i].err != 0)
			continue;
		fputs("drover_start_time_seconds", f);
		om_labels(f, &sv[i], NULL, NULL);
		fprintf(f, " %" PRIu64 ".%06" PRIu64 "\n",
		    sv[i].info.start_us / 1000000u,
		    sv[i].info.start_us % 1000000u);
	}
	for (k = 0; k < ARRAY_LEN(om_families); k++)
		om_family_print(f, &om_families[k], sv, n);

	fprintf(f, "# TYPE drover_slots gauge\n"
	    "# HELP drover_slots Scoreboard slots in each state.\n");
	for (i = 0; i < n; i++) {
		if (sv[i].err != 0)
			continue;
		for (s = 0; s < SB_NSTATES; s++) {
			fputs("drover_slots", f);
			om_labels(f, &sv[i], "state", sb_state_name(s));
			fprintf(f, " %u\n", sv[i].sum.by_state[s]);
		}
	}

	fprintf(f, "# TYPE drover_limit gauge\n"
	    "# HELP drover_limit Configured limits.\n");
	for (i = 0; i < n; i++) {
		const struct sb_limits *l = &sv[i].info.limits;
		const uint32_t v[] = {
			l->min_children, l->max_children,
			sv[i].info.max_children_now, l->min_spare,
			l->max_spare, l->max_requests, l->keepalive_s,
			l->max_backlog_queue, l->request_timeout_s,
			l->slow_request_ms,
		};

		_Static_assert(ARRAY_LEN(v) == ARRAY_LEN(limit_names),
		    "one name per limit");
		if (sv[i].err != 0)
			continue;
		for (k = 0; k < ARRAY_LEN(v); k++) {
			fputs("drover_limit", f);
			om_labels(f, &sv[i], "limit", limit_names[k]);
			fprintf(f, " %u\n", v[k]);
		}
	}
	fputs("# EOF\n", f);
}

/* ------------------------------------------------------------------ main */

struct opts {
	enum format	 fmt;
	double		 watch;		/* seconds, 0 = once */
	const char	*target;	/* SERVICE[@INSTANCE] or NULL */
};

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
	char		 name[SB_SHM_NAME_MAX];
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
			    err_word(rc));
			free(sn);
			return err_exit(rc);
		}
		if (o->fmt == FMT_JSON)
			rc = json_print(f, json_service(sn, 1),
			    o->watch > 0);
		else if (o->fmt == FMT_OPENMETRICS)
			om_print(f, sn, 1);
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
			jpush(a, json_service(&l.v[i], 0));
		jset(root, "services", a);
		if (json_print(f, root, o->watch > 0) != 0)
			ex = EXIT_OTHER;
	} else if (o->fmt == FMT_OPENMETRICS)
		om_print(f, l.v, l.n);
	else if (l.n == 0)
		fprintf(f, "no drover services on this host\n");
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
	    "[--watch seconds] [service[@instance]]\n"
	    "       drover-status --help | --version\n");
}

static int
parse_opts(int argc, char **argv, struct opts *o, int *done)
{
	static const struct option longopts[] = {
		{ "json",	 no_argument,	    NULL, 'j' },
		{ "openmetrics", no_argument,	    NULL, 'm' },
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
