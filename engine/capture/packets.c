// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Packet mode (packets.h). Attaching: a tcx link per interface and direction
 * (kernel 6.6+: the link dies with its last file descriptor, so a killed ecaptop
 * leaves nothing), or with --tc-classic / where tcx is missing a clsact qdisc and
 * cls_bpf filters at a fixed handle and priority, which outlive a killed process:
 * the next start (and --check) finds them by that handle and the program's name
 * and removes them, and the clsact qdiscs ecaptop made (remembered in
 * /run/ecaptop/clsact-*).
 */
#include "engine/capture/packets.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/packets.h"
#include "engine/capture/engine_int.h"
#include "engine/capture/keylog.h"
#include "engine/file/pcapng.h"
#include "engine/file/pcapng_pkt.h"
#include "engine/log.h"
#include "packets.skel.h"
#include "tls.skel.h"

#define MAX_IFS	       64
#define HOLD_BYTES_MAX (64u << 20) /* packets held for ordering: beyond, the oldest go */
#define PKT_RING_BYTES (32u << 20)
#define TC_HANDLE      0xec
#define TC_PRIO	       0xec
#define TCX_INGRESS    46 /* enum bpf_attach_type (kernel 6.6): not in older uapi headers */
#define TCX_EGRESS     47
#define STATE_DIR      "/run/ecaptop"
#define PROG_PREFIX    "ecpkt_"
#define CACHE_SLOTS    512
#define HELLOS	       4096 /* ClientHello randoms of captured packets remembered */
#define PENDING	       1024 /* secrets waiting for their ClientHello */

struct pkt_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	uint16_t linktype;
	int id;		  /* interface id in the file */
	int link_fd[2];	  /* tcx links: ingress, egress (-1: none) */
	bool classic[2];  /* clsact filters attached */
	bool made_qdisc;  /* the clsact qdisc is ours */
	uint64_t written; /* per-interface, for the statistics block */
};

struct held {
	uint64_t ts; /* Unix-epoch ns */
	struct ec_pkt *rec;
	size_t size;
};

struct proc_info {
	uint32_t pid;
	char comm[EC_COMM_LEN_PKT];
	char *args, *cgroup;
};

struct packets {
	struct engine *e;
	struct packets_bpf *skel;
	struct ring_buffer *rb; /* the packets' own, read at each tick */
	uint64_t final_bytes;	/* read by the final tick: at most a ring's worth */
	bool final;
	struct bpf_link *enter, *exit;
	struct pkt_iface ifs[MAX_IFS];
	size_t n_ifs;
	struct pcapng_pkt_filter *filt[2]; /* -f for Ethernet [0] and raw IP [1] */
	struct pcapng_pkt_writer *w;
	char *path;
	bool write_failed;
	struct held *heap; /* min-heap on ts */
	size_t n, cap, held_bytes;
	uint64_t last_ts, last_flush_ms;
	/* secrets already written (two hashes per line, as keylog.c) */
	uint64_t *seen_keys;
	size_t n_keys, cap_keys;
	/* Only the secrets of connections whose ClientHello was captured (kept by the
	 * filters) go into the file: the randoms seen (a ring), and the secrets that
	 * came first (their ClientHello still on its way through the ring buffer). */
	uint8_t (*hellos)[32];
	size_t n_hellos, next_hello;
	struct ec_keylog *pending;
	size_t n_pending, next_pending;
	uint64_t secrets_other;
	struct proc_info cache[CACHE_SLOTS];
	/* Counters written by the engine thread, read by packets_stats. */
	atomic_uint_fast64_t captured, written, unattributed, filtered_pcap, lost_user, secrets,
	    out_of_order;
};

/* Read a small file whole, NUL-terminated; bytes read or -1. */
static ssize_t slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, t = 0;

	if (fd < 0)
		return -1;
	while ((size_t)t < len - 1 && (n = read(fd, buf + t, len - 1 - (size_t)t)) > 0)
		t += n;
	close(fd);
	buf[t] = '\0';
	return t;
}

/* ---- interfaces ---- */

static int read_int_file(const char *path, long *v)
{
	char buf[32];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	*v = strtol(buf, NULL, 0);
	return 0;
}

/* Link type and header length of an interface; -1 for one we cannot read. */
static int iface_kind(const char *name, uint16_t *linktype, uint32_t *l2, bool *loopback)
{
	char path[128];
	long type;

	snprintf(path, sizeof(path), "/sys/class/net/%s/type", name);
	if (read_int_file(path, &type))
		return -1;
	*loopback = type == 772; /* ARPHRD_LOOPBACK */
	if (type == 1 || type == 772) {
		*linktype = PCAPNG_LINKTYPE_ETHERNET;
		*l2 = 14;
		return 0;
	}
	if (type == 65534) { /* ARPHRD_NONE: tun, wireguard */
		*linktype = PCAPNG_LINKTYPE_RAW;
		*l2 = 0;
		return 0;
	}
	return -1;
}

static bool iface_up(const char *name)
{
	char path[128];
	long flags;

	snprintf(path, sizeof(path), "/sys/class/net/%s/flags", name);
	return !read_int_file(path, &flags) && (flags & 1); /* IFF_UP */
}

