# berth — build, tests, demo. `make check` and `make demo` are the two entry points.
CC      ?= gcc
PKGS    := libseccomp libcap libmnl yajl libarchive libcrypto
BUILD   := build
VERSION := 0.1.0

DEB_PKGS := build-essential pkg-config libseccomp-dev libcap-dev libmnl-dev libyajl-dev \
            libarchive-dev libssl-dev libcriterion-dev busybox-static bash \
            libacl1-dev libzstd-dev liblz4-dev liblzma-dev libbz2-dev zlib1g-dev nettle-dev \
            umoci skopeo debootstrap zstd golang-github-opencontainers-specs-dev python3-jsonschema \
            crun clang libclang-rt-dev podman

CPPFLAGS := -D_GNU_SOURCE -I. -DBERTH_VERSION='"$(VERSION)"'
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c17 -Wall -Wextra -Werror -fno-strict-aliasing -ffunction-sections -fdata-sections
LDFLAGS  += -Wl,--gc-sections -Wl,--as-needed
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
# berth starts once per container command, so what its loader does counts: every library
# that ships an archive is linked statically (the shared libarchive alone drags in libxml2,
# ICU and libstdc++, ~2 ms per start; loading and relocating ten shared libraries cost
# 0.8 ms of the 2.1 ms `berth version` took). libmnl ships none and stays shared, with libc.
# Only libarchive's tar reader and filters are used, so nothing pulls its xar code or libxml2.
# Tests keep the shared libraries.
BERTH_LIBS = -Wl,-Bstatic -larchive -lcrypto -lseccomp -lcap -lyajl_s -lnettle -lacl -llzma \
             -lzstd -llz4 -lbz2 -lz -Wl,-Bdynamic -lmnl -ldl -pthread -lm
SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_DIRS  := util conf mounts cgroup seccomp image runtime
LIB_SRC   := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
LAUNCH_SRC := $(wildcard launcher/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LAUNCH_OBJ := $(LAUNCH_SRC:%.c=$(BUILD)/obj/%.o)
LIB_SAN_OBJ := $(LIB_SRC:%.c=$(BUILD)/san/%.o)
LAUNCH_LIB_OBJ := $(filter-out $(BUILD)/obj/launcher/main.o,$(LAUNCH_OBJ))
LAUNCH_SAN_OBJ := $(filter-out $(BUILD)/san/launcher/main.o,$(LAUNCH_SRC:%.c=$(BUILD)/san/%.o))

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(BUILD)/unit-tests
UNIT_SAN_BIN := $(BUILD)/unit-tests-san
INTEG_SRC := $(wildcard tests/integration/*.c)
INTEG_BIN := $(BUILD)/integration-tests
PROBE_BIN := $(BUILD)/probe
# a hostile image's dynamic loader for the CVE-2019-5736 tests, found beside the probe
GRAB_BIN  := $(BUILD)/exe-grab

.PHONY: all install deps check FORCE unit integration demo bench clean format layers vmcheck fuzz fuzz-smoke
all: $(BUILD)/berth $(BUILD)/berth-monitor $(BUILD)/berth-nsenter $(BUILD)/worker-launcher \
     $(BUILD)/berth-oci

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
# costs little (see runtime/monitor.c). Installed beside berth.
$(BUILD)/berth-monitor: $(BUILD)/obj/launcher/monitor/main.o $(BUILD)/libberth.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libberth.a $(BERTH_LIBS)

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
PREFIX      ?= /usr/local
DESTDIR     ?=
LAUNCHER_GROUP ?= storm

$(WL_BUILD)/%.o: %.c $(wildcard */*.h) $(wildcard launcher/worker-launcher/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DWL_CONF_DIR='"$(WL_CONF_DIR)"' $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

# main.o holds the cfg dir: rebuilt when WL_CONF_DIR changes
$(WL_BUILD)/conf-dir.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(WL_CONF_DIR)' | cmp -s - $@ || echo '$(WL_CONF_DIR)' > $@
$(WL_BUILD)/launcher/worker-launcher/main.o: $(WL_BUILD)/conf-dir.stamp
FORCE:

$(WL_BUILD)/worker-launcher: $(WL_OBJ) $(LAUNCH_LIB_OBJ) $(BUILD)/libberth.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(WL_OBJ) $(LAUNCH_LIB_OBJ) $(BUILD)/libberth.a $(BERTH_LIBS)

$(BUILD)/worker-launcher: $(WL_BUILD)/worker-launcher
	cp $< $@

# berth, its monitor and nsenter link, and the worker-launcher root:LAUNCHER_GROUP 6550 as
# Storm's docs ask (the group must exist); the cfg goes to WL_CONF_DIR, berth.conf (if any)
# to PREFIX/etc/berth (/etc/berth for PREFIX /usr).
install: $(BUILD)/berth $(BUILD)/berth-monitor $(WL_BUILD)/worker-launcher
	install -d -m 0755 $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/berth $(BUILD)/berth-monitor $(DESTDIR)$(PREFIX)/bin/
	ln -sf berth $(DESTDIR)$(PREFIX)/bin/berth-nsenter
	install -m 6550 -o root -g $(LAUNCHER_GROUP) $(WL_BUILD)/worker-launcher \
		$(DESTDIR)$(PREFIX)/bin/worker-launcher

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
FUZZ_TARGETS := run seccomp load unpack template conf
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
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(UNIT_SAN_BIN) --jobs 2

integration: $(BUILD)/berth $(BUILD)/berth-monitor $(PROBE_BIN) $(GRAB_BIN) $(INTEG_BIN)
	BERTH=$(abspath $(BUILD)/berth) PROBE=$(abspath $(PROBE_BIN)) BERTH_SRC=$(CURDIR) \
		$(INTEG_BIN) --jobs 1

check: deps
	$(MAKE) layers
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) fuzz-smoke
	$(MAKE) integration

demo: deps
	$(MAKE) all
	./scripts/demo.sh $(abspath $(BUILD)/berth)

bench: all
	./bench/run.sh $(abspath $(BUILD)/berth)
	./bench/lifecycle.sh $(abspath $(BUILD)/berth)
	./bench/load.sh $(abspath $(BUILD)/berth)
	./bench/seccomp.sh $(abspath $(BUILD)/berth)
	./bench/join.sh $(abspath $(BUILD)/berth)
	./bench/oci.sh $(abspath $(BUILD)/berth)
	./bench/trace.sh $(abspath $(BUILD)/berth)

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
