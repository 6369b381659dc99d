# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# ecaptop build. Quiet unless V=1. Everything built goes to .output/.
#
#   make            build ./ecaptop
#   make deps       install what a fresh Debian 12 needs to build and test (apt-get)
#   make run        deps, build, start ecaptop (needs root)
#   make test       unit, sanitizer, decoder, fuzz (brief) and integration tests
#   make fuzz       run every fuzz target for FUZZ_TIME seconds each (default 300)
#   make bench      benchmarks (print figures; not tests)
#   make format     clang-format every source file in place
#   make install    PREFIX (default /usr/local) and DESTDIR; make uninstall
#   make deb        ecaptop_VERSION_ARCH.deb in $(OUTPUT)/deb (dpkg-deb)
#   make kernel-test  the capture smoke in Debian's 5.10, 6.1 and 6.12 kernels (qemu)
#   make ARCH=arm64   cross-build .output/arm64/ecaptop (mk/cross.mk); make arm64-test
#   make arm64-kernel-test  the capture smoke in Debian's arm64 kernel (qemu-system-aarch64)

include mk/cross.mk
OUTPUT ?= .output
export OUTPUT
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
LLVM_STRIP ?= llvm-strip
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/' -e 's/s390x/s390/')
VERSION := 0.1.0

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 $(WARN) -I$(OUTPUT) -I. -D_GNU_SOURCE -DECAPTOP_VERSION=\"$(VERSION)\"
LIBS := -lbpf -lelf -lZydis -lz -lnghttp2 -lncursesw -ltinfo -lpcap -lpcre2-8 -lpthread
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
# The same objects built for kernels that know no BPF callbacks (before 5.17's
# bpf_loop): engine/capture/load.c picks them there.
BPF_NOCB := tls sock db packets
BPF_OBJS += $(patsubst %,$(OUTPUT)/bpf/%_nocb.bpf.o,$(BPF_NOCB))
SKELS += $(patsubst %,$(OUTPUT)/%_nocb.skel.h,$(BPF_NOCB))
# Every folder below engine/, decoders/ and tui/ is a room of its own (ARCHITECTURE.md).
SRC_DIRS := $(shell find engine decoders tui -type d)
HDRS := $(wildcard bpf/*.h $(addsuffix /*.h,$(SRC_DIRS)))

# Everything but main() is a library the tests link against.
MAIN_SRC := tui/main.c
LIB_SRCS := $(filter-out $(MAIN_SRC),$(wildcard $(addsuffix /*.c,$(SRC_DIRS))))
DEC_SRCS := $(filter decoders/%,$(LIB_SRCS))
DEC_HDRS := $(filter decoders/%,$(HDRS))
LIB_OBJS := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(LIB_SRCS))
SAN_OBJS := $(patsubst %.c,$(OUTPUT)/san/%.o,$(LIB_SRCS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(OUTPUT)/fuzz/%,$(FUZZ_SRCS))
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(patsubst tests/tools/%.c,$(OUTPUT)/tools/%,$(TOOL_SRCS))

# Debian packages: the build, then the programs the tests start.
DEPS_BUILD := make gcc clang llvm pkg-config bpftool libbpf-dev libelf-dev libncurses-dev \
	libpcap-dev libpcre2-dev zlib1g-dev libnghttp2-dev libzydis-dev
DEPS_TEST := openssl curl python3 tmux procps iproute2 xxd util-linux nginx-light mariadb-server \
	mariadb-client postgresql zsh tshark tcpdump gnutls-bin libnss3-tools golang-go wget libssl-dev binutils
# Only for make bench: the load generator and the peers ecaptop is compared with.
DEPS_BENCH := nginx-light nghttp2-client bpftrace bpfcc-tools linux-headers-amd64
# The kernel matrix (make kernel-test): qemu, a static busybox for the initramfs, kmod
# to order the 9p modules, cpio; the install test: dpkg-dev (dpkg-shlibdeps).
DEPS_TEST += qemu-system-x86 busybox-static kmod cpio xz-utils zstd dpkg-dev
# BoringSSL: Debian's build (headers, libssl.so.0) and its bssl-tool (test_boringssl.sh).
DEPS_TEST += android-libboringssl-dev android-boringssl
KERNELS ?= 5.10 6.1 6.12
PREFIX ?= /usr/local
FUZZ_TIME ?= 300
FUZZ_BRIEF ?= 5


.PHONY: bench-deps tui-test layout-test install uninstall deb install-test kernel-test
.PHONY: all deps run test unit-test tsan-test decoder-test fuzz-test integration-test fuzz bench \
	format format-check clean tools
.DELETE_ON_ERROR:
.SECONDARY:

all: $(ECAPTOP_BIN)

deps:
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		$(DEPS_BUILD) $(DEPS_TEST)

run: deps ecaptop
	./ecaptop $(ARGS)

$(OUTPUT) $(OUTPUT)/bpf:
	$(Q)mkdir -p $@

# A cross build takes the target's BTF instead (mk/cross-rules.mk).
ifeq ($(CROSS),)
$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,BTF,$@)
	$(Q)if [ -r /sys/kernel/btf/vmlinux ]; then \
		$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@; \
	else \
		echo "error: /sys/kernel/btf/vmlinux is missing: building needs a kernel with BTF" >&2; \
		exit 1; \
	fi
endif

$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(OUTPUT)/vmlinux.h | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(OUTPUT) -Ibpf \
		-Wall -Werror -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(OUTPUT)/bpf/%_nocb.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(OUTPUT)/vmlinux.h | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -DEC_NO_CALLBACKS -I$(OUTPUT) -Ibpf \
		-Wall -Werror -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# Decoders know nothing of BPF: they build without the skeletons.
$(OUTPUT)/obj/decoders/%.o: decoders/%.c $(DEC_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/san/decoders/%.o: decoders/%.c $(DEC_HDRS)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(OUTPUT)/obj/%.o: %.c $(HDRS) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/san/%.o: %.c $(HDRS) $(SKELS)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(ECAPTOP_BIN): $(LIB_OBJS) $(OUTPUT)/obj/$(MAIN_SRC:.c=.o)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

$(OUTPUT)/san/ecaptop: $(SAN_OBJS) $(OUTPUT)/san/$(MAIN_SRC:.c=.o)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $^ $(LIBS) -o $@

# Tests link only what they need, so a decoder test never waits for the BPF build:
# test_dec_* and tools/dec* link the decoders; test_pcapng_* add the event and
# pcapng modules; any other test links everything.
DEC_SAN_OBJS := $(patsubst %.c,$(OUTPUT)/san/%.o,$(DEC_SRCS))
PCAPNG_SAN_OBJS := $(DEC_SAN_OBJS) $(patsubst %.c,$(OUTPUT)/san/%.o,$(filter engine/event.c \
	engine/file/pcapng%.c,$(LIB_SRCS)))
PCAPNG_HDRS := $(wildcard engine/event.h engine/file/pcapng*.h bpf/events.h) $(DEC_HDRS)
$(OUTPUT)/san/engine/file/pcapng%.o: engine/file/pcapng%.c $(PCAPNG_HDRS)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(OUTPUT)/san/engine/event.o: engine/event.c $(PCAPNG_HDRS)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(OUTPUT)/tests/test_dec_%: tests/unit/test_dec_%.c $(DEC_SAN_OBJS) tests/unit/unit.h
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -Itests/unit $< $(DEC_SAN_OBJS) -lz -lnghttp2 -o $@

$(OUTPUT)/tests/test_pcapng_%: tests/unit/test_pcapng_%.c $(PCAPNG_SAN_OBJS) tests/unit/unit.h
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -Itests/unit $< $(PCAPNG_SAN_OBJS) -lz -lnghttp2 -lpcap -o $@

$(OUTPUT)/tools/dec%: tests/tools/dec%.c $(DEC_SAN_OBJS)
	$(call msg,TOOL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $< $(DEC_SAN_OBJS) -lz -lnghttp2 -o $@

$(OUTPUT)/tests/%: tests/unit/%.c $(SAN_OBJS) tests/unit/unit.h
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -Itests/unit $< $(SAN_OBJS) $(LIBS) -o $@

$(OUTPUT)/tsan/spsc_stress: tests/tsan/spsc_stress.c engine/spsc.c engine/spsc.h
	$(call msg,TSAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -O1 -fsanitize=thread $< engine/spsc.c -lpthread -o $@

$(OUTPUT)/tools/%: tests/tools/%.c $(SAN_OBJS)
	$(call msg,TOOL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $< $(SAN_OBJS) $(LIBS) -o $@

# Fuzz targets link the decoders and the engine's file readers, built with libFuzzer.
FUZZ_LIB_SRCS := $(DEC_SRCS) $(filter engine/file/pcapng%.c tui/session/%.c \
	engine/event.c engine/log.c,$(LIB_SRCS))
$(OUTPUT)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRCS) $(HDRS)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -std=gnu11 -g -O1 $(WARN) -I. -I$(OUTPUT) -D_GNU_SOURCE \
		-fsanitize=fuzzer,address,undefined $< $(FUZZ_LIB_SRCS) -lz -lnghttp2 -lpcap -lpcre2-8 -o $@

tools: $(TOOL_BINS)

unit-test: $(UNIT_BINS)
	$(Q)tests/lib/run-unit.sh $(UNIT_BINS)

tsan-test: $(OUTPUT)/tsan/spsc_stress
	$(Q)tests/lib/run-one.sh tsan-spsc $(OUTPUT)/tsan/spsc_stress

decoder-test: $(TOOL_BINS)
	$(Q)tests/decoders/run.sh

fuzz-test: $(FUZZ_BINS)
	$(Q)tests/lib/run-fuzz.sh $(FUZZ_BRIEF) $(FUZZ_BINS)

integration-test: ecaptop $(OUTPUT)/san/ecaptop $(TOOL_BINS)
	$(Q)ECAPTOP=$(CURDIR)/$(OUTPUT)/san/ecaptop tests/integration/run.sh

# The TUI under tmux: the release build, since keypress latency is part of the test.
tui-test: ecaptop
	$(Q)ECAPTOP=$(CURDIR)/ecaptop tests/tui/run.sh
	$(Q)ECAPTOP=$(CURDIR)/ecaptop tests/tui/exchanges.sh
	$(Q)ECAPTOP=$(CURDIR)/ecaptop tests/tui/perf.sh

test:
	$(Q)rm -f $(OUTPUT)/results
	$(Q)$(MAKE) --no-print-directory ecaptop
	$(Q)$(MAKE) --no-print-directory -k layout-test unit-test tsan-test decoder-test fuzz-test \
		integration-test tui-test install-test kernel-test arm64-test arm64-kernel-test; \
		tests/lib/summary.sh $$?

# The house rules as tests: formatting, and includes only across allowed boundaries.
install: ecaptop
	$(Q)install -D -m 0755 ecaptop $(DESTDIR)$(PREFIX)/sbin/ecaptop
	$(Q)install -D -m 0644 man/ecaptop.8 $(DESTDIR)$(PREFIX)/share/man/man8/ecaptop.8
	$(Q)install -d $(DESTDIR)$(PREFIX)/share/ecaptop/themes
	$(Q)install -m 0644 themes/*.theme $(DESTDIR)$(PREFIX)/share/ecaptop/themes/

uninstall:
	$(Q)rm -f $(DESTDIR)$(PREFIX)/sbin/ecaptop $(DESTDIR)$(PREFIX)/share/man/man8/ecaptop.8
	$(Q)rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/ecaptop/themes/,$(notdir $(wildcard themes/*.theme)))
	$(Q)-rmdir $(DESTDIR)$(PREFIX)/share/ecaptop/themes $(DESTDIR)$(PREFIX)/share/ecaptop 2>/dev/null

deb: ecaptop
	$(call msg,DEB,$(OUTPUT)/deb)
	$(Q)tests/install/mkdeb.sh $(VERSION) $(OUTPUT)/deb

install-test: ecaptop
	$(Q)tests/install/run.sh

kernel-test: ecaptop
	$(Q)tests/kernels/run.sh $(KERNELS)

layout-test:
	$(Q)tests/lib/run-one.sh format-check $(MAKE) --no-print-directory format-check
	$(Q)tests/lib/run-one.sh include-boundaries tests/lib/check-includes.sh

fuzz: $(FUZZ_BINS)
	$(Q)tests/lib/run-fuzz.sh $(FUZZ_TIME) $(FUZZ_BINS)

bench-deps:
	$(Q)missing=""; for p in $(DEPS_BENCH); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; if [ -n "$$missing" ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $$missing; fi

bench: ecaptop $(TOOL_BINS) bench-deps
	$(Q)QUICK=$(QUICK) tests/bench/run.sh

FORMAT_SRCS := $(wildcard bpf/*.c bpf/*.h $(addsuffix /*.[ch],$(SRC_DIRS)) tests/*/*.[ch])

format:
	clang-format -i $(FORMAT_SRCS)

format-check:
	$(Q)clang-format --dry-run --Werror $(FORMAT_SRCS)

clean:
	rm -rf $(OUTPUT) ecaptop

# Cross builds and the arm64 tests under qemu-user (mk/cross.mk sets the toolchain).
include mk/cross-rules.mk