static int add_iface(struct packets *p, const char *name, bool named, char *err, size_t errlen)
{
	struct ec_pkt_if v = {0};
	struct pkt_iface *f;
	uint16_t lt;
	uint32_t l2;
	bool lo;
	int idx = (int)if_nametoindex(name), fd;
	size_t i;

	if (!idx) {
		snprintf(err, errlen, "no interface '%s' (ip link lists them)", name);
		return -ENODEV;
	}
	for (i = 0; i < p->n_ifs; i++)
		if (p->ifs[i].ifindex == idx)
			return 0;
	if (iface_kind(name, &lt, &l2, &lo)) {
		if (named) {
			snprintf(
			    err, errlen,
			    "interface '%s': its link type is not Ethernet, loopback or raw IP",
			    name);
			return -EINVAL;
		}
		log_msg(LOG_INFO, "packets: %s skipped (link type not Ethernet or raw IP)", name);
		return 0;
	}
	if (p->n_ifs == MAX_IFS) {
		snprintf(err, errlen, "at most %d interfaces", MAX_IFS);
		return -E2BIG;
	}
	f = &p->ifs[p->n_ifs++];
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->ifindex = idx;
	f->linktype = lt;
	f->link_fd[0] = f->link_fd[1] = -1;
	f->id = -1;
	v.l2_len = l2;
	v.loopback = lo;
	fd = bpf_map__fd(p->skel->maps.pkt_ifs);
	if (bpf_map_update_elem(fd, &idx, &v, BPF_ANY)) {
		snprintf(err, errlen, "cannot add interface %s: %s", name, strerror(errno));
		return -errno;
	}
	return 0;
}

static int pick_ifaces(struct packets *p, const char *list, char *err, size_t errlen)
{
	struct if_nameindex *all, *i;
	int ret = 0;

	if (list) {
		char *copy = strdup(list), *tok, *save = NULL;

		if (!copy)
			return -ENOMEM;
		for (tok = strtok_r(copy, ",", &save); tok && !ret;
		     tok = strtok_r(NULL, ",", &save))
			ret = add_iface(p, tok, true, err, errlen);
		free(copy);
		if (!ret && !p->n_ifs) {
			snprintf(err, errlen, "-i names no interface");
			ret = -EINVAL;
		}
		return ret;
	}
	all = if_nameindex();
	if (!all) {
		snprintf(err, errlen, "cannot list the interfaces: %s", strerror(errno));
		return -errno;
	}
	for (i = all; i->if_index && !ret; i++)
		if (iface_up(i->if_name))
			ret = add_iface(p, i->if_name, false, err, errlen);
	if_freenameindex(all);
	if (!ret && !p->n_ifs) {
		snprintf(err, errlen, "no interface is up");
		ret = -ENODEV;
	}
	return ret;
}

/* ---- attaching ---- */

static int tcx_attach(int prog_fd, int ifindex, int type)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (uint32_t)prog_fd;
	a.link_create.target_ifindex = (uint32_t)ifindex;
	a.link_create.attach_type = (uint32_t)type;
	return (int)syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));
}

/*
 * Classic filters outlive their process. Each interface ecaptop puts them on has a
 * marker, STATE_DIR/tc-IFNAME, holding "PID STARTTIME MADE_QDISC": the next start
 * or --check removes the filters (and the clsact qdisc, where ecaptop made it) of
 * a marker whose process is gone, and leaves those of a running ecaptop alone.
 */
static void marker_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, STATE_DIR "/tc-%s", name);
}

/* The start time of pid (field 22 of /proc/PID/stat), 0 if it is gone or exiting
 * (a killed ecaptop stays a while in the process table while its probes go). */
static unsigned long long start_time(pid_t pid)
{
	char path[64], buf[1024], *c, *f[23] = {0};
	unsigned long long flags;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (slurp(path, buf, sizeof(buf)) <= 0 || !(c = strrchr(buf, ')')))
		return 0;
	/* After "(comm)": field 3 (state) onwards, one space apart. */
	for (i = 3; i <= 22 && (c = strchr(c + 1, ' ')); i++)
		f[i] = c + 1;
	if (!f[22] || *f[3] == 'Z' || *f[3] == 'X')
		return 0;
	flags = strtoull(f[9], NULL, 10);
	if (flags & 0x4) /* PF_EXITING */
		return 0;
	return strtoull(f[22], NULL, 10);
}

static void marker_write(const struct pkt_iface *f)
{
	char path[PATH_MAX], line[96];
	int fd, n;

	mkdir(STATE_DIR, 0700);
	marker_path(path, sizeof(path), f->name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_msg(LOG_WARN,
			"packets: cannot write %s: %s (a kill would leave the %s "
			"filters for tc to remove)",
			path, strerror(errno), f->name);
		return;
	}
	n = snprintf(line, sizeof(line), "%d %llu %d\n", (int)getpid(), start_time(getpid()),
		     f->made_qdisc);
	if (write(fd, line, (size_t)n) != n)
		log_msg(LOG_WARN, "packets: cannot write %s", path);
	close(fd);
}

static int classic_attach(struct packets *p, struct pkt_iface *f)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = f->ifindex,
			    .attach_point = BPF_TC_INGRESS);
	int progs[2] = {bpf_program__fd(p->skel->progs.ecpkt_ingress),
			bpf_program__fd(p->skel->progs.ecpkt_egress)};
	int r, d;

	r = bpf_tc_hook_create(&hook);
	if (r && r != -EEXIST)
		return r;
	f->made_qdisc = !r;
	for (d = 0; d < 2; d++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, q, .handle = TC_HANDLE, .priority = TC_PRIO);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = TC_HANDLE, .priority = TC_PRIO,
				    .prog_fd = progs[d]);

		hook.attach_point = d ? BPF_TC_EGRESS : BPF_TC_INGRESS;
		/* Never replace the filters of another ecaptop that runs. */
		if (!bpf_tc_query(&hook, &q))
			return -EBUSY;
		r = bpf_tc_attach(&hook, &o);
		if (r)
			return r;
		f->classic[d] = true;
		marker_write(f);
	}
	return 0;
}

