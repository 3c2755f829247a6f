/*
 * redis_conn.h: one non-blocking client connection to redis-server.
 *
 * The building block of the Redis bus (bus_redis.c) and of simple Redis
 * clients (droverctl, tests, benchmarks).  A struct rds_conn is one TCP
 * connection that logs in with AUTH <user> <pass> (Redis 6 ACL users,
 * opensrf-redis.md section 1) and then carries commands, each with a
 * completion callback.  Commands are pipelined: any number may be in
 * flight and their callbacks run in the order they were issued, as Redis
 * answers in order.  A process may hold several connections (a listener
 * blocked in BLPOP on one while it sends on another); they share
 * nothing.
 *
 * Driven from the owner's event loop; nothing blocks except name
 * resolution in rds_connect() (getaddrinfo(3): give an address or a name
 * in /etc/hosts) and the helpers rds_wait(), rds_open() and rds_call(),
 * whose names say so:
 *
 *	rds_new(&params, &c);
 *	rds_connect(c);				begins; never blocks on I/O
 *	loop:
 *		poll rds_fd(c) for rds_events(c) (EPOLLIN/EPOLLOUT, which
 *		equal POLLIN/POLLOUT), at most rds_timeout_ms(c, now) ms;
 *		readable, hang-up or error:	rds_handle_read(c);
 *		writable:			rds_handle_write(c);
 *		always:				rds_tick(c, mono_ms());
 *	params.on_event(arg, c, 0)		logged in: issue commands
 *	rds_command(c, done, arg, argc, argv, lens);
 *	done(arg, err, reply)			exactly once per command
 *	params.on_event(arg, c, -ENOTCONN)	lost, exactly once
 *
 * The descriptor changes with every rds_connect() (and between the
 * addresses of a name while connecting): read rds_fd() again before each
 * wait, as bus_watch() does.
 *
 * Why hiredis's reply parser (redisReader) under our own socket, and not
 * hiredis's async API with an event adapter: the socket is ours, so it is
 * born SOCK_CLOEXEC | SOCK_NONBLOCK with TCP_NODELAY and written with
 * send(MSG_NOSIGNAL) (hiredis 0.14 creates it without close-on-exec and
 * writes with write(2), which raises SIGPIPE when the server is gone);
 * and the life cycle is one small state machine whose every outcome is
 * an errno, with no rules borrowed from the library.  With the 0.14 async
 * API the owner must check ac->err right after redisAsyncConnect() (an
 * immediate failure is reported there, not through a callback); the
 * connect callback fires from the first write event, so the adapter's
 * hooks must be in place before redisAsyncSetConnectCallback(), and after
 * a failed connect or a lost connection hiredis frees the context itself
 * inside its own read/write handler, so the owner's pointer dangles
 * unless it tracks the disconnect callback; pending commands then see a
 * NULL reply, indistinguishable from other failures.  Here a connect
 * that cannot start is an error return, every later outcome is one
 * on_event() call, and the struct lives until rds_free().  The parser is
 * hiredis's (RESP2 only: hiredis 0.14 has no RESP3, and Redis speaks
 * RESP2 unless asked with HELLO 3); its replies are built with our own
 * object functions, so struct rds_reply below is ours and array sizes
 * are bounded (hiredis before 1.0.1 trusted the announced count:
 * CVE-2021-32765).
 *
 * States: DOWN (no socket), CONNECTING (TCP), AUTH (our AUTH in flight),
 * UP.  Commands are accepted only UP.  The connect deadline
 * (params.connect_timeout_ms) covers TCP and AUTH; an UP connection has
 * no timeouts (a BLPOP 0 may wait forever), so a silent server is found
 * by the owner's own deadlines.
 *
 * Events: on_event(arg, c, 0) once the login succeeded; on_event(arg, c,
 * err < 0) once when the connection ends without the owner asking:
 * -ENOTCONN if it had been UP (end of file, reset, protocol error), else
 * the attempt's failure: -ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH, ...,
 * -EACCES (AUTH refused: WRONGPASS), -EPROTO.  Before that event, the
 * callbacks of the commands still in flight run with -ENOTCONN.
 * rds_close() and rds_free() end a connection without an event; their
 * pending callbacks run with -ECANCELED.  rds_error() has one line on the
 * last failure, with the server's text where there was one.
 *
 * Command results: done(arg, err, r).  err 0: r is the reply (any type
 * but RDS_ERROR).  A Redis error reply: r is it (type RDS_ERROR, the
 * server's text in r->str) and err is mapped from its first word
 * (rds_error_errno()): NOPERM, WRONGPASS, NOAUTH -> -EACCES; LOADING,
 * BUSY, TRYAGAIN, MASTERDOWN -> -EAGAIN; anything else -EPROTO.
 * -ENOTCONN / -ECANCELED: r is NULL.  When rds_command() returns an
 * error, done is never called.
 *
 * Callbacks run only from rds_handle_read(), rds_handle_write(),
 * rds_tick(), rds_close() and the blocking helpers, never from
 * rds_command() or rds_connect().  Inside a callback the owner may issue
 * commands (on this or another connection), rds_close(), rds_connect()
 * after the connection went down, even rds_free() (the memory is
 * released when the outermost call returns).
 *
 * Callers: any process; not thread-safe; never in signal context.  A
 * child after fork() must not use its parent's connections: it calls
 * rds_forget() on them.
 *
 * Ownership: rds_new() copies the strings of params (the password is
 * cleared with explicit_bzero() when freed).  rds_command() copies its
 * arguments.  A reply belongs to the connection and is freed when the
 * callback returns; rds_reply_take() moves a string out of it (the
 * usual way to keep a popped message without a copy).  rds_call()'s
 * reply belongs to the caller (rds_reply_free()).
 *
 * Errors: 0, a count, or a negative errno; rds_ never logs (the owner
 * logs once, with rds_error() or the reply's text).
 */
