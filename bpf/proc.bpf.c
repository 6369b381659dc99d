// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Processes: exec and exit, for the process table and for target discovery (a new
 * program may map a TLS library we have not attached yet). Raw tracepoints, so no
 * tracefs mount is needed. Filtered by the PID/UID filters like every source: with
 * -p/-u nothing is sent about other processes (an idle filtered capture costs
 * nothing), and discovery only needs the execs of processes it may capture.
 */
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define CMDLINE_MAX 4096

/* sched_process_exec(struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm) */
SEC("raw_tp/sched_process_exec")
int proc_exec(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx->args[0];
	unsigned long start, end;
	struct scratch *s;
	__u64 n;

	if (!pass_filter(bpf_get_current_pid_tgid() >> 32, (__u32)bpf_get_current_uid_gid()))
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	hdr_init(&s->hdr, EC_K_EXEC, EC_S_PROC);
	s->hdr.aux = BPF_CORE_READ(task, real_parent, tgid);
	/* The new image's argv is in place when this tracepoint fires. */
	start = BPF_CORE_READ(task, mm, arg_start);
	end = BPF_CORE_READ(task, mm, arg_end);
	n = end > start ? end - start : 0;
	if (n > CMDLINE_MAX)
		n = CMDLINE_MAX;
	/* The compiler knows n <= CMDLINE_MAX and would drop a mask; the verifier needs
	 * to see one. */
	barrier_var(n);
	n &= CMDLINE_MAX * 2 - 1;
	if (n && bpf_probe_read_user(s->data, n, (void *)start))
		n = 0;
	s->hdr.len = n;
	output(ctx, s, n);
	return 0;
}

/* sched_process_exit(struct task_struct *p): report thread-group leaders only. */
SEC("raw_tp/sched_process_exit")
int proc_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx->args[0];
	struct scratch *s;

	if (BPF_CORE_READ(task, pid) != BPF_CORE_READ(task, tgid))
		return 0;
	if (!pass_filter(BPF_CORE_READ(task, tgid), (__u32)bpf_get_current_uid_gid()))
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	hdr_init(&s->hdr, EC_K_EXIT, EC_S_PROC);
	s->hdr.aux = BPF_CORE_READ(task, exit_code) >> 8;
	output(ctx, s, 0);
	return 0;
}