/* Remove our filters (and the qdisc if made) from ifindex. */
static void classic_remove(int ifindex, const bool which[2], bool qdisc)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex);
	int d;

	for (d = 0; d < 2; d++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = TC_HANDLE, .priority = TC_PRIO);

		if (!which[d])
			continue;
		hook.attach_point = d ? BPF_TC_EGRESS : BPF_TC_INGRESS;
		bpf_tc_detach(&hook, &o);
	}
	if (qdisc) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
}

static void classic_detach(struct pkt_iface *f)
{
	char path[PATH_MAX];

	if (!f->classic[0] && !f->classic[1])
		return;
	classic_remove(f->ifindex, f->classic, f->made_qdisc);
	f->classic[0] = f->classic[1] = false;
	marker_path(path, sizeof(path), f->name);
	unlink(path);
}

/* Is the program with this id one of ours? */
static bool prog_is_ours(uint32_t id)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);
	bool ours;

	if (fd < 0)
		return false;
	memset(&info, 0, sizeof(info));
	ours = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
	       !strncmp(info.name, PROG_PREFIX, strlen(PROG_PREFIX));
	close(fd);
	return ours;
}

static void say(FILE *out, const char *fmt, const char *a, const char *b)
{
	char line[256];

	snprintf(line, sizeof(line), fmt, a, b);
	if (out)
		fprintf(out, "%s\n", line);
	else
		log_msg(LOG_WARN, "%s", line);
}

int packets_cleanup_leftovers(FILE *out)
{
	DIR *dir = opendir(STATE_DIR);
	struct dirent *de;
	libbpf_print_fn_t old;
	int removed = 0, d;

	if (!dir)
		return 0;
	/* An interface without a clsact qdisc makes libbpf warn at each query. */
	old = libbpf_set_print(NULL);
	while ((de = readdir(dir))) {
		unsigned long long st = 0;
		char path[PATH_MAX], buf[96];
		const char *name = de->d_name + 3;
		bool which[2] = {false, false};
		int pid = 0, made = 0, ifindex;

		if (strncmp(de->d_name, "tc-", 3))
			continue;
		snprintf(path, sizeof(path), STATE_DIR "/%s", de->d_name);
		if (slurp(path, buf, sizeof(buf)) <= 0 ||
		    sscanf(buf, "%d %llu %d", &pid, &st, &made) != 3)
			pid = 0;
		if (pid > 0 && st && start_time(pid) == st)
			continue; /* its ecaptop runs */
		ifindex = (int)if_nametoindex(name);
		for (d = 0; ifindex && d < 2; d++) {
			DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex);
			DECLARE_LIBBPF_OPTS(bpf_tc_opts, q, .handle = TC_HANDLE,
					    .priority = TC_PRIO);

			hook.attach_point = d ? BPF_TC_EGRESS : BPF_TC_INGRESS;
			which[d] = !bpf_tc_query(&hook, &q) && prog_is_ours(q.prog_id);
			if (which[d]) {
				say(out,
				    "packets: removed the %s %s classifier a killed ecaptop left",
				    name, d ? "egress" : "ingress");
				removed++;
			}
		}
		if (ifindex) {
			classic_remove(ifindex, which, made);
			if (made) {
				say(out,
				    "packets: removed the clsact qdisc of %s a killed ecaptop%s",
				    name, " made");
				removed++;
			}
		}
		unlink(path);
	}
	libbpf_set_print(old);
	closedir(dir);
	return removed;
}

static int attach_ifaces(struct packets *p, char *err, size_t errlen)
{
	int progs[2] = {bpf_program__fd(p->skel->progs.ecpkt_ingress),
			bpf_program__fd(p->skel->progs.ecpkt_egress)};
	bool classic = p->e->opts.tc_classic;
	size_t i;
	int d, r;

	for (i = 0; i < p->n_ifs; i++) {
		struct pkt_iface *f = &p->ifs[i];

		for (d = 0; d < 2 && !classic; d++) {
			f->link_fd[d] =
			    tcx_attach(progs[d], f->ifindex, d ? TCX_EGRESS : TCX_INGRESS);
			if (f->link_fd[d] >= 0)
				continue;
			if (i || d) {
				r = -errno;
				snprintf(err, errlen, "cannot attach to %s: %s", f->name,
					 strerror(-r));
				return r;
			}
			log_msg(LOG_INFO,
				"packets: no tcx links in this kernel (%s): clsact filters used",
				strerror(errno));
			classic = true;
		}
		if (classic && (r = classic_attach(p, f))) {
			snprintf(err, errlen, "cannot add the clsact filters to %s: %s", f->name,
				 r == -EBUSY ? "another ecaptop --tc-classic has its filters there"
					     : strerror(-r));
			return r;
		}
	}
	log_msg(LOG_INFO, "packets: %zu interface%s, %s", p->n_ifs, p->n_ifs == 1 ? "" : "s",
		classic ? "clsact filters (removed at exit; by the next start after a kill)"
			: "tcx links");
	return 0;
}

/* ---- processes: the comment's Args: and Cgroup: lines ---- */

static struct proc_info *proc_info(struct packets *p, uint32_t pid, const char *comm)
{
	struct proc_info *pi = &p->cache[pid % CACHE_SLOTS];
	char path[64], buf[1024], *c;
	ssize_t n, i;

