// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "engine/event.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ec_event *ec_event_new(uint32_t len)
{
	struct ec_event *ev = calloc(1, sizeof(*ev) + len);

	if (!ev)
		return NULL;
	ev->h.len = len;
	ev->h.fd = -1;
	return ev;
}

struct ec_event *ec_event_dup(const struct ec_event *ev)
{
	size_t sz = sizeof(*ev) + ev->h.len;
	struct ec_event *c = malloc(sz);

	if (c)
		memcpy(c, ev, sz);
	return c;
}

static const char *const source_names[EC_S_MAX] = {
    [EC_S_NONE] = "unknown",	  [EC_S_OPENSSL] = "openssl", [EC_S_GNUTLS] = "gnutls",
    [EC_S_NSS] = "nss",		  [EC_S_GOTLS] = "gotls",     [EC_S_SOCKET] = "socket",
    [EC_S_BASH] = "bash",	  [EC_S_ZSH] = "zsh",	      [EC_S_MYSQLD] = "mysqld",
    [EC_S_POSTGRES] = "postgres", [EC_S_PROC] = "proc",
};

const char *ec_source_name(uint32_t source)
{
	return source < EC_S_MAX && source_names[source] ? source_names[source] : "unknown";
}

uint32_t ec_source_from_name(const char *name)
{
	uint32_t i;

	for (i = 1; i < EC_S_MAX; i++)
		if (source_names[i] && !strcmp(source_names[i], name))
			return i;
	return EC_S_NONE;
}

const char *ec_kind_name(uint32_t kind)
{
	switch (kind) {
	case EC_K_DATA:
		return "data";
	case EC_K_EXEC:
		return "exec";
	case EC_K_EXIT:
		return "exit";
	case EC_K_COMMAND:
		return "command";
	case EC_K_QUERY:
		return "query";
	case EC_K_RESET:
		return "reset";
	case EC_K_PACKET:
		return "packet";
	}
	return "unknown";
}

const char *ec_dir_name(uint32_t dir)
{
	return dir == EC_DIR_SEND ? "send" : dir == EC_DIR_RECV ? "recv" : "none";
}

char *ec_addr_str(uint8_t family, const uint8_t addr[16], char *buf, size_t len)
{
	int af = family == EC_AF_INET ? AF_INET : family == EC_AF_INET6 ? AF_INET6 : -1;

	if (len)
		buf[0] = '\0';
	if (af < 0 || !inet_ntop(af, addr, buf, (socklen_t)len)) {
		if (len)
			buf[0] = '\0';
	}
	return buf;
}

char *ec_packet_summary(const struct ec_event *ev, char *buf, size_t len)
{
	const struct ec_rec_hdr *h = &ev->h;
	char ifname[IF_NAMESIZE] = "?", la[64], ra[64];
	bool v6 = h->family == EC_AF_INET6, send = h->dir == EC_DIR_SEND;

	if (h->call_id > 0 && h->call_id <= UINT32_MAX &&
	    !if_indextoname((unsigned)h->call_id, ifname))
		snprintf(ifname, sizeof(ifname), "if%u", (unsigned)h->call_id);
	ec_addr_str(h->family, h->laddr, la, sizeof(la));
	ec_addr_str(h->family, h->raddr, ra, sizeof(ra));
	if (h->family == EC_AF_INET || v6)
		snprintf(buf, len, "%s %s %s%s%s:%u %s %s%s%s:%u %u bytes%s", ifname,
			 ec_dir_name(h->dir), v6 ? "[" : "", send ? la : ra, v6 ? "]" : "",
			 send ? h->lport : h->rport, "->", v6 ? "[" : "", send ? ra : la,
			 v6 ? "]" : "", send ? h->rport : h->lport, h->aux,
			 h->flags & EC_F_NO_SOCKET ? " (no process)" : "");
	else
		snprintf(buf, len, "%s %s (not IP) %u bytes%s", ifname, ec_dir_name(h->dir), h->aux,
			 h->flags & EC_F_NO_SOCKET ? " (no process)" : "");
	return buf;
}
