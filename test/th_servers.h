/*
 * th_servers.h: private ejabberd, prosody, memcached and redis-server for
 * integration tests.
 *
 * A test case that needs a server adds the matching unchecked fixture
 * to its TCase (tagged "integration"):
 *
 *	tcase_set_tags(tc, "integration");
 *	tcase_add_unchecked_fixture(tc, th_ejabberd_setup, NULL);
 *
 * and its tests read the port from th_server(TH_EJABBERD).  Unchecked
 * fixtures run in the Check runner process (not in the per-test fork),
 * so each server is started at most once per run of the test binary and
 * shared by every TCase and suite that asks for it; it is stopped when
 * that process exits (atexit), and, should the process die without
 * exiting, by a watcher that sees the end of file on a pipe only this
 * process holds.  Nothing is left running either way.
 *
 * The servers are started by the scripts in test/servers/ (see the
 * README there) with a generated config, on 127.0.0.1, on free ports,
 * with data in a fresh directory under $TMPDIR.  Accounts: opensrf and
 * router on private.localhost and public.localhost, password = user
 * name followed by "pw" (TH_OPENSRF_PW, TH_ROUTER_PW).
 *
 * Redis comes twice.  TH_REDIS loads drover's accounts file
 * (conf/redis-accounts.txt); TH_REDIS_OSRF loads OpenSRF main's own file
 * exactly as captured (test/data/captures-redis/00-redis-accounts.txt),
 * for the tests that prove drover works on an unmodified OpenSRF
 * install.  Both have the ACL users opensrf, router and gateway
 * (TH_GATEWAY_PW); tests never log in as the default user, whose
 * password only the script knows.  DIR/acl-list.txt holds the server's
 * ACL LIST as loaded.
 *
 * Servers started outside the binary (by hand, for debugging) are used
 * instead when DROVER_TEST_<NAME>_DIR names their instance directory
 * (e.g. DROVER_TEST_EJABBERD_DIR); those are never stopped here.
 *
 * A server that cannot start (binary missing, not ready by the deadline,
 * died) fails the fixture with the reason and the server's log tail on
 * stderr: Check then reports the whole TCase as failed.  Nothing is
 * skipped.
 *
 * Tests that stop or restart a server (reconnect tests) run in the
 * per-test child; the instance state lives in files in its directory,
 * so the runner process still stops the right process at exit.
 */
#ifndef DROVER_TH_SERVERS_H
#define DROVER_TH_SERVERS_H

#include <limits.h>
#include <sys/types.h>

#define TH_DOMAIN_PRIVATE	"private.localhost"
#define TH_DOMAIN_PUBLIC	"public.localhost"
#define TH_OPENSRF_PW		"opensrfpw"
#define TH_ROUTER_PW		"routerpw"
#define TH_GATEWAY_PW		"gatewaypw"

enum th_server_kind {
	TH_EJABBERD,
	TH_PROSODY,
	TH_MEMCACHED,
	TH_REDIS,		/* drover's accounts */
	TH_REDIS_OSRF,		/* OpenSRF main's accounts, unmodified */
	TH_NSERVERS
};

struct th_server {
	int	 started;		/* 1 once running (or adopted) */
	int	 owned;		/* 1: this binary started it */
	int	 port;			/* client port on 127.0.0.1 */
	char	 dir[PATH_MAX];		/* instance directory */
	char	 cafile[PATH_MAX];	/* its self-signed cert, or "" */
};

/*
 * Start the server if this process has not yet (or adopt an external
 * one); fails the current test/fixture through ck_abort_msg() when it
 * cannot.  A server this binary started that is found down (a test
 * stopped it and failed before starting it again) is restarted in place,
 * with a line on stderr, so that one failed test does not fail every
 * TCase after it.  The returned struct lives until exit.
 */
const struct th_server *th_server_get(enum th_server_kind);

/* The server as last started; the caller must have called get(). */
const struct th_server *th_server(enum th_server_kind);

/*
 * Stop, start and restart a running server in place (same ports, users
 * and data), for tests of lost connections.  0, or -1 after printing why.
 */
int	th_server_stop(enum th_server_kind);
int	th_server_start_again(enum th_server_kind);
int	th_server_restart(enum th_server_kind);

/* Register one more account (ejabberd and prosody); 0 or -1. */
int	th_server_adduser(enum th_server_kind, const char *user,
	    const char *host, const char *password);

/* Unchecked fixtures for tcase_add_unchecked_fixture(). */
void	th_ejabberd_setup(void);
void	th_prosody_setup(void);
void	th_memcached_setup(void);
void	th_redis_setup(void);
void	th_redis_osrf_setup(void);

#endif /* DROVER_TH_SERVERS_H */
