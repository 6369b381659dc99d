# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Cross builds, part 1 (read before anything names $(OUTPUT)): which toolchain and where.
#
#   make ARCH=arm64                  or  make CROSS=aarch64-linux-gnu-
#
# build $(OUTPUT)/ecaptop (.output/arm64/ecaptop) for arm64 on another machine with Debian's
# cross toolchain (gcc-aarch64-linux-gnu) against the multiarch :arm64 libraries, and the BPF
# objects with -D__TARGET_ARCH_arm64 against a vmlinux.h made from the BTF of Debian's arm64
# kernel (mk/target-btf.sh). The host's ./ecaptop and .output/ are left alone. mk/cross-rules.mk
# has the rules; `make arm64-test` (part of `make test`) runs the tests under qemu-user.

HOST_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
# Debian's name for the target, its GNU triplet and its ELF machine (as file(1) prints it).
CROSS_arm64 := aarch64-linux-gnu-
DEB_ARCH_arm64 := arm64
ELF_MACHINE_arm64 := ARM aarch64

# CROSS alone names the architecture; ARCH alone picks Debian's cross toolchain for it.
ifneq ($(CROSS),)
ifneq ($(origin ARCH),command line)
override ARCH := $(shell echo $(CROSS) | sed -e 's/-.*//' -e 's/aarch64/arm64/' -e 's/x86_64/x86/')
endif
endif
ifneq ($(origin ARCH),undefined)
ifneq ($(ARCH),$(HOST_ARCH))
CROSS ?= $(CROSS_$(ARCH))
ifeq ($(CROSS),)
$(error ARCH=$(ARCH): no cross toolchain known for it (arm64 is); set CROSS=TRIPLET-)
endif
endif
endif

ifneq ($(CROSS),)
ifneq ($(origin CC),command line)
override CC := $(CROSS)gcc
endif
OUTPUT ?= .output/$(ARCH)
# The binary stays in $(OUTPUT): ./ecaptop is the host's.
ECAPTOP_BIN := $(OUTPUT)/ecaptop
else
ECAPTOP_BIN := ecaptop
endif
