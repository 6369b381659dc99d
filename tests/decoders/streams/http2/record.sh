#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# record.sh: capture real HTTP/2 cleartext (h2c) conversations between nghttp
# and nghttpd (Debian: nghttp2-client, nghttp2-server) on loopback with tcpdump,
# and turn each into a stream file here (pcap2stream.py). Needs root (tcpdump).
# The committed *.stream files were made with it; rerun only to refresh them,
# then regenerate and review the expected files (tests/decoders/run.sh --regen).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill $srv 2>/dev/null || true; rm -rf "$work"' EXIT
port=${PORT:-28417}
if ss -ltn | grep -q ":$port "; then
	echo "port $port is in use: set PORT" >&2
	exit 1
fi
mkdir -p "$work/www"
printf 'Hello over HTTP/2!\n' >"$work/www/hello.txt"
printf '<html><link rel=stylesheet href=/style.css>hi</html>\n' >"$work/www/index.html"
printf 'body { color: red }\n' >"$work/www/style.css"
printf 'first\n' >"$work/www/a.txt"
printf 'second\n' >"$work/www/b.txt"
printf 'name=ecaptop&lang=c\n' >"$work/post.txt"
nghttpd --no-tls --echo-upload --trailer=x-trailer:done -p/index.html=/style.css \
	-d "$work/www" "$port" >"$work/nghttpd.log" 2>&1 &
srv=$!
sleep 0.5
url=http://127.0.0.1:$port
# record NAME COMMENT CLIENT-COMMAND...
record() {
	local name=$1 comment=$2
	shift 2
	tcpdump -i lo -U -w "$work/$name.pcap" "tcp port $port" 2>"$work/tcpdump.log" &
	local td=$!
	sleep 0.7
	"$@" >/dev/null
	sleep 0.3
	kill -INT $td
	wait $td || true
	python3 "$here/pcap2stream.py" "$work/$name.pcap" "$work/$name" "$comment" >/dev/null
	mv "$work/$name-1.stream" "$here/$name.stream"
	echo "recorded $name.stream"
}
record nghttp-get "nghttp GET /hello.txt (h2c, prior knowledge)" nghttp "$url/hello.txt"
record nghttp-multi "nghttp: three requests on one connection (one 404)" \
	nghttp "$url/a.txt" "$url/b.txt" "$url/missing"
record nghttp-post "nghttp -d: POST echoed back by nghttpd --echo-upload" nghttp -d "$work/post.txt" \
	"$url/echo"
record nghttp-push "nghttpd pushes /style.css with /index.html" nghttp "$url/index.html"
record nghttp-continuation "nghttp --continuation: a header block over CONTINUATION frames; the client's first write (18 KiB) is larger than DEC_STREAM_DETECT_CAP: recognised on its first bytes" \
	nghttp --continuation "$url/hello.txt"
record nghttp-table-size "nghttp --encoder-header-table-size=64: dynamic table size update, eviction" \
	nghttp --encoder-header-table-size=64 -H 'x-long-header-one: aaaaaaaaaaaaaaaaaaaa' \
	-H 'x-long-header-two: bbbbbbbbbbbbbbbbbbbbb' "$url/a.txt" "$url/b.txt"
record curl-get "curl --http2-prior-knowledge GET /hello.txt" \
	curl -s --http2-prior-knowledge -H 'X-Test: ecaptop' "$url/hello.txt"
