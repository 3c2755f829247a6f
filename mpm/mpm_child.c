/*
 * mpm_child.c: a child ("drone") from fork to exit.
 *
 * Right after fork: default signal dispositions and an empty mask (SIGPIPE
 * stays ignored: sockets use MSG_NOSIGNAL and a closed pipe is an error
 * return), every other slot's descriptors and the parent's own (epoll,
 * signalfd, bus) closed, then the child's own bus endpoint opened and the
 * worker's child_init run.  Then it reads frames from its data pipe: a
 * REQ is handed to the worker, a RETIRE (or end of file: the parent is
 * gone) ends the child normally through the worker's child_exit.  After
 * each request it writes a done record; after its last (max_requests with
 * jitter, or the worker asked to exit) it says EXITING and exits.
 *
 * Exit codes (mpm.h): OK normally; SICK when the bus cannot be opened or
 * a request fails hard; FATAL when child_init fails (the parent stops
 * respawning).  The scoreboard slot is this child's to write until exit.
 */
#include "mpm_int.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "mpm_frame.h"
#include "scoreboard/sb.h"
#include "transport.h"
#include "mpm/worker.h"

/* How long a child may take to log in to the bus. */
#define MPM_CHILD_OPEN_MS	10000

static void
child_signals(void)
{
	struct sigaction	sa;
	sigset_t		none;
	int			sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || sig == SIGPIPE)
			continue;
		(void)sigaction(sig, &sa, NULL);	/* EINVAL: not a real
							   signal number */
	}
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);	/* cannot fail */
}

static void
close_inherited(struct mpm *m, int idx)
{
	int	i;

	for (i = 0; i < MPM_MAX_SLOTS; i++) {
		if (i == idx)
			continue;
		fd_close(&m->kids[i].data_w);
		fd_close(&m->kids[i].done_r);
	}
	fd_close(&m->epfd);
	fd_close(&m->sigfd);
	if (m->bus != NULL)
		m->conf->source->forget(m->conf->source->arg, &m->bus);
}

static void
log_slow(struct mpm *m, struct sb_slot *slot, uint64_t ms)
{
	int	limit = m->conf->svc->slow_request_ms;

	if (limit <= 0 || ms < (uint64_t)limit)
		return;
	/* our own slot: we are its only writer, no seqlock needed */
	log_warnx("slow request: method \"%.*s\" xid \"%.*s\" client \"%.*s\" "
	    "took %llu ms (slow_request_ms %d)",
	    SB_METHOD_LEN, slot->method, SB_XID_LEN, slot->xid,
	    SB_CLIENT_LEN, slot->client, (unsigned long long)ms, limit);
}

void
mpm_child_main(struct mpm *m, int idx, int data_r, int done_w)
{
	const struct worker_ops	*w = m->conf->worker;
	const char		*svc = m->conf->service;
	struct worker_env	 env;
	struct sb_slot		*slot = sb_slot(m->sb, idx);
	struct transport	*bus;
	char			*buf = NULL;
	size_t			 cap = 0, len;
	uint32_t		 kind, served = 0;
	uint64_t		 t0;
	int			 rc, code = MPM_EXIT_OK, limit, last;

	child_signals();
	log_after_fork(NULL);
	close_inherited(m, idx);
	sb_slot_child_start(slot, getpid());
	mpm_title_set("drover drone [%s] starting", svc);
	limit = m->kids[idx].limit;

	bus = m->conf->source->drone(m->conf->source->arg, idx);
	if ((rc = transport_open(bus, MPM_CHILD_OPEN_MS)) < 0) {
		log_errx("child slot %d: cannot open its bus connection: %s",
		    idx, strerror(-rc));
		transport_free(&bus);
		exit(MPM_EXIT_SICK);
	}
	memset(&env, 0, sizeof(env));
	env.core = m->conf->core;
	env.svc = m->conf->svc;
	env.bus = bus;
	env.slot = slot;
	env.slot_index = idx;
	env.generation = m->generation;
	if (w->child_init != NULL && (rc = w->child_init(w->arg, &env)) < 0) {
		log_errx("child slot %d: child_init failed: %s", idx,
		    strerror(-rc));
		transport_free(&bus);
		exit(MPM_EXIT_FATAL);
	}
	sb_slot_set_state(slot, SB_IDLE);
	mpm_title_set("drover drone [%s] idle", svc);
	if (mpm_done_send(done_w, MPM_DONE_READY, 0) < 0)
		goto out;	/* the parent is gone */

	for (;;) {
		rc = mpm_frame_recv(data_r, &kind, &buf, &cap, &len,
		    m->conf->svc->max_request_size);
		if (rc == -EPIPE)
			break;		/* parent gone: exit quietly */
		if (rc < 0) {
			log_errx("child slot %d: data pipe: %s", idx,
			    strerror(-rc));
			code = MPM_EXIT_SICK;
			break;
		}
		if (kind == MPM_FRAME_RETIRE)
			break;
		mpm_title_set("drover drone [%s] busy", svc);
		t0 = mono_us();
		rc = w->handle(w->arg, &env, buf, len);
		served++;
		log_set_xid(NULL);
		log_slow(m, slot, (mono_us() - t0) / 1000);
		if (rc < 0) {
			log_errx("child slot %d: request failed hard: %s; "
			    "exiting", idx, strerror(-rc));
			code = MPM_EXIT_SICK;
		}
		last = rc != WORKER_OK ||
		    (limit > 0 && served >= (uint32_t)limit);
		sb_slot_set_state(slot, last ? SB_EXITING : SB_IDLE);
		if (mpm_done_send(done_w, last ? MPM_DONE_EXITING :
		    MPM_DONE_IDLE, served) < 0 || last)
			break;
		mpm_title_set("drover drone [%s] idle", svc);
	}
out:
	sb_slot_set_state(slot, SB_EXITING);
	mpm_title_set("drover drone [%s] exiting", svc);
	if (w->child_exit != NULL)
		w->child_exit(w->arg, &env);
	free(buf);
	transport_free(&bus);
	close(data_r);
	close(done_w);
	exit(code);
}
