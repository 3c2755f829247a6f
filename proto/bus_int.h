/*
 * bus_int.h: what bus.c and the backends (bus_xmpp.c, bus_local.c,
 * bus_redis.c) share; not for other modules (tests may look).
 *
 * bus.c owns what every bus does alike: the copy of the parameters, the
 * state (down, connecting, up), the connect deadline, reconnecting with
 * bus_backoff_ms(), the registration intent and its per-router back-off,
 * the epoll bookkeeping of bus_watch(), the blocking helpers and the
 * rescue answer.  A backend fills a struct bus_ops and keeps its own
 * state in bus->impl; it never changes bus->state itself but reports
 * through the bus_*() calls below, so that every transition is logged
 * once, in bus.c.
 *
 * Backend rules:
 *   connect()/step() return 0 when up, -EINPROGRESS while waiting for
 *	I/O, or a negative errno (with bus_fail() text) on failure; they
 *	never block (the local bus is instant; XMPP until its resumable
 *	login lands, see bus_xmpp.c).
 *   recv() returns 1 with a frame, 0 when nothing waits, or a negative
 *	errno when the connection is gone; bus.c then calls drop().
 *   send() encodes and writes or queues; -ENOTCONN when the connection
 *	died (bus.c then calls drop()).
 *   drop() closes the connection without logging out and without
 *	touching bus->state; destroy(b, 1) logs out and frees, destroy(b,
 *	0) is the after-fork variant that never talks to the server.
 */
#ifndef DROVER_BUS_INT_H
#define DROVER_BUS_INT_H

#include <stdint.h>

#include "bus.h"
#include "pbuf.h"

/* Length of the reason kept for bus_error(). */
#define BUS_ERR_LEN	256

struct bus_ops {
	const char	*name;
	int		(*init)(struct bus *);
	void		(*destroy)(struct bus *, int logout);
	int		(*connect)(struct bus *);
	int		(*step)(struct bus *);
	void		(*drop)(struct bus *);
	int		(*fd)(const struct bus *);
	uint32_t	(*events)(const struct bus *);
	/* Write queued bytes: 0 none left, -EAGAIN some left, -errno. */
	int		(*flush)(struct bus *);
	int		(*recv)(struct bus *, struct bus_frame **);
	int		(*decode)(const struct bus *, const char *, size_t,
			    struct tmsg *, struct proto_err *);
	int		(*send)(struct bus *, const char *dest,
			    const struct tmsg *);
	const char	*(*addr)(const struct bus *);
	int		(*service_addr)(const struct bus *, const char *,
			    char *, size_t);
	/* Registration with one router; NULL: this bus has no routers. */
	int		(*reg_send)(struct bus *, const struct reg_target *,
			    int on);
	/* Optional (NULL: nothing to do). */
	/* Hold sends (1) or write what was held (0): 0 or -errno. */
	int		(*cork)(struct bus *, int on);
	int		(*timeout_ms)(const struct bus *, uint64_t now_ms);
	void		(*tick)(struct bus *);
	void		(*take)(struct bus *, unsigned);
	void		(*set_queue_max)(struct bus *, unsigned);
	int		(*queue_info)(const struct bus *,
			    struct bus_queue_info *);
	void		(*reaped)(struct bus *, pid_t, const char *);
	int		(*ping)(struct bus *, const char *to, uint32_t id);
	int		(*more)(const struct bus *);	/* bus_more() */
	/* Log out now, handing late messages over (bus_free_late()). */
	void		(*logout)(struct bus *, bus_late_fn *, void *);
};

/* The id attribute a bus_ping() carries: this, then the number. */
#define BUS_PING_ID	"drover-ping-"

/* Per router target: the back-off of its bounced registrations. */
struct bus_reg {
	unsigned	 bounces;	/* in a row since the last round */
	uint64_t	 due_ms;	/* mono: send again; 0 none */
};

struct bus {
	const struct bus_ops	*ops;
	void			*impl;
	/* the parameters, deep-copied (strings owned) */
	struct bus_params	 p;
	struct bus_conf		 conf;
	struct reg_target	*routers;
	struct bus_reg		*reg;		/* one per router */
	enum bus_state		 state;
	unsigned		 attempt;	/* failures since last up */
	uint64_t		 retry_ms;	/* mono: next attempt; 0 none */
	uint64_t		 deadline_ms;	/* mono: give up connecting */
	int			 want_reg;	/* 1 after bus_register(b, 1) */
	uint64_t		 refresh_ms;	/* mono: tell the routers again
						   (bus.c); 0 none */
	unsigned		 ev;		/* BUS_EV_* for bus_run() */
	int			 last_rc;	/* why the last attempt failed */
	int			 watch_epfd;	/* bus_watch() bookkeeping */
	int			 watch_fd;
	uint32_t		 watch_events;
	uint64_t		 watch_tag;
	uint32_t		 rnd;		/* jitter */
	struct pbuf		 scratch;	/* encode buffer for backends */
	char			 up_addr[BUS_ADDR_MAX]; /* as last up, for
						   logs after a loss */
	char			 err[BUS_ERR_LEN];
};

extern const struct bus_ops bus_xmpp_ops;
extern const struct bus_ops bus_local_ops;
extern const struct bus_ops bus_redis_ops;

/*
 * bus_new() with a given backend (bus_new() picks one by params->kind):
 * for tests that bring their own (test/th_fakebus.c).
 */
int	bus_new_ops(const struct bus_ops *, const struct bus_params *,
	    struct bus **out) MUST_CHECK;

/* Record why something failed for bus_error(); returns rc. */
int	bus_fail(struct bus *, int rc, const char *fmt, ...) PRINTF(3, 4);
/*
 * A registration sent to routers[i] came back undelivered (XMPP: the
 * router was not online): send it again to that router alone after a
 * growing delay, while registration is wanted.
 */
void	bus_reg_bounced(struct bus *, size_t i);
/* A frame owning raw (len bytes, NUL-terminated); NULL on ENOMEM, raw
 * then freed too. */
struct bus_frame *bus_frame_wrap(char *raw, size_t len, unsigned flags);
/*
 * Fill a frame's sender and BUS_F_CONNECT from its bytes without
 * decoding it (a scan of the start tag and <opensrf/>, or of the
 * envelope's "from"), for XML (XMPP, local) and JSON (Redis) frames.
 */
void	bus_frame_peek_xml(struct bus_frame *);
void	bus_frame_peek_json(struct bus_frame *);
/* A pseudo-random 32-bit number for jitter and tokens. */
uint32_t bus_rand(struct bus *);

/* ------------------------------------- the local bus, for its tests */

/* Biggest local frame accepted; above the 10 MiB default stanza size. */
#define LOCALBUS_MAX_FRAME	(64u * 1024 * 1024)
/*
 * The socket file for jid in dir ("/" in the JID becomes "+"; a name too
 * long for sun_path is "h-" and a 64-bit FNV-1a hash).  Its length or
 * -ENAMETOOLONG.
 */
int	localbus_path(const char *dir, const char *jid, char *buf,
	    size_t bufsz) MUST_CHECK;
/* The `to` attribute of the first element; its length or -EINVAL. */
int	localbus_dest(const char *xml, size_t len, char *buf, size_t bufsz)
	    MUST_CHECK;
/* Send bytes as they are (tests of framing, bounces, non-messages). */
int	localbus_send_raw(struct bus *, const char *xml, size_t len)
	    MUST_CHECK;

#endif /* DROVER_BUS_INT_H */