#ifndef DROVER_REDIS_CONN_H
#define DROVER_REDIS_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Default deadline of connect + AUTH, like bus_conf's. */
#define RDS_CONNECT_TIMEOUT_MS	10000
/* Most arguments rds_commandl()/rds_calll() take. */
#define RDS_MAX_ARGS		16
/*
 * Most elements of one reply array: bounds what a broken server can
 * make us allocate (128 MiB of pointers).  drover's largest arrays are
 * BLPOP's 2 and SCAN's COUNT.
 */
#define RDS_MAX_ELEMENTS	(16u * 1024 * 1024)

enum rds_state {
	RDS_DOWN = 0,
	RDS_CONNECTING,		/* TCP connect under way */
	RDS_AUTH,		/* AUTH sent, answer awaited */
	RDS_UP,
};

enum rds_type {
	RDS_NIL = 1,		/* nil bulk or nil array (LPOP on empty,
				   BLPOP timed out) */
	RDS_STATUS,		/* +OK */
	RDS_ERROR,		/* -ERR ... */
	RDS_INTEGER,
	RDS_STRING,		/* bulk string */
	RDS_ARRAY,
};

/* A reply, RESP2 as it came. */
struct rds_reply {
	enum rds_type	  type;
	long long	  integer;	/* RDS_INTEGER */
	char		 *str;		/* STATUS, ERROR, STRING: malloc'd,
					   NUL-terminated (the value may
					   hold NULs too: use len) */
	size_t		  len;
	size_t		  n;		/* ARRAY: elements */
	struct rds_reply **elem;
};

struct rds_conn;

/* See "Events" above. */
typedef void rds_event_fn(void *arg, struct rds_conn *c, int err);
/* See "Command results" above. */
typedef void rds_reply_fn(void *arg, int err, struct rds_reply *r);

struct rds_params {
	const char	*host;		/* name or address */
	int		 port;		/* 1-65535 */
	const char	*user;		/* ACL user; NULL: AUTH <pass> alone,
					   or no AUTH without pass */
	const char	*pass;
	int		 connect_timeout_ms; /* <= 0: RDS_CONNECT_TIMEOUT_MS */
	rds_event_fn	*on_event;	/* may be NULL */
	void		*arg;		/* for on_event */
};

/* ------------------------------------------------------------ life */

/* A connection in state DOWN.  -EINVAL (no host, bad port, user
 * without password), -ENOMEM. */
int	rds_new(const struct rds_params *, struct rds_conn **out) MUST_CHECK;
/* Close (pending: -ECANCELED) and free; *cp = NULL; NULL is a no-op. */
void	rds_free(struct rds_conn **cp);
/* In a child after fork(): close this process's copy of the socket and
 * free, without a byte to the server and without callbacks. */