	if (pi->pid == pid && !strncmp(pi->comm, comm, sizeof(pi->comm)))
		return pi;
	free(pi->args);
	free(pi->cgroup);
	memset(pi, 0, sizeof(*pi));
	pi->pid = pid;
	memcpy(pi->comm, comm, sizeof(pi->comm));
	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	n = slurp(path, buf, sizeof(buf));
	while (n > 0 && !buf[n - 1])
		n--;
	for (i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	if (n > 0) {
		buf[n] = '\0';
		pi->args = strdup(buf);
	}
	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	if (slurp(path, buf, sizeof(buf)) > 0 && (c = strstr(buf, "0::"))) {
		c += 3;
		c[strcspn(c, "\n")] = '\0';
		pi->cgroup = strdup(c);
	}
	return pi;
}

/* Append s to the comment with \\, \n and non-printable bytes escaped. */
static size_t put_escaped(char *o, size_t at, size_t len, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && s[i] && at + 5 < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\\')
			at += (size_t)snprintf(o + at, len - at, "\\\\");
		else if (ch < 32 || ch >= 127)
			at += (size_t)snprintf(o + at, len - at, "\\x%02x", ch);
		else
			o[at++] = (char)ch;
	}
	o[at] = '\0';
	return at;
}

#define ADD(...)                                                                                   \
	(at += (size_t)snprintf(o + at, at < len ? len - at : 0, __VA_ARGS__),                     \
	 at = at < len ? at : len - 1)

static const char *why_text(uint8_t why)
{
	switch (why) {
	case EC_PKT_NO_SOCK:
		return "no local socket";
	case EC_PKT_NO_OWNER:
		return "its socket was not seen in a system call yet";
	case EC_PKT_NOT_IP:
		return "not IP";
	case EC_PKT_CLOSED:
		return "its socket is closed (TIME_WAIT)";
	}
	return "unknown";
}

/* The packet's comment (ptcpdump's lines, as engine/file/pcapng.h's). */
static size_t comment(struct packets *p, const struct ec_pkt *r, const char *ifname, char *o,
		      size_t len)
{
	size_t at = 0;

	o[0] = '\0';
	if (r->why == EC_PKT_OWNER) {
		struct proc_info *pi = proc_info(p, r->owner.pid, r->owner.comm);

		ADD("PID: %u\nCmd: ", r->owner.pid);
		at = put_escaped(o, at, len, r->owner.comm, sizeof(r->owner.comm));
		if (pi->args) {
			ADD("\nArgs: ");
			at = put_escaped(o, at, len, pi->args, strlen(pi->args));
		}
		ADD("\nUID: %u\nTID: %u\n", r->owner.uid, r->owner.tid);
		if (pi->cgroup) {
			ADD("Cgroup: ");
			at = put_escaped(o, at, len, pi->cgroup, strlen(pi->cgroup));
			ADD("\n");
		}
	} else {
		ADD("PID: unknown (%s)\n", why_text(r->why));
	}
	ADD("Iface: %s\nDir: %s\n", ifname, r->dir == EC_PKT_EGRESS ? "send" : "recv");
	if (r->dir == EC_PKT_EGRESS && r->peer_why == EC_PKT_OWNER && r->peer.pid) {
		ADD("Peer PID: %u\nPeer Cmd: ", r->peer.pid);
		at = put_escaped(o, at, len, r->peer.comm, sizeof(r->peer.comm));
		ADD("\n");
	}
	return at;
}

/* ---- the hold (min-heap on time) ---- */

static void heap_swap(struct held *a, struct held *b)
{
	struct held t = *a;

	*a = *b;
	*b = t;
}

static int heap_push(struct packets *p, struct held h)
{
	size_t i;

	if (p->n == p->cap) {
		size_t nc = p->cap ? 2 * p->cap : 1024;
		struct held *nh = realloc(p->heap, nc * sizeof(*nh));

		if (!nh)
			return -ENOMEM;
		p->heap = nh;
		p->cap = nc;
	}
	i = p->n++;
	p->heap[i] = h;
	while (i && p->heap[(i - 1) / 2].ts > p->heap[i].ts) {
		heap_swap(&p->heap[(i - 1) / 2], &p->heap[i]);
		i = (i - 1) / 2;
	}
	p->held_bytes += h.size;
	return 0;
}

static struct held heap_pop(struct packets *p)
{
	struct held top = p->heap[0];
	size_t i = 0;

	p->heap[0] = p->heap[--p->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < p->n && p->heap[l].ts < p->heap[m].ts)
			m = l;
		if (r < p->n && p->heap[r].ts < p->heap[m].ts)
			m = r;
		if (m == i)
			break;
		heap_swap(&p->heap[i], &p->heap[m]);
		i = m;
	}
	p->held_bytes -= top.size;
	return top;
}

static struct pkt_iface *iface_of(struct packets *p, uint32_t ifindex)
{
	size_t i;

	for (i = 0; i < p->n_ifs; i++)
		if ((uint32_t)p->ifs[i].ifindex == ifindex)
			return &p->ifs[i];
	return NULL;
}

