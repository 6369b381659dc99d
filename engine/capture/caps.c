// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "engine/capture/caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

bool caps_have(int cap)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2] = {{0}};

	/* No libcap dependency for one system call. */
	if (syscall(SYS_capget, &hdr, data))
		return false;
	return (data[cap / 32].effective >> (cap % 32)) & 1;
}

int caps_check_bpf(char *why, size_t len)
{
	if (caps_have(CAP_SYS_ADMIN) || (caps_have(CAP_BPF) && caps_have(CAP_PERFMON)))
		return 0;
	snprintf(why, len,
		 "live capture needs root (or CAP_BPF and CAP_PERFMON): run it with sudo; "
		 "replaying a file (-r FILE) needs no privileges");
	return -EPERM;
}
