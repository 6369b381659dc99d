// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Queries as database servers see them, whatever the transport (TLS, Unix socket):
 * MySQL/MariaDB dispatch_command() and PostgreSQL exec_simple_query() or
 * pg_parse_query(). The query text is copied in full (split into records like
 * any payload).
 */
#include "common.bpf.h"

#include "emit.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* MySQL protocol command bytes (Client/Server Protocol: Text Protocol). */
#define COM_QUERY	 3
#define COM_STMT_PREPARE 22

static __always_inline int report_query(void *ctx, __u32 source, __u32 command, __u64 text,
					__u64 len)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct scratch *s;

	if (!text || !pass_filter(id >> 32, (__u32)bpf_get_current_uid_gid()))
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	hdr_init(&s->hdr, EC_K_QUERY, source);
	s->hdr.call_id = s->hdr.ts_ns;
	s->hdr.aux = command;
	emit_payload(ctx, s, text, len);
	return 0;
}

/* MariaDB and MySQL <= 5.6:
 * bool dispatch_command(enum enum_server_command command, THD *thd, char *packet,
 *                       uint packet_length, ...) */
SEC("uprobe")
int BPF_KPROBE(mysqld_dispatch_cmd_first, int command, void *thd, const char *packet,
	       unsigned int len)
{
	if (command != COM_QUERY && command != COM_STMT_PREPARE)
		return 0;
	return report_query(ctx, EC_S_MYSQLD, command, (__u64)packet, len);
}

/* MySQL 5.7 and 8: bool dispatch_command(THD *thd, const COM_DATA *com_data,
 * enum enum_server_command command); COM_DATA's com_query and com_stmt_prepare
 * both begin { const char *query; unsigned int length; }. */
SEC("uprobe")
int BPF_KPROBE(mysqld_dispatch_thd_first, void *thd, const void *com_data, int command)
{
	struct {
		__u64 query;
		__u32 length;
	} q = {};

	if (command != COM_QUERY && command != COM_STMT_PREPARE)
		return 0;
	if (bpf_probe_read_user(&q, sizeof(q), com_data))
		return 0;
	return report_query(ctx, EC_S_MYSQLD, command, q.query, q.length);
}

/* PostgreSQL: exec_simple_query(const char *query_string) or
 * List *pg_parse_query(const char *query_string): a NUL-terminated string. */
SEC("uprobe")
int BPF_KPROBE(postgres_query, const char *query)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct scratch *s;
	long n;

	if (!query || !pass_filter(id >> 32, (__u32)bpf_get_current_uid_gid()))
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	hdr_init(&s->hdr, EC_K_QUERY, EC_S_POSTGRES);
	s->hdr.call_id = s->hdr.ts_ns;
	n = bpf_probe_read_user_str(s->data, EC_CHUNK, query);
	if (n <= 1)
		return 0;
	if (n == EC_CHUNK) {
		/* The string goes on past one record: its length is unknown here. */
		s->hdr.flags |= EC_F_TRUNCATED;
		count_loss(EC_L_TRUNC, EC_S_POSTGRES);
	}
	s->hdr.len = n - 1;
	output(ctx, s, n - 1);
	return 0;
}