/* Write one packet to the file and queue its event. Takes h.rec. */
static void emit(struct packets *p, struct held h)
{
	const struct ec_pkt *r = h.rec;
	struct pkt_iface *f = iface_of(p, r->ifindex);
	char text[2048];
	struct ec_event *ev;
	size_t n;
	int ret;

	if (!f) { /* checked at arrival */
		free(h.rec);
		return;
	}
	if (h.ts < p->last_ts)
		atomic_fetch_add_explicit(&p->out_of_order, 1, memory_order_relaxed);
	else
		p->last_ts = h.ts;
	n = comment(p, r, f->name, text, sizeof(text));
	if (p->w && !p->write_failed) {
		ret = pcapng_pkt_add_packet(
		    p->w, (uint32_t)f->id, h.ts, r + 1, r->cap_len, r->wire_len,
		    r->dir == EC_PKT_EGRESS ? PCAPNG_EPB_OUTBOUND : PCAPNG_EPB_INBOUND, text);
		if (ret) {
			log_msg(LOG_ERROR, "packets: writing %s failed: %s (recording stopped)",
				p->path, strerror(-ret));
			p->write_failed = true;
		}
	}
	f->written++;
	atomic_fetch_add_explicit(&p->written, 1, memory_order_relaxed);
	if (r->why != EC_PKT_OWNER)
		atomic_fetch_add_explicit(&p->unattributed, 1, memory_order_relaxed);
	ev = ec_event_new((uint32_t)n);
	if (!ev) {
		atomic_fetch_add_explicit(&p->lost_user, 1, memory_order_relaxed);
		free(h.rec);
		return;
	}
	ev->h.kind = EC_K_PACKET;
	ev->h.source = EC_S_NONE;
	ev->h.ts_ns = h.ts;
	if (r->why == EC_PKT_OWNER) {
		ev->h.pid = r->owner.pid;
		ev->h.tid = r->owner.tid;
		ev->h.uid = r->owner.uid;
		memcpy(ev->h.comm, r->owner.comm, sizeof(ev->h.comm));
	} else {
		ev->h.flags |= EC_F_NO_SOCKET;
	}
	ev->h.dir = r->dir == EC_PKT_EGRESS ? EC_DIR_SEND : EC_DIR_RECV;
	ev->h.family = r->family;
	/* Local end: the source of what is sent, the destination of what arrives. */
	if (r->dir == EC_PKT_EGRESS) {
		ev->h.lport = r->sport;
		ev->h.rport = r->dport;
		memcpy(ev->h.laddr, r->saddr, 16);
		memcpy(ev->h.raddr, r->daddr, 16);
	} else {
		ev->h.lport = r->dport;
		ev->h.rport = r->sport;
		memcpy(ev->h.laddr, r->daddr, 16);
		memcpy(ev->h.raddr, r->saddr, 16);
	}
	ev->h.conn_id = r->sock_ino;
	ev->h.call_id = r->ifindex;
	ev->h.aux = r->wire_len;
	memcpy(ev->data, text, n);
	free(h.rec);
	if (!evq_push(&p->e->q, ev)) /* frees ev */
		atomic_fetch_add_explicit(&p->lost_user, 1, memory_order_relaxed);
}

static void note_hello(struct packets *p, const uint8_t *pkt, uint32_t len, uint16_t linktype);

/* Engine thread: one record of the packet ring buffer. */
static int on_packet(void *ctx, void *data, size_t size)
{
	struct packets *p = ctx;
	struct ec_pkt r;
	struct pkt_iface *f;
	struct held h;
	int k;

	if (p->final && (p->final_bytes += size) > PKT_RING_BYTES)
		return -ECANCELED; /* traffic goes on: the stop takes what was there */
	atomic_fetch_add_explicit(&p->captured, 1, memory_order_relaxed);
	if (size < sizeof(r)) {
		atomic_fetch_add_explicit(&p->lost_user, 1, memory_order_relaxed);
		return 0;
	}
	memcpy(&r, data, sizeof(r));
	f = iface_of(p, r.ifindex);
	if (!f || r.cap_len > EC_PKT_SNAP || sizeof(r) + r.cap_len > size ||
	    r.cap_len > r.wire_len) {
		atomic_fetch_add_explicit(&p->lost_user, 1, memory_order_relaxed);
		return 0;
	}
	k = f->linktype == PCAPNG_LINKTYPE_RAW;
	if (p->filt[k]) {
		if (!pcapng_pkt_filter_match(p->filt[k], (const uint8_t *)data + sizeof(r),
					     r.cap_len, r.wire_len)) {
			atomic_fetch_add_explicit(&p->filtered_pcap, 1, memory_order_relaxed);
			return 0;
		}
	}
	note_hello(p, (const uint8_t *)data + sizeof(r), r.cap_len, f->linktype);
	/* The command line now: a short-lived client is gone when the packet leaves
	 * the hold. */
	if (r.why == EC_PKT_OWNER)
		proc_info(p, r.owner.pid, r.owner.comm);
	h.ts = (uint64_t)((int64_t)r.ts_ns + p->e->clock_offset_ns);
	h.size = sizeof(r) + r.cap_len;
	h.rec = malloc(h.size);
	if (!h.rec) {
		atomic_fetch_add_explicit(&p->lost_user, 1, memory_order_relaxed);
		return 0;
	}
	memcpy(h.rec, data, h.size);
	if (heap_push(p, h)) {
		free(h.rec);
		atomic_fetch_add_explicit(&p->lost_user, 1, memory_order_relaxed);
		return 0;
	}
	/* Memory is bounded: past the limit the oldest go now (order may then slip,
	 * counted as out_of_order). */
	while (p->held_bytes > HOLD_BYTES_MAX && p->n)
		emit(p, heap_pop(p));
	return 0;
}

