# drover: GNU make build.
#
# Layout of the build:
#   build/          objects, dependency files, the core archive and tests
#   bin/            the programs (droverd, drover-router, drover-status, ...)
#   lib/            the service plugins, one lib/<service>.so per services/<service>/
#
# Sources are found by wildcard so a new module needs no Makefile edit:
#   common/ scoreboard/ proto/ mpm/ services/runtime/ -> build/libdrover.a
#   <dir>/<program>_main.c holds a program's main() (droverd_main.c is
#   droverd's) and stays out of the archive
#   services/plugins/<name>/*.c                    -> lib/<name>.so
#   test/test_*.c (+ test/th_*.c helpers)         -> build/test/drover-tests
#   test/bench_*.c                                -> build/bench/<name>
#   test/fuzz_*.c                                 -> build/fuzz/<name> (clang)
#
# Knobs: DEVELOPER=1 adds -Werror and stricter warnings (CI sets it);
# BENCH_E2E=0 keeps `make bench` to the micro-benchmarks;
# SANITIZE=address,undefined builds everything with those sanitizers;
# PREFIX, DESTDIR, CC, CFLAGS, LDFLAGS, PKG_CONFIG as usual;
# LOGROTATEDIR where the logrotate file goes (/etc/logrotate.d is the
# one logrotate reads: set it when PREFIX is not /usr).

VERSION    := 0.1.0
PKG_CONFIG ?= pkg-config
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
LIBDIR     ?= $(PREFIX)/lib
PLUGINDIR  ?= $(LIBDIR)/drover
INCLUDEDIR ?= $(PREFIX)/include
DATADIR    ?= $(PREFIX)/share
MANDIR     ?= $(DATADIR)/man
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR    ?= $(LIBDIR)/systemd/system
LOGROTATEDIR ?= $(SYSCONFDIR)/logrotate.d
CFLAGS     ?= -O2 -g

PKGS := libxml-2.0 jansson libmemcached libssl libcrypto hiredis
# Recursive on purpose: pkg-config runs only when a rule needs it, so
# `make check` on a fresh machine can install the packages first.
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS))
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check)
CHECK_LIBS   = $(shell $(PKG_CONFIG) --libs check)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wformat=2 -Wno-unused-parameter
ifeq ($(DEVELOPER),1)
WARN += -Werror -Wcast-align -Wundef -Wvla -Wnull-dereference
endif
ifneq ($(SANITIZE),)
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
endif

DEFS := -D_GNU_SOURCE -DDROVER_VERSION='"$(VERSION)"' \
	-DDROVER_PLUGINDIR='"$(PLUGINDIR)"' -DDROVER_SYSCONFDIR='"$(SYSCONFDIR)"'
ALL_CFLAGS = -std=gnu11 $(WARN) $(DEFS) -Icommon -Iinclude -I. \
	$(PKG_CFLAGS) $(SAN_FLAGS) $(CFLAGS) -MMD -MP
ALL_LDFLAGS = $(SAN_FLAGS) $(LDFLAGS)
LIBS = $(PKG_LIBS) -ldl -lm

B := build
# V=1 shows the full compiler command lines.
Q := $(if $(filter 1,$(V)),,@)

# ---------------------------------------------------------------- sources
CORE_SRCS := $(filter-out %_main.c,$(wildcard common/*.c scoreboard/*.c \
	proto/*.c mpm/*.c services/runtime/*.c))
CORE_OBJS := $(CORE_SRCS:%.c=$(B)/%.o)

# program name : file with its main()
PROG_MAP := droverd:mpm/droverd_main.c \
	droverctl:mpm/droverctl_main.c \
	drover-status:scoreboard/drover_status_main.c \
	drover-router:proto/drover_router_main.c \
	drover-call:services/drover_call_main.c
PROG_MAP := $(foreach p,$(PROG_MAP),$(if $(wildcard $(word 2,$(subst :, ,$(p)))),$(p)))
PROGS := $(foreach p,$(PROG_MAP),bin/$(word 1,$(subst :, ,$(p))))

PLUGIN_NAMES := $(patsubst services/plugins/%/,%,$(sort $(dir $(wildcard \
	services/plugins/*/*.c))))
PLUGINS := $(PLUGIN_NAMES:%=lib/%.so)

TEST_SRCS := $(wildcard test/test_*.c)
TEST_HELPERS := $(wildcard test/th_*.c)
TEST_OBJS := $(TEST_SRCS:%.c=$(B)/%.o) $(TEST_HELPERS:%.c=$(B)/%.o) \
	$(B)/test/check_main.o
BENCH_SRCS := $(wildcard test/bench_*.c)
BENCHES := $(BENCH_SRCS:test/%.c=$(B)/bench/%)
FUZZ_SRCS := $(wildcard test/fuzz_*.c)