void	rds_forget(struct rds_conn **cp);

/*
 * Begin to connect (state DOWN only).  0: under way, on_event() will
 * tell.  Or, with no event to follow: -EISCONN (not DOWN), -EHOSTUNREACH
 * (name not resolved), -ECONNREFUSED etc. (every address refused at
 * once), -ENOMEM.
 */
int	rds_connect(struct rds_conn *) MUST_CHECK;
/* Back to DOWN without an event; pending callbacks get -ECANCELED. */
void	rds_close(struct rds_conn *);

enum rds_state rds_state(const struct rds_conn *);
/* One line on the last failure ("" if none). */
const char *rds_error(const struct rds_conn *);
/* Commands issued and not yet completed. */
size_t	rds_pending(const struct rds_conn *);

/* ------------------------------------------------------------ loop */

/* The socket, -1 when DOWN. */
int	rds_fd(const struct rds_conn *);
/* EPOLLIN while connected, EPOLLOUT while connecting or while output
 * waits; 0 when DOWN. */
uint32_t rds_events(const struct rds_conn *);
/* Milliseconds until the connect deadline, -1 if none. */
int	rds_timeout_ms(const struct rds_conn *, uint64_t now_ms);
/* On readability, hang-up or error: read and run the callbacks. */
void	rds_handle_read(struct rds_conn *);
/* On writability: finish a connect, or write queued commands. */
void	rds_handle_write(struct rds_conn *);
/* Fail a connect or login whose deadline has passed. */
void	rds_tick(struct rds_conn *, uint64_t now_ms);

/* ------------------------------------------------------- commands */

/*
 * Queue one command (argv[0] is its name; argvlen NULL: strlen of each)
 * and write what the socket takes now.  fn may be NULL (the reply is
 * dropped).  0; -ENOTCONN unless UP; -EINVAL (argc < 1); -ENOMEM.
 */
int	rds_command(struct rds_conn *, rds_reply_fn *fn, void *arg,
	    int argc, const char *const argv[], const size_t argvlen[])
	    MUST_CHECK;
/*
 * Batching: while corked, rds_command() only queues and rds_events()
 * asks for no EPOLLOUT; rds_cork(c, 0) writes everything queued at once
 * (one send(2) for a burst of commands).  A send error is kept as
 * rds_command() keeps it: reported by the next rds_handle_write().
 */
void	rds_cork(struct rds_conn *, int on);
/* The same with C strings, NULL-terminated: ("RPUSH", key, v, NULL). */
int	rds_commandl(struct rds_conn *, rds_reply_fn *fn, void *arg, ...)
	    MUST_CHECK __attribute__((sentinel));

/* Map a Redis error text to an errno (see "Command results"). */
int	rds_error_errno(const char *text);

/* Move r->str out of r (the caller free()s it; r->str becomes NULL). */
char	*rds_reply_take(struct rds_reply *r, size_t *lenp);
void	rds_reply_free(struct rds_reply **rp);

/* ------------------------------------------------------- blocking */

/*
 * Blocking: poll the connection once for up to timeout_ms (-1: no
 * limit; never past the connect deadline), then handle what came, as the
 * loop above does.  1 if it handled events, 0 on timeout, -ENOTCONN when
 * DOWN, -errno of poll().
 */
int	rds_wait(struct rds_conn *, int timeout_ms) MUST_CHECK;
/* Blocking: rds_connect() and wait until UP: 0, or what on_event got. */
int	rds_open(struct rds_conn *) MUST_CHECK;
/*
 * Blocking: one command and its reply within timeout_ms.  Returns what
 * done() would get as err, or -ETIMEDOUT (the late reply is dropped);
 * *out is the reply when there is one (an error reply too), else NULL:
 * rds_reply_free() it.
 */
int	rds_call(struct rds_conn *, int timeout_ms, struct rds_reply **out,
	    int argc, const char *const argv[], const size_t argvlen[])
	    MUST_CHECK;
int	rds_calll(struct rds_conn *, int timeout_ms, struct rds_reply **out,
	    ...) MUST_CHECK __attribute__((sentinel));

#endif /* DROVER_REDIS_CONN_H */
