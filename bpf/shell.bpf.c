// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Shell command lines: bash's readline() return and zsh's zleentry() return.
 * A command is reported as soon as it is entered; its exit status follows in a
 * status record (EC_F_STATUS, same call_id) when the shell next asks for a line,
 * read from the shell's own global (bash: last_command_exit_value, zsh: lastval).
 * The global's place is given per attachment as a cookie: its offset from the
 * executable's first code address (mm->start_code), which user space computes from
 * the ELF file; 0 means unknown.
 *
 * A shell already waiting at its prompt when the probes attach is inside a
 * readline()/zleentry() call whose return no uretprobe sees (a uretprobe takes hold
 * at the function's entry). Its line is taken where the accepted line passes after
 * Enter, inside that call: bash's rl_newline() (the accept-line command; the line is
 * in readline's rl_line_buffer global) and zsh's zlegetline() return (zleread()
 * turns the edited line into the string zleentry() returns). That path reports only
 * while the shell has not been seen entering readline()/zleentry() since attach, so
 * each command is reported once.
 */
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define CMD_MAX	     4096
#define ZLE_CMD_READ 1 /* zsh Src/zle.h: enum of zleentry commands */

struct shell_last {
	__u64 call_id; /* the command waiting for its status */
	__u32 source;
	__u32 pad;
};

/* Per process: the last command reported, until its status is known. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct shell_last);
} shell_pending SEC(".maps");

/* zleentry's command argument, from entry to return, per thread. LRU: a zsh killed
 * inside zleentry never returns. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u32);
} zle_cmd SEC(".maps");

/* Threads inside a readline() (bash) call whose entry was seen; zsh's zleentry()
 * calls are in zle_cmd. LRU: a shell killed at its prompt never returns. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} shell_inside SEC(".maps");

/* Shells (tgid) seen entering readline()/zleentry() since the probes attached: from
 * then on the return probes see every line, and the path for a call already in
 * progress is off. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} shell_seen SEC(".maps");

static __always_inline void mark_seen(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u8 one = 1;

	bpf_map_update_elem(&shell_seen, &tgid, &one, BPF_ANY);
}

/* need_nl: report only a line that ends in a newline (zleread() appends one to an
 * accepted line, not to an aborted one). 1 if a command was reported, else 0. */
static __always_inline int report_command(void *ctx, __u32 source, const char *line, bool need_nl)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct shell_last last = {};
	struct scratch *s;
	long n;

	if (!line || !pass_filter(tgid, (__u32)bpf_get_current_uid_gid()))
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	hdr_init(&s->hdr, EC_K_COMMAND, source);
	n = bpf_probe_read_user_str(s->data, CMD_MAX, line);
	if (n <= 1)
		return 0; /* an empty line is no command */
	if (need_nl && (n < 2 || n > CMD_MAX || s->data[(n - 2) & (CMD_MAX - 1)] != '\n'))
		return 0;
	s->hdr.len = n - 1;
	if (n == CMD_MAX) {
		s->hdr.flags |= EC_F_TRUNCATED;
		count_loss(EC_L_TRUNC, source);
	}
	s->hdr.call_id = s->hdr.ts_ns;
	output(ctx, s, n - 1);
	last.call_id = s->hdr.call_id;
	last.source = source;
	bpf_map_update_elem(&shell_pending, &tgid, &last, BPF_ANY);
	return 1;
}

/* The shell asks for the next line: the previous command has finished. */
static __always_inline int report_status(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct shell_last *last = bpf_map_lookup_elem(&shell_pending, &tgid);
	struct task_struct *task;
	struct scratch *s;
	__s64 off = 0;
	int status = 0;

	if (!last)
		return 0;
	if (has_cookie)
		off = (__s64)bpf_get_attach_cookie(ctx);
	s = scratch_get();
	if (!s || !off)
		goto out;
	task = (struct task_struct *)bpf_get_current_task();
	if (bpf_probe_read_user(&status, sizeof(status),
				(void *)(BPF_CORE_READ(task, mm, start_code) + off)))
		goto out;
	hdr_init(&s->hdr, EC_K_COMMAND, last->source);
	s->hdr.flags = EC_F_STATUS;
	s->hdr.call_id = last->call_id;
	s->hdr.aux = (__u32)status + 1;
	output(ctx, s, 0);
out:
	bpf_map_delete_elem(&shell_pending, &tgid);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(bash_readline_ret, const char *line)
{
	__u64 id = bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&shell_inside, &id);
	report_command(ctx, EC_S_BASH, line, false);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(bash_readline_enter)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u8 one = 1;

	bpf_map_update_elem(&shell_inside, &id, &one, BPF_ANY);
	mark_seen();
	return report_status(ctx);
}

/* int rl_newline(int count, int key): Enter in a readline() call. Only for a call
 * that began before the probes attached; the cookie is rl_line_buffer's offset from
 * mm->start_code. */
SEC("uprobe")
int BPF_KPROBE(bash_newline)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct task_struct *task;
	const char *line = NULL;
	__s64 off = 0;

	if (bpf_map_lookup_elem(&shell_inside, &id) || bpf_map_lookup_elem(&shell_seen, &tgid))
		return 0;
	if (has_cookie)
		off = (__s64)bpf_get_attach_cookie(ctx);
	if (!off)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	if (bpf_probe_read_user(&line, sizeof(line),
				(void *)(BPF_CORE_READ(task, mm, start_code) + off)))
		return 0;
	mark_seen();
	report_command(ctx, EC_S_BASH, line, false);
	return 0;
}

/* char *zleentry(int cmd, ...) */
SEC("uprobe")
int BPF_KPROBE(zsh_zleentry_enter, int cmd)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 c = cmd;

	if (cmd != ZLE_CMD_READ)
		return 0;
	bpf_map_update_elem(&zle_cmd, &id, &c, BPF_ANY);
	mark_seen();
	return report_status(ctx);
}

SEC("uretprobe")
int BPF_KRETPROBE(zsh_zleentry_ret, const char *line)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (!bpf_map_lookup_elem(&zle_cmd, &id))
		return 0;
	bpf_map_delete_elem(&zle_cmd, &id);
	report_command(ctx, EC_S_ZSH, line, false);
	return 0;
}

/* char *zlegetline(int *ll, int *cs), in the zle module: the accepted line of a
 * zleentry() call that began before the probes attached. */
SEC("uretprobe")
int BPF_KRETPROBE(zsh_zlegetline_ret, const char *line)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;

	if (bpf_map_lookup_elem(&zle_cmd, &id) || bpf_map_lookup_elem(&shell_seen, &tgid))
		return 0;
	/* Seen once the line is out: another caller's line (no newline) does not count. */
	if (report_command(ctx, EC_S_ZSH, line, true))
		mark_seen();
	return 0;
}