size_t packets_tick(struct packets *p, bool final)
{
	uint64_t now = (uint64_t)ts_ns(CLOCK_REALTIME), limit, ms;
	size_t n = 0;

	if (!p)
		return 0;
	/* A ring buffer of its own, read here rather than in the engine's poll: the
	 * other sources' callbacks (one that ends a stop's drain early) never keep
	 * packets from being read. */
	p->final = final;
	if (p->rb)
		ring_buffer__consume(p->rb);
	limit = final ? UINT64_MAX : now - (uint64_t)PACKETS_HOLD_MS * 1000000;
	for (; p->n && p->heap[0].ts <= limit; n++)
		emit(p, heap_pop(p));
	ms = mono_ms();
	if (p->w && !p->write_failed && (final || ms - p->last_flush_ms >= RECORD_FLUSH_MS)) {
		p->last_flush_ms = ms;
		if (pcapng_pkt_flush(p->w)) {
			log_msg(LOG_ERROR, "packets: writing %s failed (recording stopped)",
				p->path);
			p->write_failed = true;
		}
	}
	return n;
}

/* ---- secrets ---- */

static uint64_t fnv(const char *s, size_t n, uint64_t h)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static bool hello_seen(const struct packets *p, const uint8_t *random, uint32_t len)
{
	size_t i;

	if (len != 32)
		return false;
	for (i = 0; i < p->n_hellos; i++)
		if (!memcmp(p->hellos[i], random, 32))
			return true;
	return false;
}

/* Write k's line as a Decryption Secrets Block, once. */
static void write_secret(struct packets *p, const struct ec_keylog *k)
{
	char line[EC_KEYLOG_LABEL + 2 * EC_KEYLOG_RANDOM + 2 * EC_KEYLOG_SECRET + 4];
	uint64_t a, b;
	size_t i;
	int n;

	n = keylog_format(k, line, sizeof(line));
	if (n < 0)
		return; /* counted by the key-log path */
	a = fnv(line, (size_t)n, 0xcbf29ce484222325ull);
	b = fnv(line, (size_t)n, 0x84222325cbf29ce4ull);
	for (i = 0; i + 1 < p->n_keys; i += 2)
		if (p->seen_keys[i] == a && p->seen_keys[i + 1] == b)
			return;
	if (p->n_keys + 2 > p->cap_keys) {
		size_t nc = p->cap_keys ? 2 * p->cap_keys : 256;
		uint64_t *nk = realloc(p->seen_keys, nc * sizeof(*nk));

		if (!nk) {
			atomic_fetch_add_explicit(&p->lost_user, 1, memory_order_relaxed);
			return;
		}
		p->seen_keys = nk;
		p->cap_keys = nc;
	}
	p->seen_keys[p->n_keys++] = a;
	p->seen_keys[p->n_keys++] = b;
	/* Written now, ahead of every packet still held: a connection's secrets are
	 * read before its encrypted packets leave the hold. */
	if (p->w && !p->write_failed && pcapng_pkt_add_secrets(p->w, line, (size_t)n)) {
		log_msg(LOG_ERROR, "packets: writing %s failed (recording stopped)", p->path);
		p->write_failed = true;
	}
	atomic_fetch_add_explicit(&p->secrets, 1, memory_order_relaxed);
}

/* A packet kept: remember its ClientHello's random, and write the secrets that
 * were waiting for it. */
static void note_hello(struct packets *p, const uint8_t *pkt, uint32_t len, uint16_t linktype)
{
	uint8_t random[32];
	size_t i, j;

	if (!pcapng_pkt_client_random(pkt, len, linktype, random) || hello_seen(p, random, 32))
		return;
	memcpy(p->hellos[p->next_hello], random, 32);
	p->next_hello = (p->next_hello + 1) % HELLOS;
	if (p->n_hellos < HELLOS)
		p->n_hellos++;
	for (i = j = 0; i < p->n_pending; i++) {
		if (p->pending[i].random_len == 32 && !memcmp(p->pending[i].random, random, 32))
			write_secret(p, &p->pending[i]);
		else
			p->pending[j++] = p->pending[i];
	}
	p->n_pending = j;
	p->next_pending = j % PENDING;
}

void packets_secret(struct packets *p, const struct ec_keylog *k)
{
	if (!p)
		return;
	if (hello_seen(p, k->random, k->random_len)) {
		write_secret(p, k);
		return;
	}
	/* Its ClientHello may still be in the ring buffer; a secret never matched is
	 * another connection's (one the filters left out, or another interface's). */
	if (p->n_pending == PENDING)
		p->secrets_other++; /* the oldest goes */
	p->pending[p->next_pending] = *k;
	p->next_pending = (p->next_pending + 1) % PENDING;
	if (p->n_pending < PENDING)
		p->n_pending++;
}

/* ---- owners of sockets opened before us ---- */

/* Every process's socket fds, into pkt_owners, so packets of connections (and
 * listeners) older than ecaptop are attributed before their next system call. */
