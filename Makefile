# berth — build, tests, demo. `make check` and `make demo` are the two entry points.
CC      ?= gcc
PKGS    := libseccomp libcap libmnl yajl libarchive libcrypto libcurl
BUILD   := build
VERSION := 0.1.0

DEB_PKGS := build-essential pkg-config libseccomp-dev libcap-dev libmnl-dev libyajl-dev \
            libarchive-dev libssl-dev libcriterion-dev busybox-static bash \
            libacl1-dev libzstd-dev liblz4-dev liblzma-dev libbz2-dev zlib1g-dev nettle-dev \
            umoci skopeo debootstrap zstd golang-github-opencontainers-specs-dev python3-jsonschema \
            crun clang libclang-rt-dev go-md2man lintian dpkg-dev docker.io \
            libcurl4-openssl-dev docker-registry apache2-utils python3-jwt python3-cryptography \
            openssl curl podman squashfs-tools

# Where `make install` puts things. They are compiled in (BERTH_*), so an installed berth finds
# its berth-monitor and berth.conf there and never in its build tree; objects that use them are
# rebuilt when they change (paths.stamp). SYSCONFDIR is /etc for PREFIX /usr, as conf/ expects.
PREFIX      ?= /usr/local
DESTDIR     ?=
BINDIR      ?= $(PREFIX)/bin
LIBEXECDIR  ?= $(PREFIX)/libexec/berth
SYSCONFDIR  ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
LAUNCHER_GROUP ?= storm
PATH_DEFS := -DBERTH_BINDIR='"$(BINDIR)"' -DBERTH_LIBEXECDIR='"$(LIBEXECDIR)"' \
             -DBERTH_SYSCONFDIR='"$(SYSCONFDIR)"'

CPPFLAGS := -D_GNU_SOURCE -I. -DBERTH_VERSION='"$(VERSION)"' $(PATH_DEFS)
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c17 -Wall -Wextra -Werror -fno-strict-aliasing -ffunction-sections -fdata-sections
LDFLAGS  += -Wl,--gc-sections -Wl,--as-needed
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
# berth starts once per container command, so what its loader does counts: every library
# that ships an archive is linked statically (the shared libarchive alone drags in libxml2,
# ICU and libstdc++, ~2 ms per start; loading and relocating ten shared libraries cost
# 0.8 ms of the 2.1 ms `berth version` took). libmnl ships none: runtime/net.c loads it when
# a container's lo is brought up (a link made every exec load it, ~0.15 ms here).
# Only libarchive's tar reader and filters are used, so nothing pulls its xar code or libxml2.
# Tests keep the shared libraries.
# The Debian package links them all shared instead (`make deb`): Debian's security updates of
# zlib, libarchive or OpenSSL must reach berth without a rebuild (policy 4.13, lintian's
# embedded-library), at the start-up cost above.
BERTH_LIBS = -Wl,-Bstatic -larchive -lcrypto -lseccomp -lcap -lyajl_s -lnettle -lacl -llzma \
             -lzstd -llz4 -lbz2 -lz -Wl,-Bdynamic -ldl -pthread -lm
