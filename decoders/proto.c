// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Names of the protocols the dispatcher recognises (decoders/decoder.h). */
#include "decoder.h"

const char *dec_proto_name(enum dec_proto p)
{
	switch (p) {
	case DEC_P_HTTP1:
		return "http";
	case DEC_P_HTTP2:
		return "http2";
	case DEC_P_MYSQL:
		return "mysql";
	case DEC_P_PGSQL:
		return "pgsql";
	case DEC_P_TLS:
		return "tls";
	case DEC_P_UNKNOWN:
	case DEC_P_MAX:
		break;
	}
	return "unknown";
}