static void seed_owners(struct packets *p)
{
	int map = bpf_map__fd(p->skel->maps.pkt_owners);
	DIR *proc = opendir("/proc"), *fds;
	struct dirent *de, *fe;
	size_t n = 0;

	while (proc && (de = readdir(proc))) {
		struct ec_pkt_owner o = {0};
		char path[300], link[64];
		struct stat st;
		uint32_t pid;
		ssize_t l;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid = (uint32_t)strtoul(de->d_name, NULL, 10);
		if (pid == (uint32_t)getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%u/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		o.pid = o.tid = pid;
		snprintf(path, sizeof(path), "/proc/%u", pid);
		if (!stat(path, &st))
			o.uid = st.st_uid;
		snprintf(path, sizeof(path), "/proc/%u/comm", pid);
		if (slurp(path, link, sizeof(link)) > 0) {
			link[strcspn(link, "\n")] = '\0';
			memcpy(o.comm, link, strnlen(link, sizeof(o.comm) - 1));
		}
		while ((fe = readdir(fds))) {
			uint64_t ino;

			snprintf(path, sizeof(path), "/proc/%u/fd/%s", pid, fe->d_name);
			l = readlink(path, link, sizeof(link) - 1);
			if (l <= 0)
				continue;
			link[l] = '\0';
			if (strncmp(link, "socket:[", 8))
				continue;
			ino = strtoull(link + 8, NULL, 10);
			/* What the kernel learnt since the start is newer: keep it. */
			if (!bpf_map_update_elem(map, &ino, &o, BPF_NOEXIST))
				n++;
		}
		closedir(fds);
	}
	if (proc)
		closedir(proc);
	log_msg(LOG_DEBUG, "packets: %zu sockets of running processes known", n);
}

/* ---- life ---- */

static int share_filter_maps(struct packets *p, struct bpf_object *from)
{
	static const char *const names[] = {"filter_on", "pid_filter", "uid_filter",
					    "cgroup_filter", "cgroup_on"};
	size_t i;
	int r;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct bpf_map *src = bpf_object__find_map_by_name(from, names[i]);
		struct bpf_map *dst = bpf_object__find_map_by_name(p->skel->obj, names[i]);

		if (!src || !dst)
			return -ENOENT;
		r = bpf_map__reuse_fd(dst, bpf_map__fd(src));
		if (r)
			return r;
	}
	return 0;
}

static int compile_filter(struct packets *p, const char *expr, char *err, size_t errlen)
{
	static const int lts[2] = {PCAPNG_LINKTYPE_ETHERNET, PCAPNG_LINKTYPE_RAW};
	size_t i;
	int k;

	for (k = 0; k < 2; k++) {
		bool used = false;

		for (i = 0; i < p->n_ifs; i++)
			used |= (p->ifs[i].linktype == PCAPNG_LINKTYPE_RAW) == (k == 1);
		if (!used)
			continue;
		p->filt[k] =
		    pcapng_pkt_filter_new(expr, (uint16_t)lts[k], EC_PKT_SNAP, err, errlen);
		if (!p->filt[k])
			return -EINVAL;
	}
	return 0;
}

struct packets *packets_new(struct engine *e, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = e->opts.btf_path);
	struct packets *p;
	char note[1024];
	size_t i, n;
	int ncpu, r;

	if (!e->ringbuf) {
		snprintf(err, errlen,
			 "--packets needs the BPF ring buffer (no --perf-buffer; "
			 "kernel 5.8 or later)");
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->e = e;
	p->hellos = calloc(HELLOS, sizeof(*p->hellos));
	p->pending = calloc(PENDING, sizeof(*p->pending));
	if (!p->hellos || !p->pending) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	p->skel = packets_bpf__open_opts(&oo);
	if (!p->skel) {
		snprintf(err, errlen, "cannot open the packet programs: %s", strerror(errno));
		goto fail;
	}
	ncpu = libbpf_num_possible_cpus();
	p->skel->rodata->use_boot_ns = !e->deg.no_boot_ns;
	p->skel->rodata->has_ancestor_cgroup = !e->deg.no_ancestor_cgroup;
	p->skel->rodata->n_cpus = (uint32_t)(ncpu > 0 ? ncpu : 1);
	p->skel->rodata->nr_read = SYS_read;
	p->skel->rodata->nr_write = SYS_write;
	p->skel->rodata->nr_readv = SYS_readv;
	p->skel->rodata->nr_writev = SYS_writev;
	p->skel->rodata->nr_sendto = SYS_sendto;
	p->skel->rodata->nr_recvfrom = SYS_recvfrom;
	p->skel->rodata->nr_sendmsg = SYS_sendmsg;
	p->skel->rodata->nr_recvmsg = SYS_recvmsg;
	p->skel->rodata->nr_connect = SYS_connect;
	p->skel->rodata->nr_accept = SYS_accept;
	p->skel->rodata->nr_accept4 = SYS_accept4;
	p->skel->rodata->nr_listen = SYS_listen;
	p->skel->rodata->nr_bind = SYS_bind;
	p->skel->rodata->nr_sendmmsg = SYS_sendmmsg;
	p->skel->rodata->nr_recvmmsg = SYS_recvmmsg;
	p->skel->rodata->nr_shutdown = SYS_shutdown;
	r = bpf_map__set_max_entries(p->skel->maps.pkt_scratch, (uint32_t)(ncpu > 0 ? ncpu : 1));
	r = r ?: bpf_map__set_max_entries(p->skel->maps.pkt_rb, PKT_RING_BYTES);
	r = r ?: share_filter_maps(p, e->tls->obj);
	r = r ?: packets_bpf__load(p->skel);
	if (r) {
		snprintf(err, errlen, "the kernel refused the packet programs (%s)", strerror(-r));
		goto fail;
	}
	if (pick_ifaces(p, e->opts.ifaces, err, errlen))
		goto fail;
	if (e->opts.pkt_filter && compile_filter(p, e->opts.pkt_filter, err, errlen))
		goto fail;
	if (e->opts.pkt_path) {
		n = (size_t)snprintf(note, sizeof(note), "ecaptop --packets on");
		for (i = 0; i < p->n_ifs && n < sizeof(note); i++)
			n += (size_t)snprintf(note + n, sizeof(note) - n, " %s", p->ifs[i].name);
		if (e->opts.pkt_filter && n < sizeof(note))
			snprintf(note + n, sizeof(note) - n, "\nCapture filter: %s",
				 e->opts.pkt_filter);
		p->path = strdup(e->opts.pkt_path);
		p->w = pcapng_pkt_open(e->opts.pkt_path, e->opts.pkt_force, note, err, errlen);
		if (!p->w || !p->path) {
			char why[256];

			snprintf(why, sizeof(why), "%s", p->w ? "out of memory" : err);
			snprintf(err, errlen, "cannot write %s: %s", e->opts.pkt_path, why);
			goto fail;
		}
		for (i = 0; i < p->n_ifs; i++) {
			r = pcapng_pkt_add_iface(p->w, p->ifs[i].name, p->ifs[i].linktype,
						 EC_PKT_SNAP);
			if (r < 0) {
				snprintf(err, errlen, "cannot write %s: %s", e->opts.pkt_path,
					 strerror(-r));
				goto fail;
			}
			p->ifs[i].id = r;
		}
	}
	return p;
fail:
	packets_free(p);
	return NULL;
}