# libcurl (the registry client: pull, login) is dlopen'd by registry/curl.c when a registry is
# spoken to, never linked: see there. Its headers are all the build needs. The worker-launcher
# has no registry client (cmd_pull.o and cmd_login.o stay out of it; run reaches the pull
# through cli_pull_hook, which only berth's main sets).
SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_DIRS  := util conf mounts cgroup seccomp registry image runtime
LIB_SRC   := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
LAUNCH_SRC := $(wildcard launcher/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LAUNCH_OBJ := $(LAUNCH_SRC:%.c=$(BUILD)/obj/%.o)
LIB_SAN_OBJ := $(LIB_SRC:%.c=$(BUILD)/san/%.o)
LAUNCH_LIB_OBJ := $(filter-out $(BUILD)/obj/launcher/main.o,$(LAUNCH_OBJ))
WL_LAUNCH_OBJ := $(filter-out $(BUILD)/obj/launcher/cmd_pull.o $(BUILD)/obj/launcher/cmd_login.o,\
                   $(LAUNCH_LIB_OBJ))
LAUNCH_SAN_OBJ := $(filter-out $(BUILD)/san/launcher/main.o,$(LAUNCH_SRC:%.c=$(BUILD)/san/%.o))

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(BUILD)/unit-tests
UNIT_SAN_BIN := $(BUILD)/unit-tests-san
INTEG_SRC := $(wildcard tests/integration/*.c)
INTEG_BIN := $(BUILD)/integration-tests
PROBE_BIN := $(BUILD)/probe
# a hostile image's dynamic loader for the CVE-2019-5736 tests, found beside the probe
GRAB_BIN  := $(BUILD)/exe-grab

.PHONY: all install uninstall man deb pkgcheck deps check FORCE unit integration demo bench bench-quick clean format layers vmcheck fuzz fuzz-smoke
all: $(BUILD)/berth $(BUILD)/berth-monitor $(BUILD)/berth-runtime $(BUILD)/berth-nsenter \
     $(BUILD)/worker-launcher $(BUILD)/berth-oci

deps:
	@./scripts/deps.sh $(DEB_PKGS)

$(BUILD)/obj/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/san/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -O1 $(SAN_FLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/libberth.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/berth: $(LAUNCH_OBJ) $(BUILD)/libberth.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(LAUNCH_OBJ) $(BUILD)/libberth.a $(BERTH_LIBS)

# run -d's monitor execs this once its container runs: small, so that a running container
# costs little (see runtime/monitor.c). Installed beside berth. Static (PIE, so still at a
# random address): one such process per running container, and a dynamic libc's relocated
# and private pages were half of what each kept (140 KiB dirty; 84 KiB static), its exec
# ~0.1 ms of loader work.
# (The Debian package links it shared, as berth: see BERTH_LIBS.)
MONITOR_LINK := -static-pie
MONITOR_LIBS := -lyajl_s -lm
$(BUILD)/berth-monitor: $(BUILD)/obj/launcher/monitor/main.o $(BUILD)/libberth.a
	$(CC) $(CFLAGS) $(LDFLAGS) $(MONITOR_LINK) -o $@ $< $(BUILD)/libberth.a $(MONITOR_LIBS)

# run's monitor for a container on the host's network, and that container's init, from a
# read-only clone of this (runtime/monitor.c). Static (PIE) for the same reason: its exec is on
# every such start's path, and berth's costs ~0.1 ms more (the loader, and the start-up CPU
# probes of nettle and liblzma, ~4 us per cpuid in a VM; OpenSSL's runs in both, libcrypto
# checking the seccomp filter's digest). libmnl has no static library: this program brings up
# no lo. (The Debian package links it shared, as berth: see BERTH_LIBS.)
RUNTIME_LIBS := -lcap -lyajl_s -lcrypto -lm
$(BUILD)/berth-runtime: $(BUILD)/obj/launcher/runtime/main.o $(BUILD)/libberth.a
	$(CC) $(CFLAGS) $(LDFLAGS) $(MONITOR_LINK) -o $@ $< $(BUILD)/libberth.a $(RUNTIME_LIBS)

# berth-oci (launcher/oci/): runc's command line over berth's runtime, for podman's --runtime
# and Storm's runc path.
OCI_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard launcher/oci/*.c))
$(BUILD)/obj/launcher/oci/%.o: launcher/oci/oci.h
$(BUILD)/berth-oci: $(OCI_OBJ) $(BUILD)/libberth.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OCI_OBJ) $(BUILD)/libberth.a $(BERTH_LIBS)

# berth's worker-launcher (launcher/worker-launcher/): the cfg directory is compiled in, as
# Storm's is; WL_BUILD puts a build for another cfg directory elsewhere (the tests make one).
WL_CONF_DIR ?= /etc/storm
WL_BUILD    ?= $(BUILD)/wl
WL_SRC      := $(wildcard launcher/worker-launcher/*.c)
WL_OBJ       = $(WL_SRC:%.c=$(WL_BUILD)/%.o)

$(WL_BUILD)/%.o: %.c $(wildcard */*.h) $(wildcard launcher/worker-launcher/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DWL_CONF_DIR='"$(WL_CONF_DIR)"' $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

# main.o holds the cfg dir: rebuilt when WL_CONF_DIR changes
$(WL_BUILD)/conf-dir.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(WL_CONF_DIR)' | cmp -s - $@ || echo '$(WL_CONF_DIR)' > $@
$(WL_BUILD)/launcher/worker-launcher/main.o: $(WL_BUILD)/conf-dir.stamp
FORCE:

# the objects that read the compiled-in paths, in every build flavour
$(BUILD)/paths.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(PATH_DEFS)' | cmp -s - $@ || echo '$(PATH_DEFS)' > $@
PATH_USERS := conf/conf runtime/selfexe launcher/cmd_info
$(foreach f,$(PATH_USERS),$(foreach d,obj san fuzz,$(BUILD)/$(d)/$(f).o)): $(BUILD)/paths.stamp

$(WL_BUILD)/worker-launcher: $(WL_OBJ) $(WL_LAUNCH_OBJ) $(BUILD)/libberth.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(WL_OBJ) $(WL_LAUNCH_OBJ) $(BUILD)/libberth.a $(BERTH_LIBS)

$(BUILD)/worker-launcher: $(WL_BUILD)/worker-launcher
	cp $< $@

# Man pages: docs/man/<name>.<section>.md, markdown for Debian's go-md2man.
MAN_SRC := $(wildcard docs/man/*.md)
MAN_OUT := $(MAN_SRC:docs/man/%.md=$(BUILD)/man/%)
man: $(MAN_OUT)
$(BUILD)/man/%: docs/man/%.md
	@mkdir -p $(dir $@)
	go-md2man -in $< -out $@

# berth, its nsenter link and berth-oci in BINDIR, berth-monitor and berth-runtime in LIBEXECDIR, the
# worker-launcher root:LAUNCHER_GROUP 6550 as Storm's docs ask (the group must exist; WL_INSTALL
# changes that, as `make deb` does, whose postinst sets the mode) with its cfg directory
# WL_CONF_DIR, the man pages, bash completion, the tmpfiles.d entry that makes the state root at
# boot, and an example berth.conf that changes nothing (kept when one is there already).
WL_INSTALL ?= -m 6550 -o root -g $(LAUNCHER_GROUP)
install: $(BUILD)/berth $(BUILD)/berth-monitor $(BUILD)/berth-runtime $(BUILD)/berth-oci \
	 $(WL_BUILD)/worker-launcher \
	 $(MAN_OUT)
	install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(WL_CONF_DIR) \
		$(DESTDIR)$(SYSCONFDIR)/berth $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(TMPFILESDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BUILD)/berth $(DESTDIR)$(BINDIR)/
	ln -sf berth $(DESTDIR)$(BINDIR)/berth-nsenter
	install -m 0755 $(BUILD)/berth-oci $(DESTDIR)$(BINDIR)/
	install -m 0755 $(BUILD)/berth-monitor $(BUILD)/berth-runtime $(DESTDIR)$(LIBEXECDIR)/
	install $(WL_INSTALL) $(WL_BUILD)/worker-launcher $(DESTDIR)$(BINDIR)/worker-launcher
	install -m 0644 $(filter %.1,$(MAN_OUT)) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(filter %.5,$(MAN_OUT)) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(filter %.8,$(MAN_OUT)) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 dist/berth.bash-completion $(DESTDIR)$(BASHCOMPDIR)/berth
	install -m 0644 dist/berth.tmpfiles $(DESTDIR)$(TMPFILESDIR)/berth.conf
	test -e $(DESTDIR)$(SYSCONFDIR)/berth/berth.conf || \
		install -m 0644 dist/berth.conf $(DESTDIR)$(SYSCONFDIR)/berth/berth.conf

# what install put there; berth.conf only while it is still the example, and the directories
# only when empty (WL_CONF_DIR may hold Storm's cfg)
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/berth $(DESTDIR)$(BINDIR)/berth-nsenter \
		$(DESTDIR)$(BINDIR)/berth-oci $(DESTDIR)$(BINDIR)/worker-launcher \
		$(DESTDIR)$(LIBEXECDIR)/berth-monitor $(DESTDIR)$(LIBEXECDIR)/berth-runtime \
		$(DESTDIR)$(BASHCOMPDIR)/berth \
		$(DESTDIR)$(TMPFILESDIR)/berth.conf
	for f in $(notdir $(MAN_OUT)); do rm -f $(DESTDIR)$(MANDIR)/man$${f##*.}/$$f; done
	! cmp -s dist/berth.conf $(DESTDIR)$(SYSCONFDIR)/berth/berth.conf || \
		rm -f $(DESTDIR)$(SYSCONFDIR)/berth/berth.conf
	-rmdir $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(SYSCONFDIR)/berth $(DESTDIR)$(WL_CONF_DIR) 2>/dev/null

# berth_<version>_<arch>.deb in the source tree: `make install PREFIX=/usr` (its own build in
# build/deb, with Debian's hardening flags) staged and packed by scripts/mkdeb.sh with
# dpkg-shlibdeps, dpkg-gencontrol and dpkg-deb; then lintian, whose errors fail the build.
DEB_DIR := $(BUILD)/deb
deb:
	@test "$$(dpkg-parsechangelog -l dist/debian/changelog -S Version)" = "$(VERSION)" || \
		{ echo "dist/debian/changelog is not at version $(VERSION)" >&2; exit 1; }
	rm -rf $(DEB_DIR)/debian berth_*.deb
	rm -f $(DEB_DIR)/berth $(DEB_DIR)/berth-monitor $(DEB_DIR)/berth-runtime $(DEB_DIR)/berth-oci \
		$(DEB_DIR)/wl/worker-launcher
	export DEB_BUILD_MAINT_OPTIONS=hardening=+all; \
	CFLAGS="$$(dpkg-buildflags --get CFLAGS) $$(dpkg-buildflags --get CPPFLAGS)" \
		LDFLAGS="$$(dpkg-buildflags --get LDFLAGS)" $(MAKE) BUILD=$(DEB_DIR) \
		WL_BUILD=$(DEB_DIR)/wl PREFIX=/usr WL_CONF_DIR=/etc/storm WL_INSTALL='-m 0755' \
		BERTH_LIBS='$$(PKG_LIBS)' MONITOR_LINK= MONITOR_LIBS='$$(PKG_LIBS)' \
		RUNTIME_LIBS='$$(PKG_LIBS)' \
		DESTDIR=$(abspath $(DEB_DIR))/debian/berth install
	./scripts/mkdeb.sh $(DEB_DIR) .
	lintian --fail-on error --info --display-info --pedantic berth_$(VERSION)_*.deb

# berth invoked by this name takes util-linux nsenter's argv (launcher/cmd_join.c), so that
# Storm's worker-launcher can use it as nsenter.binary. Installed beside berth.
$(BUILD)/berth-nsenter: $(BUILD)/berth
	ln -sf berth $@

$(UNIT_BIN): $(UNIT_SRC) $(LAUNCH_LIB_OBJ) $(BUILD)/libberth.a
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -o $@ $(UNIT_SRC) $(LAUNCH_LIB_OBJ) \
		$(BUILD)/libberth.a $(PKG_LIBS) -lcriterion

$(UNIT_SAN_BIN): $(UNIT_SRC) $(LIB_SAN_OBJ) $(LAUNCH_SAN_OBJ)
	$(CC) $(CPPFLAGS) $(CFLAGS) -O1 $(SAN_FLAGS) $(PKG_CFLAGS) -o $@ $(UNIT_SRC) \
		$(LAUNCH_SAN_OBJ) $(LIB_SAN_OBJ) $(PKG_LIBS) -lcriterion

$(PROBE_BIN): tests/probe/probe.c
	@mkdir -p $(dir $@)
	$(CC) -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -static -o $@ $<

$(GRAB_BIN): tests/probe/exe_grab.c
	@mkdir -p $(dir $@)
	$(CC) -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -static-pie -fPIE -nostdlib \
		-ffreestanding -fno-stack-protector -o $@ $<

$(INTEG_BIN): $(INTEG_SRC) $(wildcard tests/integration/*.h) $(BUILD)/libberth.a
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -o $@ $(INTEG_SRC) $(BUILD)/libberth.a \
		$(PKG_LIBS) -lcriterion

# libFuzzer targets (tests/fuzz/fuzz_*.c), one per parser of outside input, over berth's sources
# built with clang's fuzzer, address and undefined sanitizers (libclang-rt-dev has the runtime).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := run seccomp load unpack template conf registry
FUZZ_SAN     := address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_OBJ     := $(filter-out $(BUILD)/fuzz/launcher/main.o,$(LIB_SRC:%.c=$(BUILD)/fuzz/%.o) \
                  $(LAUNCH_SRC:%.c=$(BUILD)/fuzz/%.o)) $(BUILD)/fuzz/tests/fuzz/fuzz_tmp.o
FUZZ_BIN     := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
# made by pattern rules only: without this make deletes them after each link
.SECONDARY: $(FUZZ_OBJ) $(FUZZ_TARGETS:%=$(BUILD)/fuzz/tests/fuzz/fuzz_%.o)

$(BUILD)/fuzz/%.o: %.c $(wildcard */*.h) $(wildcard tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(CFLAGS) -O1 -fsanitize=fuzzer-no-link,$(FUZZ_SAN) $(PKG_CFLAGS) \
		-c -o $@ $<

$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/tests/fuzz/fuzz_%.o $(FUZZ_OBJ)
	$(FUZZ_CC) $(CFLAGS) -O1 -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $^ $(PKG_LIBS)

# every target for FUZZ_SECONDS on its corpus (tests/fuzz/corpus/, seeds made by seed.sh, and
# what earlier runs found in build/fuzz/corpus/); a crash leaves build/fuzz/crash-<target>-*
fuzz: $(FUZZ_BIN)
	./tests/fuzz/run.sh $(abspath $(BUILD)/fuzz) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# the same, a few seconds each: part of make check
fuzz-smoke: $(FUZZ_BIN)
	./tests/fuzz/run.sh $(abspath $(BUILD)/fuzz) 5 $(FUZZ_TARGETS)

unit: $(UNIT_BIN) $(UNIT_SAN_BIN)
	$(UNIT_BIN) --jobs 2
	@# a leak is reported by the test's worker process after the test passed: the log decides
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(UNIT_SAN_BIN) --jobs 2 \
		>$(BUILD)/unit-san.log 2>&1; rc=$$?; cat $(BUILD)/unit-san.log; [ $$rc = 0 ] && \
		! grep -q 'ERROR: LeakSanitizer' $(BUILD)/unit-san.log

integration: $(BUILD)/berth $(BUILD)/berth-monitor $(BUILD)/berth-runtime $(PROBE_BIN) $(GRAB_BIN) $(INTEG_BIN)
	BERTH=$(abspath $(BUILD)/berth) PROBE=$(abspath $(PROBE_BIN)) BERTH_SRC=$(CURDIR) \
		$(INTEG_BIN) --jobs 1

# the installation (tests/pkg/): every command's flags on its man page, make install/uninstall
# into a DESTDIR, the bash completion through bash's complete machinery, the .deb installed on
# this machine, used and purged
pkgcheck: all $(MAN_OUT)
	./tests/pkg/man-flags.sh $(BUILD) docs/man
	./tests/pkg/install.sh
	./tests/pkg/completion.sh $(BUILD)
	$(MAKE) deb
	./tests/pkg/deb.sh berth_$(VERSION)_$$(dpkg-architecture -qDEB_HOST_ARCH).deb

check: deps
	$(MAKE) layers
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) fuzz-smoke
	$(MAKE) integration
	$(MAKE) pkgcheck

demo: deps
	$(MAKE) all
	./scripts/demo.sh $(abspath $(BUILD)/berth)

# bench/bench.sh: berth beside crun, runc, docker, podman's conmon and unshare+chroot, one
# report (bench/results/latest.md) and one chart (latest.png); bench-quick: few runs.
BENCH_PKGS := crun runc docker.io podman conmon gnuplot-nox python3 util-linux \
	docker-registry skopeo debootstrap curl

$(BUILD)/bench-timer: bench/timer.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -static -o $@ $<

bench: all $(BUILD)/bench-timer
	@./scripts/deps.sh $(BENCH_PKGS)
	./bench/bench.sh $(abspath $(BUILD)/berth)

bench-quick: all $(BUILD)/bench-timer
	@./scripts/deps.sh $(BENCH_PKGS)
	QUICK=1 ./bench/bench.sh $(abspath $(BUILD)/berth)

# the core and cgroup integration tests on a pure cgroup v2 kernel under qemu (scripts/vmcheck/)
vmcheck: deps
	$(MAKE) all $(PROBE_BIN) $(GRAB_BIN) $(INTEG_BIN) $(UNIT_BIN)
	./scripts/vmcheck/vmcheck.sh $(abspath $(BUILD))

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# includes downward, one header per module, no call cycles between a folder's files
layers:
	python3 scripts/layers.py .

clean:
	rm -rf $(BUILD)
