# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Cross builds, part 2 (after the Makefile's own variables): the target's vmlinux.h, the
# Debian packages a cross build needs, and the arm64 tests under qemu-user.

# Debian's cross toolchain and the :arm64 libraries the binary links (multiarch, beside the
# amd64 ones), the sanitizers' run-time libraries the tests link, qemu-user to run them.
# `make deps` installs them too.
DEPS_CROSS_arm64 := gcc-aarch64-linux-gnu qemu-user libbpf-dev:arm64 libelf-dev:arm64 \
	libncurses-dev:arm64 libpcap-dev:arm64 libpcre2-dev:arm64 zlib1g-dev:arm64 \
	libnghttp2-dev:arm64 libzydis-dev:arm64 libasan8:arm64 libubsan1:arm64 qemu-system-arm
CROSS_TEST_ARCHS ?= arm64

.PHONY: deps-cross cross-bins arm64-test arm64-kernel-test
deps: deps-cross

deps-cross:
	for a in $(CROSS_TEST_ARCHS); do \
		dpkg --print-foreign-architectures | grep -qx "$$a" || dpkg --add-architecture "$$a"; \
	done
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		$(foreach a,$(CROSS_TEST_ARCHS),$(DEPS_CROSS_$(a)))

ifneq ($(CROSS),)
# vmlinux.h from the target kernel's BTF: Debian's own kernel for it (mk/target-btf.sh),
# or TARGET_BTF=FILE (a copy of /sys/kernel/btf/vmlinux from the target machine). CO-RE
# relocates field offsets at load time, but the types must be the target's: arm64's
# PT_REGS_* macros (bpf_tracing.h) read struct user_pt_regs, which x86 has not.
TARGET_BTF ?= $(OUTPUT)/target.btf
$(OUTPUT)/target.btf: mk/target-btf.sh | $(OUTPUT)
	$(call msg,BTF,$@)
	$(Q)mk/target-btf.sh $(DEB_ARCH_$(ARCH)) $@

$(OUTPUT)/vmlinux.h: $(TARGET_BTF) | $(OUTPUT)
	$(call msg,BTF,$@)
	$(Q)$(BPFTOOL) btf dump file $< format c > $@

# Under qemu-user every start of an ASan program costs ~2.5 s of CPU (its shadow memory) and
# the decoder tests start dectest once per stream (138 times): the cross dectest has UBSan
# only. The unit tests keep ASan, and the host runs the same streams under ASan.
UBSAN_FLAGS := -fsanitize=undefined -fno-sanitize-recover=undefined
CROSS_DEC_OBJS := $(patsubst %.c,$(OUTPUT)/ubsan/%.o,$(DEC_SRCS))
$(OUTPUT)/ubsan/decoders/%.o: decoders/%.c $(DEC_HDRS)
	$(call msg,CC-UBSAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(UBSAN_FLAGS) -c $< -o $@

$(OUTPUT)/tools/dectest: tests/tools/dectest.c $(CROSS_DEC_OBJS)
	$(call msg,TOOL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(UBSAN_FLAGS) $< $(CROSS_DEC_OBJS) -lz -lnghttp2 -o $@

# What the arm64 test runs: the binary, the BPF objects, the unit tests and the decoder tool.
cross-bins: $(ECAPTOP_BIN) $(BPF_OBJS) $(UNIT_BINS) $(OUTPUT)/tools/dectest
endif

# Build for arm64 (timed), check what was built is aarch64 code and BPF objects made for
# arm64, and run the unit and decoder tests under qemu-user (tests/cross/run.sh).
arm64-test:
	$(Q)tests/cross/run.sh arm64

# The capture smoke in Debian's arm64 kernel under qemu-system-aarch64 (TCG): --check and one
# TLS request and response between openssl s_client and s_server (tests/kernels/arm64.sh).
arm64-kernel-test:
	$(Q)env -u MAKEFLAGS -u MAKELEVEL $(MAKE) --no-print-directory ARCH=arm64 OUTPUT=$(OUTPUT)/arm64 \
		$(OUTPUT)/arm64/ecaptop
	$(Q)ECAPTOP=$(abspath $(OUTPUT))/arm64/ecaptop tests/kernels/arm64.sh