MAN_PAGES := $(wildcard man/*.[1-8])

.DELETE_ON_ERROR:
.PHONY: all check check-layers unit integration bench bench-e2e fuzz \
	install uninstall clean lint-man deps tests demo soak chaos FORCE

all: $(PROGS) $(PLUGINS)

# Rebuild everything when the flags change (e.g. SANITIZE on or off).
$(B)/.flags: FORCE
	@mkdir -p $(B)
	@echo '$(ALL_CFLAGS) $(ALL_LDFLAGS)' | cmp -s - $@ || \
		echo '$(ALL_CFLAGS) $(ALL_LDFLAGS)' > $@

$(B)/%.o: %.c $(B)/.flags
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Plugin objects: position independent, hidden by default.
$(B)/services/%.pic.o: services/%.c $(B)/.flags
	@mkdir -p $(@D)
	@echo "  CC      $< (plugin)"
	$(Q)$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

$(B)/libdrover.a: $(CORE_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

# Programs export the installed drover_* API to the plugins they load.
bin/%: $(B)/libdrover.a
	@mkdir -p bin
	$(CC) $(ALL_LDFLAGS) -Wl,--dynamic-list=include/drover/exports.list \
		-o $@ $(filter %.o,$^) $(B)/libdrover.a $(LIBS)

define prog_rule
bin/$(1): $(B)/$(2:.c=.o)
endef
$(foreach p,$(PROG_MAP),$(eval $(call prog_rule,$(word 1,$(subst :, ,$(p))),$(word 2,$(subst :, ,$(p))))))

define plugin_rule
lib/$(1).so: $(patsubst %.c,$(B)/%.pic.o,$(wildcard services/plugins/$(1)/*.c))
	@mkdir -p lib
	$$(CC) $$(ALL_LDFLAGS) -shared -o $$@ $$^ $$(PKG_LIBS)
endef
$(foreach n,$(PLUGIN_NAMES),$(eval $(call plugin_rule,$(n))))

# ------------------------------------------------------------------ tests
# Every Check suite is found by its constructor; the runner includes the
# generated list.  A START_TEST never added to a TCase fails the build.
$(B)/test/suites.inc: $(TEST_SRCS) test/list-suites
	@mkdir -p $(@D)
	test/list-suites $(TEST_SRCS) > $@

$(B)/test/check_main.o: test/check_main.c $(B)/test/suites.inc $(B)/.flags
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -I$(B)/test -c -o $@ $<

$(B)/test/%.o: test/%.c $(B)/.flags
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Wno-missing-prototypes -c -o $@ $<

$(B)/test/drover-tests: $(TEST_OBJS) $(B)/libdrover.a
	$(CC) $(ALL_LDFLAGS) -Wl,--dynamic-list=include/drover/exports.list \
		-o $@ $(TEST_OBJS) $(B)/libdrover.a $(CHECK_LIBS) $(LIBS)

tests: all $(B)/test/drover-tests

# The chaos suite's own bus client (test/chaos_tool.c), never installed.
$(B)/test/chaos-tool: $(B)/test/chaos_tool.o $(B)/libdrover.a
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(B)/libdrover.a $(LIBS)

# The README's test command.  Installs missing packages first (test/deps),
# then builds in a second make so pkg-config sees them.
check:
	test/deps
	test/check-layers
	$(MAKE) tests
	test/run-tests $(B)/test/drover-tests

# The include boundaries between the layers (docs/architecture.md).
check-layers:
	test/check-layers

unit:
	$(MAKE) tests
	CK_EXCLUDE_TAGS=integration test/run-tests $(B)/test/drover-tests

integration:
	$(MAKE) tests
	CK_INCLUDE_TAGS=integration test/run-tests $(B)/test/drover-tests

deps:
	test/deps

# The README's first command: drover serving requests (test/demo).
demo:
	+test/demo

# Faults under load, every request accounted for (test/chaos; a few
# minutes).  CHAOS_XFAIL names faults whose lost requests are a known
# defect (none now); test/chaos says what it does.
chaos: all $(B)/test/chaos-tool
	CHAOS_XFAIL="$(CHAOS_XFAIL)" test/chaos

# droverd under valgrind for a bounded long run (test/soak; SOAK_REQUESTS=n).
soak:
	test/soak

.PHONY: install-check
install-check:
	test/install-check

# ------------------------------------------------------------- benchmarks
$(B)/bench/%: test/%.c $(B)/libdrover.a all
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) \
		-Wl,--dynamic-list=include/drover/exports.list \
		-o $@ $< $(B)/libdrover.a $(LIBS)

# The micro-benchmarks, then drover end to end on ejabberd against the
# XMPP ceiling (test/bench-e2e, about a minute and a half; BENCH_E2E=0
# skips it, BENCH_E2E_* knobs in the script).
BENCH_E2E ?= 1
bench: all $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done
ifneq ($(BENCH_E2E),0)
	@echo "== test/bench-e2e"
	test/bench-e2e
endif

bench-e2e: all
	test/bench-e2e

# ------------------------------------------------------------------ fuzz
# libFuzzer targets, built with clang; each runs FUZZ_SECONDS on its seeds.
FUZZ_SECONDS ?= 30
FUZZ_CC ?= clang
FUZZ_SRCS_CORE = $(CORE_SRCS)
fuzz:
	@mkdir -p $(B)/fuzz
	@for f in $(FUZZ_SRCS); do \
		n=$$(basename $$f .c); \
		echo "== $$n"; \
		$(FUZZ_CC) -std=gnu11 -g -O1 $(DEFS) -Icommon -Iinclude -I. \
			$(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
			-o $(B)/fuzz/$$n $$f $(FUZZ_SRCS_CORE) $(PKG_LIBS) -ldl -lm \
			|| exit 1; \
		mkdir -p $(B)/fuzz/$$n.corpus; \
		$(B)/fuzz/$$n -max_total_time=$(FUZZ_SECONDS) \
			-artifact_prefix=$(B)/fuzz/$$n- \
			$(B)/fuzz/$$n.corpus test/corpus/$$n || exit 1; \
	done

# ------------------------------------------------------------------ docs
lint-man:
	@out=$$(mandoc -Tlint -W warning $(MAN_PAGES) 2>&1); \
	if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; \
	echo "lint-man: $(words $(MAN_PAGES)) pages clean"

# --------------------------------------------------------------- install
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
		$(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(INCLUDEDIR)/drover \
		$(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(SYSCONFDIR)/drover \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(LOGROTATEDIR)
	for p in $(PROGS); do \
		case $$p in \
		bin/droverd|bin/drover-router|bin/droverctl) \
			install -m 0755 $$p $(DESTDIR)$(SBINDIR)/ ;; \
		*)	install -m 0755 $$p $(DESTDIR)$(BINDIR)/ ;; \
		esac; \
	done
	for p in $(PLUGINS); do install -m 0755 $$p $(DESTDIR)$(PLUGINDIR)/; done
	install -m 0644 include/drover/*.h $(DESTDIR)$(INCLUDEDIR)/drover/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
		-e 's|@PLUGINDIR@|$(PLUGINDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		include/drover.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/drover.pc
	for m in $(MAN_PAGES); do \
		s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; \
	done
	for c in conf/*.xml; do \
		[ -e "$$c" ] || continue; \
		install -m 0644 $$c $(DESTDIR)$(SYSCONFDIR)/drover/$$(basename $$c).example; \
	done
	install -m 0644 conf/redis-accounts.txt $(DESTDIR)$(SYSCONFDIR)/drover/
	for u in conf/systemd/*.service; do \
		[ -e "$$u" ] || continue; \
		sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
			$$u > $(DESTDIR)$(UNITDIR)/$$(basename $$u); \
	done
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		conf/logrotate/drover > $(DESTDIR)$(LOGROTATEDIR)/drover
	chmod 0644 $(DESTDIR)$(LOGROTATEDIR)/drover

uninstall:
	for p in $(PROGS); do \
		rm -f $(DESTDIR)$(BINDIR)/$${p#bin/} $(DESTDIR)$(SBINDIR)/$${p#bin/}; \
	done
	for p in $(PLUGINS); do rm -f $(DESTDIR)$(PLUGINDIR)/$${p#lib/}; done
	-rmdir $(DESTDIR)$(PLUGINDIR)
	rm -rf $(DESTDIR)$(INCLUDEDIR)/drover
	rm -f $(DESTDIR)$(LIBDIR)/pkgconfig/drover.pc
	for m in $(MAN_PAGES); do \
		s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$$(basename $$m); \
	done
	for c in conf/*.xml; do \
		rm -f $(DESTDIR)$(SYSCONFDIR)/drover/$$(basename $$c).example; \
	done
	rm -f $(DESTDIR)$(SYSCONFDIR)/drover/redis-accounts.txt
	-rmdir $(DESTDIR)$(SYSCONFDIR)/drover
	for u in conf/systemd/*.service; do \
		rm -f $(DESTDIR)$(UNITDIR)/$$(basename $$u); \
	done
	rm -f $(DESTDIR)$(LOGROTATEDIR)/drover

clean:
	rm -rf $(B) bin lib

-include $(shell find $(B) -name '*.d' 2>/dev/null)