int packets_attach(struct packets *p, struct ring_buffer *rb, char *err, size_t errlen)
{
	int r;

	packets_cleanup_leftovers(NULL);
	p->enter = bpf_program__attach(p->skel->progs.pkt_sys_enter);
	p->exit = p->enter ? bpf_program__attach(p->skel->progs.pkt_sys_exit) : NULL;
	if (!p->exit) {
		r = -errno;
		snprintf(err, errlen, "cannot attach the packet mode's tracepoints: %s",
			 strerror(-r));
		return r;
	}
	seed_owners(p);
	(void)rb;
	p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.pkt_rb), on_packet, p, NULL);
	if (!p->rb) {
		r = -errno;
		snprintf(err, errlen, "cannot read the packet ring buffer: %s", strerror(-r));
		return r;
	}
	return attach_ifaces(p, err, errlen);
}

static uint64_t loss(struct packets *p, uint32_t what)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	uint64_t *v, sum = 0;

	if (ncpu <= 0 || !p->skel)
		return 0;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (v && !bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.pkt_losses), &what, v))
		for (i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	return sum;
}

void packets_stats(struct packets *p, struct engine_packet_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!p)
		return;
	st->on = true;
	st->seen = loss(p, EC_PKT_L_SEEN);
	st->filtered_kernel = loss(p, EC_PKT_L_FILTER);
	st->lost_kernel = loss(p, EC_PKT_L_RESERVE);
	st->lost_read = loss(p, EC_PKT_L_READ);
	st->truncated = loss(p, EC_PKT_L_TRUNC);
	st->captured = atomic_load_explicit(&p->captured, memory_order_relaxed);
	st->written = atomic_load_explicit(&p->written, memory_order_relaxed);
	st->unattributed = atomic_load_explicit(&p->unattributed, memory_order_relaxed);
	st->filtered_pcap = atomic_load_explicit(&p->filtered_pcap, memory_order_relaxed);
	st->lost_user = atomic_load_explicit(&p->lost_user, memory_order_relaxed);
	st->secrets = atomic_load_explicit(&p->secrets, memory_order_relaxed);
}

void packets_free(struct packets *p)
{
	struct engine_packet_stats st;
	uint64_t now = (uint64_t)ts_ns(CLOCK_REALTIME);
	size_t i;
	int d, r;

	if (!p)
		return;
	for (i = 0; i < p->n_ifs; i++) {
		for (d = 0; d < 2; d++)
			if (p->ifs[i].link_fd[d] >= 0)
				close(p->ifs[i].link_fd[d]);
		classic_detach(&p->ifs[i]);
	}
	bpf_link__destroy(p->enter);
	bpf_link__destroy(p->exit);
	ring_buffer__free(p->rb);
	packets_stats(p, &st);
	p->secrets_other += p->n_pending;
	while (p->n) /* the engine thread drained them; a failed start may not have */
		free(heap_pop(p).rec);
	if (p->w) {
		for (i = 0; i < p->n_ifs; i++)
			if (p->ifs[i].id >= 0)
				pcapng_pkt_add_stats(p->w, (uint32_t)p->ifs[i].id, now, st.seen,
						     st.lost_kernel + st.lost_read,
						     p->ifs[i].written);
		r = pcapng_pkt_close(p->w);
		if (r)
			log_msg(LOG_ERROR, "packets: writing %s failed: %s", p->path, strerror(-r));
	}
	if (p->skel && p->enter)
		log_msg(st.lost_kernel || st.lost_read || st.lost_user ? LOG_WARN : LOG_INFO,
			"packets: %llu seen, %llu written%s%s (%llu without a process), "
			"%llu TLS secrets (%llu of connections not captured left out); lost: %llu "
			"ring buffer full, %llu unreadable, %llu "
			"in user space; not kept: %llu by the PID/UID/cgroup filter, %llu by "
			"the -f filter; %llu cut at 65535 bytes",
			(unsigned long long)st.seen, (unsigned long long)st.written,
			p->w ? " to " : "", p->w ? p->path : "",
			(unsigned long long)st.unattributed, (unsigned long long)st.secrets,
			(unsigned long long)p->secrets_other, (unsigned long long)st.lost_kernel,
			(unsigned long long)st.lost_read, (unsigned long long)st.lost_user,
			(unsigned long long)st.filtered_kernel,
			(unsigned long long)st.filtered_pcap, (unsigned long long)st.truncated);
	for (i = 0; i < 2; i++)
		pcapng_pkt_filter_free(p->filt[i]);
	for (i = 0; i < CACHE_SLOTS; i++) {
		free(p->cache[i].args);
		free(p->cache[i].cgroup);
	}
	packets_bpf__destroy(p->skel);
	free(p->heap);
	free(p->seen_keys);
	free(p->hellos);
	free(p->pending);
	free(p->path);
	free(p);
}
