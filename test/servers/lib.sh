# lib.sh: helpers shared by the private test-server scripts (sourced).
#
# Every server runs in its own session (setsid), so its process group id
# is its pid and `th_stop_group` can take down everything it started
# (beam.smp, erl_child_setup, ...) without touching anything else.
# State lives in the instance directory given to each script:
#   DIR/env      shell assignments (ports, pid, paths), sourced by users
#   DIR/pid      the process group leader
#   DIR/*.log    the server's own logs, shown when it fails

th_die() {
	echo "test/servers: $*" >&2
	exit 1
}

# th_need PROG: fail loudly when a server binary is missing; never skip.
th_need() {
	command -v "$1" >/dev/null 2>&1 ||
	    th_die "$1 not found: run test/deps (as root) to install it"
}

# th_port_free PORT: nothing listens on PORT on this machine.
th_port_free() {
	[ -z "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]
}

# th_port_span: "FIRST COUNT" of the ports to pick servers' ports from:
# below the kernel's ephemeral range (ip_local_port_range), or above it
# when it starts too low.  Never inside it: there the kernel hands the
# port to outgoing connections (thousands a second under load) and a
# client that connects to its own server's port while the server is down
# can even get that very port as its source and connect to itself; the
# server restarted on that port then fails with EADDRINUSE.
th_port_span() {
	local lo=32768 hi=60999
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	if [ "$lo" -gt 12000 ]; then
		echo "10000 $(( lo - 10000 ))"
	elif [ "$hi" -lt 63000 ]; then
		echo "$(( hi + 1 )) $(( 65535 - hi ))"
	else
		echo "20000 40000"	# no room outside: as before
	fi
}

# th_free_port: print an unused TCP port outside the ephemeral range
# (th_port_span).  Racy by nature; a server that then fails to bind fails
# its readiness check loudly, with its log.
th_free_port() {
	local p i first count
	read -r first count <<<"$(th_port_span)"
	for i in $(seq 1 200); do
		p=$(( first + (RANDOM * 32768 + RANDOM) % count ))
		if th_port_free "$p"; then
			echo "$p"
			return 0
		fi
	done
	th_die "no free TCP port found"
}

# th_alive PID: the process exists and is not a zombie.
th_alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	case "$st" in Z*) return 1 ;; esac
	return 0
}

# th_log_tail DIR: the last lines of every log in DIR, for failures.
th_log_tail() {
	local f
	for f in "$1"/*.log; do
		[ -s "$f" ] || continue
		echo "---- $f (last 40 lines)" >&2
		tail -n 40 "$f" >&2
	done
}

# th_port_accepts PORT: a TCP connect to 127.0.0.1:PORT succeeds.
th_port_accepts() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# th_legacy_login PORT DOMAIN USER PASSWORD: one XEP-0078 plain-text
# login; succeeds when the server answers type='result'.  Used as the
# readiness check: a port that accepts is not yet a server that
# authenticates.
th_legacy_login() {
	local port=$1 domain=$2 user=$3 pass=$4 buf="" chunk
	{ exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
	printf "%s" "<stream:stream to='$domain' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><iq id='ready1' type='set'><query xmlns='jabber:iq:auth'><username>$user</username><password>$pass</password><resource>ready_$$</resource></query></iq>" >&3 || { exec 3>&-; return 1; }
	while IFS= read -r -t 5 -d '>' chunk <&3; do
		buf="$buf$chunk>"
		case "$buf" in
		*"id='ready1'"*"type='result'"*|*"type='result'"*"id='ready1'"*)
			printf '</stream:stream>' >&3 2>/dev/null
			exec 3>&-
			return 0 ;;
		*"type='error'"*|*"</stream:stream>"*|*"stream:error"*)
			break ;;
		esac
	done
	exec 3>&-
	return 1
}

# th_wait DEADLINE_S PID CMD...: run CMD until it succeeds; fail when the
# deadline passes or PID dies first.
th_wait() {
	local deadline=$(( $(date +%s) + $1 )) pid=$2
	shift 2
	while :; do
		"$@" && return 0
		th_alive "$pid" || return 2
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# th_stop_group DIR: SIGTERM the group in DIR/pid, wait up to 10 s, then
# SIGKILL; remove DIR/pid.  Quiet and successful when nothing runs.
th_stop_group() {
	local dir=$1 pid i
	[ -f "$dir/pid" ] || return 0
	pid=$(cat "$dir/pid")
	[ -n "$pid" ] || { rm -f "$dir/pid"; return 0; }
	kill -TERM -- "-$pid" 2>/dev/null || true
	for i in $(seq 1 100); do
		kill -0 -- "-$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 -- "-$pid" 2>/dev/null; then
		echo "test/servers: group $pid ignored SIGTERM; SIGKILL" >&2
		kill -KILL -- "-$pid" 2>/dev/null || true
		for i in $(seq 1 50); do
			kill -0 -- "-$pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	rm -f "$dir/pid"
}

# th_start_group DIR LOG CMD...: start CMD in a new session, its output
# appended to LOG; write the leader's pid to DIR/pid and print it.
th_start_group() {
	local dir=$1 log=$2
	shift 2
	setsid "$@" </dev/null >>"$log" 2>&1 &
	echo $! > "$dir/pid"
	echo $!
}
