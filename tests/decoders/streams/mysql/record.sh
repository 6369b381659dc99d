#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# How the real MariaDB streams here were recorded (run by hand, as root; not a
# test). Needs: mariadb-server mariadb-client libmariadb-dev tcpdump, and a
# server started on loopback only, e.g.
#   mariadb-install-db --no-defaults --datadir=/tmp/sql-mdb/data --user=root
#   mariadbd --no-defaults --datadir=/tmp/sql-mdb/data --user=root \
#     --bind-address=127.0.0.1 --port=13306 --socket=/tmp/sql-mdb/sock --skip-ssl &
# with database shop, table items(id INT PRIMARY KEY, name VARCHAR(20), price INT)
# holding (1,apple,3) (2,pear,4) (3,plum,5), and user app@127.0.0.1 / secret.
# For ssl_request.stream the server ran with --ssl-cert/--ssl-key instead of
# --skip-ssl. Usage: record.sh NAME PORT COMMAND... -> NAME.stream
set -eu
here=$(cd "$(dirname "$0")" && pwd)
name=$1 port=$2
shift 2
pcap=$(mktemp /tmp/rec-XXXXXX.pcap)
tcpdump -i lo -U -s 0 -w "$pcap" "tcp port $port" 2>/dev/null &
tcpdump_pid=$!
sleep 1
"$@" || true
sleep 1
kill "$tcpdump_pid"
wait "$tcpdump_pid" 2>/dev/null || true
{
	echo "# recorded with record.sh: $*"
	python3 "$here/pcap2stream.py" "$pcap" "$port"
} >"$name.stream"
rm -f "$pcap"
