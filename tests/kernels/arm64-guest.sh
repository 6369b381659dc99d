# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Run by the arm64 guest's busybox sh (arm64.sh boots it; the guest's /bin is x86):
# arm64-guest.sh BUSYBOX OPENSSL_DIR ECAPTOP OUT. Runs ecaptop --check, then one
# --batch --json capture of OUT/request sent by openssl s_client to s_server -WWW,
# which answers with OUT/index.txt. Writes what it saw to OUT; arm64.sh checks it.
bb=$1 ssl=$2 ecaptop=$3 out=$4
mkdir -p /tmp/bin
"$bb" --install -s /tmp/bin
export PATH=/tmp/bin:$ssl/usr/bin
cd /tmp || exit 1
echo "kernel $(uname -r) $(uname -m)"

t0=$(date +%s)
"$ecaptop" --check >"$out/check.out" 2>&1
echo $? >"$out/check.rc"
sed 's/^/  /' "$out/check.out"
echo "--check took $(($(date +%s) - t0)) s"

# wait_for SECS COMMAND...: poll until COMMAND succeeds.
wait_for() {
	n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
port=4433
listening() { grep -q ":$(printf %04X $port) 00000000:0000 0A" /proc/net/tcp; }
mkdir -p /tmp/www
cp "$out/index.txt" /tmp/www/
cd /tmp/www || exit 1
openssl s_server -quiet -WWW -accept 127.0.0.1:$port -cert "$out/cert.pem" -key "$out/key.pem" \
	>/tmp/s_server.log 2>&1 &
echo $! >"$out/server.pid"
wait_for 60 listening || { echo "s_server did not start"; cat /tmp/s_server.log; exit 1; }

t0=$(date +%s)
"$ecaptop" --batch --json >"$out/cap.json" 2>"$out/cap.err" &
cap=$!
wait_for 120 grep -qs ready "$out/cap.err" || { echo "ecaptop did not become ready"; cat "$out/cap.err"; exit 1; }
echo "ecaptop ready after $(($(date +%s) - t0)) s"
openssl s_client -quiet -connect 127.0.0.1:$port <"$out/request" >"$out/response" 2>/tmp/s_client.log &
echo $! >"$out/client.pid"
wait $!
echo "s_client: $(head -1 "$out/response")"
# The response reached s_client: wait for its events in the capture's output, then
# stop at once, as a user would (a clean stop delivers what is still queued).
wait_for 30 grep -q "\"comm\": *\"openssl\".*\"dir\": *\"recv\"" "$out/cap.json" ||
	echo "no recv event of s_client in the output after 30 s"
kill -INT $cap
wait $cap
st=$?
echo "ecaptop exited with $st; $(wc -l <"$out/cap.json") lines"
sed 's/^/  /' "$out/cap.err"
echo $st >"$out/guest.rc"
kill $(cat "$out/server.pid") 2>/dev/null
exit $st
