/*
 * test.c: drover.test, methods for tests, fault injection and benchmarks.
 *
 *   drover.test.sleep  seconds (may be fractional)  sleeps, answers it
 *   drover.test.crash                               SIGSEGV in the child
 *   drover.test.exit   code                         the child _exit()s
 *   drover.test.stream n      (streaming)           RESULTs 1 .. n
 *   drover.test.bytes  n                            one string of n bytes
 *   drover.test.panic                               answers, child exits
 *   drover.test.hold   kib                          allocates kib KiB, touches
 *                                                   every page and keeps it
 *                                                   for the child's life;
 *                                                   answers the KiB held
 *   drover.test.fail   code (400-599)               ends with that status
 *
 * A plugin must never exit, crash or touch signals; this one does so on
 * purpose, to test how the MPM survives plugins that do.
 *
 * <app_settings><fail_child_init>1</fail_child_init></app_settings> makes
 * child_init fail, for the MPM's crash-loop tests.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <drover/service.h>

/* Caps that keep a typo from eating the machine. */
#define TEST_MAX_SLEEP_S	3600.0
#define TEST_MAX_STREAM		1000000
#define TEST_MAX_BYTES		(64L * 1024 * 1024)
#define TEST_MAX_HOLD_KB	(1024LL * 1024)		/* 1 GiB a call */

/*
 * What drover.test.hold keeps: a list of blocks, so the memory stays
 * reachable (no leak report) and resident until the child exits, as a
 * leaking plugin's would.  One list per process: a child serves one
 * request at a time.
 */
struct held {
	struct held	*next;
};
static struct held	*held_list;
static long long	 held_kb;

static int
int_param(struct drover_req *req, long long min, long long max,
    long long *out)
{
	json_t	*v = drover_req_param(req, 0);

	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return drover_req_error(req, 400, "%s: expected an integer "
		    "from %lld to %lld", drover_req_method(req), min, max);
	*out = json_integer_value(v);
	return 1;
}

static int
t_sleep(struct drover_req *req, void *user)
{
	json_t		*v = drover_req_param(req, 0);
	struct timespec	 ts;
	double		 s;

	if (!json_is_number(v) || (s = json_number_value(v)) < 0 ||
	    s > TEST_MAX_SLEEP_S)
		return drover_req_error(req, 400, "drover.test.sleep: "
		    "expected seconds from 0 to %g", TEST_MAX_SLEEP_S);
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - floor(s)) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		continue;
	return drover_respond_new(req, json_real(s));
}

static int
t_crash(struct drover_req *req, void *user)
{
	drover_log(DROVER_LOG_WARNING, "drover.test.crash: SIGSEGV on "
	    "purpose");
	raise(SIGSEGV);
	return -EFAULT;		/* not reached with the default action */
}

static int
t_exit(struct drover_req *req, void *user)
{
	long long	code;
	int		rc;

	if ((rc = int_param(req, 0, 255, &code)) <= 0)
		return rc;
	drover_log(DROVER_LOG_WARNING, "drover.test.exit: exit %lld on "
	    "purpose", code);
	_exit((int)code);
}

static int
t_stream(struct drover_req *req, void *user)
{
	long long	n, i;
	int		rc;

	if ((rc = int_param(req, 0, TEST_MAX_STREAM, &n)) <= 0)
		return rc;
	for (i = 1; i <= n; i++)
		if ((rc = drover_respond_new(req, json_integer(i))) < 0)
			return rc;
	return 0;
}

static int
t_bytes(struct drover_req *req, void *user)
{
	/* a pattern, so a reassembly error shows in the content */
	static const char	 pat[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	long long		 n, i;
	char			*buf;
	json_t			*s;
	int			 rc;

	if ((rc = int_param(req, 0, TEST_MAX_BYTES, &n)) <= 0)
		return rc;
	if ((buf = malloc((size_t)n + 1)) == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		buf[i] = pat[i % (long long)(sizeof(pat) - 1)];
	buf[n] = '\0';
	s = json_stringn_nocheck(buf, (size_t)n);
	free(buf);
	return drover_respond_new(req, s);
}

static int
t_panic(struct drover_req *req, void *user)
{
	drover_req_panic(req);
	return drover_respond_new(req, json_string("panic"));
}

static int
t_hold(struct drover_req *req, void *user)
{
	struct held	*h;
	long long	 kb;
	size_t		 len;
	int		 rc;

	if ((rc = int_param(req, 1, TEST_MAX_HOLD_KB, &kb)) <= 0)
		return rc;
	len = (size_t)kb * 1024;
	if ((h = malloc(sizeof(*h) + len)) == NULL)
		return drover_req_error(req, 500, "drover.test.hold: cannot "
		    "allocate %lld KiB", kb);
	/* write every byte: resident pages, not an address range */
	memset(h + 1, 0xa5, len);
	h->next = held_list;
	held_list = h;
	held_kb += kb;
	return drover_respond_new(req, json_integer(held_kb));
}

static int
t_fail(struct drover_req *req, void *user)
{
	long long	code;
	int		rc;

	if ((rc = int_param(req, 400, 599, &code)) <= 0)
		return rc;
	return drover_req_error(req, (int)code, "drover.test.fail: status "
	    "%lld on purpose", code);
}

static void
test_child_exit(struct drover_svc *svc)
{
	struct held	*h;

	while ((h = held_list) != NULL) {
		held_list = h->next;
		free(h);
	}
	held_kb = 0;
}

static int
test_child_init(struct drover_svc *svc)
{
	const json_t	*v;

	v = json_object_get(drover_svc_settings(svc), "fail_child_init");
	if (json_is_true(v) || (json_is_integer(v) &&
	    json_integer_value(v) != 0) || (json_is_string(v) &&
	    strcmp(json_string_value(v), "0") != 0 &&
	    strcmp(json_string_value(v), "false") != 0)) {
		drover_log(DROVER_LOG_ERROR, "drover.test: child_init fails "
		    "on purpose (app_settings/fail_child_init)");
		return -1;
	}
	return 0;
}

static int
test_init(struct drover_svc *svc)
{
	static const struct {
		const char		*name;
		drover_method_fn	 fn;
		int			 argc;
		unsigned		 flags;
		const char		*notes;
	} m[] = {
		{ "drover.test.sleep", t_sleep, 1, 0,
		    "Sleeps the given seconds (fractional), answers them" },
		{ "drover.test.crash", t_crash, 0, 0,
		    "Kills the child with SIGSEGV" },
		{ "drover.test.exit", t_exit, 1, 0,
		    "Exits the child with the given code" },
		{ "drover.test.stream", t_stream, 1, DROVER_METHOD_STREAMING,
		    "Answers the integers 1 to n, one result each" },
		{ "drover.test.bytes", t_bytes, 1, 0,
		    "Answers one string of n bytes" },
		{ "drover.test.panic", t_panic, 0, 0,
		    "Answers, then the child exits" },
		{ "drover.test.hold", t_hold, 1, 0,
		    "Allocates and keeps the given KiB; answers the KiB held" },
		{ "drover.test.fail", t_fail, 1, 0,
		    "Ends with the given error status (400-599)" },
	};
	size_t	i;
	int	rc;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		rc = drover_register_method(svc, m[i].name, m[i].fn,
		    m[i].notes, m[i].argc, m[i].flags, NULL);
		if (rc < 0)
			return rc;
	}
	return 0;
}

DROVER_SERVICE("drover.test", test_init, test_child_init, test_child_exit);
