# Sourced by tests/bench/run.sh: an nginx under a temporary directory, serving two
# files over TLS 1.3 on 127.0.0.1, one worker pinned to CPU $SERVER_CPU, and h2load
# pinned to CPU $CLIENT_CPU with its own copy of libssl.

# nginx_start DIR PORT: config, certificate and files under DIR; sets NGINX_MASTER and
# NGINX_WORKER. Fails if nginx does not come up.
nginx_start() {
	local dir=$1 port=$2 i
	mkdir -p "$dir/www" "$dir/tmp" "$dir/logs"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$dir/key.pem" -out "$dir/cert.pem" -days 2 -subj /CN=localhost \
		>/dev/null 2>&1 || return 1
	head -c 100 /dev/zero | tr '\0' 'a' >"$dir/www/100b"
	head -c 65536 /dev/urandom | base64 -w 76 | head -c 65536 >"$dir/www/64k"
	cat >"$dir/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes 1;
worker_cpu_affinity $(printf '%x' $((1 << SERVER_CPU)));
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	keepalive_requests 100000000;
	keepalive_timeout 300s;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:$port ssl;
		ssl_certificate $dir/cert.pem;
		ssl_certificate_key $dir/key.pem;
		ssl_protocols TLSv1.3;
		root $dir/www;
	}
}
CONF
	nginx -c "$dir/nginx.conf" -e "$dir/logs/error.log" >"$dir/logs/stdout" 2>&1 &
	NGINX_MASTER=$!
	for ((i = 0; i < 100; i++)); do
		NGINX_WORKER=$(pgrep -P "$NGINX_MASTER" | head -n 1)
		if [ -n "$NGINX_WORKER" ] && curl -sk -o /dev/null "https://127.0.0.1:$port/100b"; then
			return 0
		fi
		sleep 0.1
	done
	echo "nginx did not start:" >&2
	cat "$dir/logs/error.log" "$dir/logs/stdout" >&2
	return 1
}

nginx_stop() {
	[ -n "$NGINX_MASTER" ] || return 0
	kill -TERM "$NGINX_MASTER" 2>/dev/null
	wait "$NGINX_MASTER" 2>/dev/null
	NGINX_MASTER=
	NGINX_WORKER=
}

# client_libs DIR: private copies of libssl and libcrypto for the load generator, so
# that its TLS calls go through a different file (inode) than the server's.
client_libs() {
	local dir=$1 lib
	mkdir -p "$dir"
	for lib in libssl.so.3 libcrypto.so.3; do
		cp "$(ldd "$(command -v h2load)" | awk -v l=$lib '$1 == l {print $3}')" "$dir/$lib" ||
			return 1
	done
}
