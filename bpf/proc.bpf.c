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

#define CMDLINE_MAX  4096
#define EXE_PATH_MAX 4096
#define SIGSTOP_     19

/* --hold-new (set by user space before load): stop the first run of an executable that
 * discovery has not classified yet, until it has (engine/discover/hold.c continues it,
 * within a bound, and at exit). */
const volatile bool hold_new = false;

/* An executable's identity: the kernel's s_dev (major << 20 | minor) and inode. */
struct exe_key {
	__u32 dev;
	__u32 pad;
	__u64 ino;
};

/* Executables discovery has classified (TLS target or not): never held. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct exe_key);
	__type(value, __u8);
} known_exes SEC(".maps");

/* [0]: holding is on (user space turns it off before it continues every held process
 * at exit, so none is stopped after that). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} hold_on SEC(".maps");

/* Processes stopped by hold_new: tgid -> when (now_ns). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} held SEC(".maps");

/* The process's start time (ns since boot, as /proc/PID/stat counts it) and cgroup v2
 * id, where the engine takes them from (bpf/events.h). */
static __always_inline void put_identity(struct ec_rec_hdr *h, struct task_struct *task)
{
	struct task_struct___old {
		__u64 real_start_time;
	} *old = (void *)task;
	__u64 start, cg;

	/* start_boottime since 5.5; real_start_time before. */
	if (bpf_core_field_exists(task->start_boottime))
		start = BPF_CORE_READ(task, start_boottime);
	else
		start = BPF_CORE_READ(old, real_start_time);
	cg = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	__builtin_memcpy(h->laddr, &start, sizeof(start));
	__builtin_memcpy(h->raddr, &cg, sizeof(cg));
}

/* sched_process_exec(struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm) */
SEC("raw_tp/sched_process_exec")
int proc_exec(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx->args[0];
	struct linux_binprm *bprm = (struct linux_binprm *)ctx->args[2];
	struct exe_key key = {};
	unsigned long start, end;
	struct scratch *s;
	long m;
	__u64 n;

	if (!pass_filter(bpf_get_current_pid_tgid() >> 32, (__u32)bpf_get_current_uid_gid()))
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	hdr_init(&s->hdr, EC_K_EXEC, EC_S_PROC);
	s->hdr.aux = BPF_CORE_READ(task, real_parent, tgid);
	put_identity(&s->hdr, task);
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
	/* The executable (for a script, its interpreter): path and identity, so that
	 * discovery can look at the file even once the process is gone. */
	key.ino = BPF_CORE_READ(bprm, file, f_inode, i_ino);
	key.dev = BPF_CORE_READ(bprm, file, f_inode, i_sb, s_dev);
	s->hdr.conn_id = key.ino;
	s->hdr.call_id = key.dev;
	m = bpf_probe_read_kernel_str(s->data + n, EXE_PATH_MAX, BPF_CORE_READ(bprm, interp));
	if (m < 0)
		m = 0;
	s->hdr.rport = m;
	/* Only what the PID/UID filters let through (and never ecaptop itself). */
	if (hold_new && pass_filter(s->hdr.pid, s->hdr.uid) &&
	    !bpf_map_lookup_elem(&known_exes, &key)) {
		__u32 tgid = s->hdr.pid, zero = 0;
		__u32 *on = bpf_map_lookup_elem(&hold_on, &zero);
		__u64 now = now_ns();

		if (!on || !*on)
			goto out;
		/* Remember it first: a stop nobody knows of would never be undone. */
		if (!bpf_map_update_elem(&held, &tgid, &now, BPF_NOEXIST)) {
			if (!bpf_send_signal(SIGSTOP_))
				s->hdr.flags |= EC_F_HELD;
			else
				bpf_map_delete_elem(&held, &tgid);
		}
	}
out:
	s->hdr.len = n + m;
	output(ctx, s, n + m);
	return 0;
}

/* sched_process_fork(struct task_struct *parent, struct task_struct *child): a new
 * process (not a thread), reported as an EXEC with EC_F_FORK: a child that never execs
 * (a forking server's worker, a shell's subshell) is a process of its own, with its
 * parent's command line, and a pid the kernel reuses is told apart by its start. */
SEC("raw_tp/sched_process_fork")
int proc_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	struct scratch *s;

	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid))
		return 0;
	if (!pass_filter(bpf_get_current_pid_tgid() >> 32, (__u32)bpf_get_current_uid_gid()))
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	hdr_init(&s->hdr, EC_K_EXEC, EC_S_PROC);
	s->hdr.flags = EC_F_FORK;
	s->hdr.aux = s->hdr.pid; /* the parent: the task this runs in */
	s->hdr.pid = BPF_CORE_READ(child, tgid);
	s->hdr.tid = s->hdr.pid;
	put_identity(&s->hdr, child);
	output(ctx, s, 0);
	return 0;
}

/* cgroup_attach_task(struct cgroup *dst_cgrp, const char *path, struct task_struct *task,
 * bool threadgroup), after a move: a process that changes its cgroup v2 after its exec
 * (echo PID >cgroup.procs) is shown in the new one. Reported as an EXEC with
 * EC_F_MOVED. */
SEC("raw_tp/cgroup_attach_task")
int proc_cgroup_move(struct bpf_raw_tracepoint_args *ctx)
{
	struct cgroup *dst = (struct cgroup *)ctx->args[0];
	struct task_struct *task = (struct task_struct *)ctx->args[2];
	__u32 tgid = BPF_CORE_READ(task, tgid), uid = BPF_CORE_READ(task, cred, uid.val);
	struct scratch *s;

	/* Moves in cgroup v1 hierarchies fire too: only the v2 one is the task's dfl_cgrp. */
	if ((void *)BPF_CORE_READ(task, cgroups, dfl_cgrp) != (void *)dst)
		return 0;
	if (!pass_filter(tgid, uid))
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	hdr_init(&s->hdr, EC_K_EXEC, EC_S_PROC);
	s->hdr.flags = EC_F_MOVED;
	s->hdr.pid = tgid;
	s->hdr.tid = tgid;
	s->hdr.uid = uid;
	BPF_CORE_READ_STR_INTO(&s->hdr.comm, task, comm);
	put_identity(&s->hdr, task);
	output(ctx, s, 0);
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
