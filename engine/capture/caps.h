/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Privilege checks (engine-private). */
#ifndef ECAPTOP_ENGINE_CAPS_H
#define ECAPTOP_ENGINE_CAPS_H

#include <stdbool.h>
#include <stddef.h>

/* 0 if this process may load and attach BPF programs (CAP_SYS_ADMIN, or CAP_BPF
 * with CAP_PERFMON); otherwise -EPERM and a one-line reason with what to do. */
int caps_check_bpf(char *why, size_t len);
/* Whether the effective set holds capability cap. */
bool caps_have(int cap);

#endif
