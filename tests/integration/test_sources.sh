# Decoders and more sources (issue 3): plain sockets, HTTP/1 and HTTP/2 records,
# MySQL/MariaDB and PostgreSQL over TLS and plaintext, bash and zsh commands, and the
# database servers' own query hooks. Real programs on loopback, started here.

# Plain HTTP: socket-source data events on both sides and HTTP records for each.
test_socket_plain_http_decoded() {
	local port www pid
	port=$(free_port)
	www=$TMPD/www-plain
	mkdir -p "$www"
	echo "plain-body-$port" >"$www/p.txt"
	start_http_plain "$port" "$www" || return 1
	start_capture plain || return 1
	curl -s "http://127.0.0.1:$port/p.txt?x=1" -H "X-Plain: yes" -o /dev/null &
	pid=$!
	wait $pid
	stop_capture || return 1
	$EVENTS "$TMPD/plain.json" --source socket --pid "$pid" --dir send --contains "X-Plain: yes" \
		>/dev/null || fail "curl's plaintext request not captured from the socket" || return 1
	$EVENTS "$TMPD/plain.json" --source socket --comm python3 --dir send --contains "plain-body-$port" \
		>/dev/null || fail "the server's response not captured" || return 1
	has_record "$TMPD/plain.json" "r['type']=='http' and r['pid']==$pid and r['method']=='GET' and \
r['path']=='/p.txt?x=1' and r['status']==200 and r['role']=='client' and r['latency_us']>0 and \
r['rport']==$port" || fail "no HTTP record for curl" || return 1
	has_record "$TMPD/plain.json" "r['type']=='http' and r['comm']=='python3' and r['role']=='server' \
and r['status']==200 and r['lport']==$port" || fail "no HTTP record for the server"
}

# HTTPS through OpenSSL: the same HTTP record from the TLS plaintext; no ciphertext
# data events from the socket source.
test_tls_http1_decoded_no_ciphertext() {
	local port www pid
	port=$(free_port)
	www=$TMPD/www-tlsdec
	mkdir -p "$www"
	echo tls >"$www/t.txt"
	start_tls_server "$port" "$www" || return 1
	start_capture tlsdec || return 1
	curl -sk "https://127.0.0.1:$port/t.txt" -o /dev/null &
	pid=$!
	wait $pid
	stop_capture || return 1
	has_record "$TMPD/tlsdec.json" "r['type']=='http' and r['pid']==$pid and r['source']=='openssl' \
and r['path']=='/t.txt' and r['status']==200" || fail "no HTTP record from TLS plaintext" || return 1
	[ "$($EVENTS "$TMPD/tlsdec.json" --source socket --rport "$port" --count)" = 0 ] ||
		fail "ciphertext reported as socket data" || return 1
	[ "$($EVENTS "$TMPD/tlsdec.json" --source socket --lport "$port" --count)" = 0 ] ||
		fail "server-side ciphertext reported as socket data"
}

# HTTP/2 over TLS: curl --http2 against nginx; records on both sides with version 2.
test_nginx_http2_tls() {
	local port dir pid
	command -v nginx >/dev/null || { say "nginx not installed"; return 77; }
	port=$(free_port)
	dir=$TMPD/nginx
	mkdir -p "$dir/www" "$dir/tmp"
	ensure_cert
	echo "h2-body-$port" >"$dir/www/h2.txt"
	cat >"$dir/nginx.conf" <<EOF
user root;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp; fastcgi_temp_path $dir/tmp;
	uwsgi_temp_path $dir/tmp; scgi_temp_path $dir/tmp;
	server {
		listen 127.0.0.1:$port ssl http2;
		ssl_certificate $TMPD/cert.pem;
		ssl_certificate_key $TMPD/key.pem;
		root $dir/www;
	}
}
EOF
	nginx -c "$dir/nginx.conf" || fail "nginx did not start" || return 1
	SERVERS+=("$(cat "$dir/nginx.pid")")
	wait_for 10 curl -sk -o /dev/null "https://127.0.0.1:$port/" || fail "nginx not answering" || return 1
	start_capture h2 || return 1
	curl -sk --http2 "https://127.0.0.1:$port/h2.txt" -H "X-H2: yes" -o "$TMPD/h2.out" &
	pid=$!
	wait $pid
	stop_capture
	kill "$(cat "$dir/nginx.pid")" 2>/dev/null
	has_record "$TMPD/h2.json" "r['type']=='http' and r['version']=='2' and r['pid']==$pid and \
r['method']=='GET' and r['path']=='/h2.txt' and r['status']==200 and 'h2-body' in (r.get('resp_body') or '')" ||
		fail "no HTTP/2 record for curl" || return 1
	has_record "$TMPD/h2.json" "r['type']=='http' and r['version']=='2' and r['comm']=='nginx' and \
r['role']=='server' and r['path']=='/h2.txt' and r['status']==200" || fail "no HTTP/2 record for nginx"
}

# start_mariadb: a private server on loopback, with TLS; sets MDB_PORT and MDB_DIR.
start_mariadb() {
	command -v mariadbd >/dev/null || return 77
	# A data folder of its own per server: several tests start one in the same run.
	MDB_DIR=$(mktemp -d "$TMPD/mariadb.XXXXXX")
	MDB_PORT=$(free_port)
	ensure_cert
	mariadb-install-db --no-defaults --datadir="$MDB_DIR/data" --user=root \
		--auth-root-authentication-method=normal >"$MDB_DIR/install.log" 2>&1 ||
		fail "mariadb-install-db failed: $(tail -3 "$MDB_DIR/install.log")" || return 1
	mariadbd --no-defaults --datadir="$MDB_DIR/data" --user=root --bind-address=127.0.0.1 \
		--port="$MDB_PORT" --socket="$MDB_DIR/sock" --pid-file="$MDB_DIR/pid" \
		--ssl-cert="$TMPD/cert.pem" --ssl-key="$TMPD/key.pem" >"$MDB_DIR/server.log" 2>&1 &
	SERVERS+=("$!")
	wait_for 60 mariadb --no-defaults -h 127.0.0.1 -P "$MDB_PORT" -u root --skip-ssl -e 'select 1' ||
		fail "mariadbd did not start: $(tail -5 "$MDB_DIR/server.log")" || return 1
	mariadb --no-defaults -h 127.0.0.1 -P "$MDB_PORT" -u root --skip-ssl -e \
		"create database shop; create table shop.items (id int primary key, name varchar(20));
		 insert into shop.items values (1,'apple'),(2,'pear'),(3,'plum');"
}

# MariaDB client and server over TLS and with --skip-ssl: query text, row count, an
# error for a bad query, and the server's own dispatch_command hook.
test_mariadb_tls_and_plain() {
	local pid_tls pid_plain
	start_mariadb
	case $? in 0) ;; 77) say "mariadb-server not installed"; return 77 ;; *) return 1 ;; esac
	start_capture mdb || return 1
	mariadb --no-defaults -h 127.0.0.1 -P "$MDB_PORT" -u root --ssl --ssl-verify-server-cert=0 \
		-e "select name, 'tls-$MDB_PORT' from shop.items where id < 3; select * from shop.nosuch;" \
		>/dev/null 2>&1 &
	pid_tls=$!
	wait $pid_tls
	mariadb --no-defaults -h 127.0.0.1 -P "$MDB_PORT" -u root --skip-ssl \
		-e "select id, 'plain-$MDB_PORT' from shop.items" >/dev/null 2>&1 &
	pid_plain=$!
	wait $pid_plain
	stop_capture || return 1
	has_record "$TMPD/mdb.json" "r['type']=='mysql' and r['pid']==$pid_tls and r['source']=='openssl' \
and 'tls-$MDB_PORT' in r['query'] and r['rows']==2" || fail "no MySQL record over TLS" || return 1
	has_record "$TMPD/mdb.json" "r['type']=='mysql' and r['pid']==$pid_tls and 'nosuch' in r['query'] \
and r['error'] and r['error_code']==1146" || fail "no error record for the bad query" || return 1
	has_record "$TMPD/mdb.json" "r['type']=='mysql' and r['pid']==$pid_plain and r['source']=='socket' \
and 'plain-$MDB_PORT' in r['query'] and r['rows']==3" || fail "no MySQL record over plaintext" || return 1
	has_record "$TMPD/mdb.json" "r['type']=='query' and r['source']=='mysqld' and \
r['command']=='COM_QUERY' and 'tls-$MDB_PORT' in r['query']" || fail "the server hook saw no query"
}

# start_postgres: a private cluster on loopback with TLS, run as the postgres user.
start_postgres() {
	local bin
	bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	[ -n "$bin" ] && id postgres >/dev/null 2>&1 || return 77
	# A cluster of its own per server: several tests start one in the same run.
	PG_DIR=$(mktemp -d "$TMPD/pg.XXXXXX")
	PG_PORT=$(free_port)
	ensure_cert
	cp "$TMPD/cert.pem" "$TMPD/key.pem" "$PG_DIR/"
	chown -R postgres "$PG_DIR"
	chmod 0600 "$PG_DIR/key.pem"
	chmod 0711 "$TMPD"
	runuser -u postgres -- "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust \
		>"$PG_DIR/initdb.log" 2>&1 || fail "initdb failed: $(tail -3 "$PG_DIR/initdb.log")" || return 1
	runuser -u postgres -- "$bin/postgres" -D "$PG_DIR/data" -p "$PG_PORT" -k "$PG_DIR" \
		-c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file="$PG_DIR/cert.pem" \
		-c ssl_key_file="$PG_DIR/key.pem" >"$PG_DIR/server.log" 2>&1 &
	SERVERS+=("$!")
	PSQL=$bin/psql
	wait_for 60 "$PSQL" "host=127.0.0.1 port=$PG_PORT user=postgres sslmode=disable" -c 'select 1' ||
		fail "postgres did not start: $(tail -5 "$PG_DIR/server.log")"
}

# psql with sslmode=require and sslmode=disable; the server's pg_parse_query hook.
test_postgres_tls_and_plain() {
	local pid_tls pid_plain
	start_postgres
	case $? in 0) ;; 77) say "postgresql not installed"; return 77 ;; *) return 1 ;; esac
	start_capture pg || return 1
	"$PSQL" "host=127.0.0.1 port=$PG_PORT user=postgres sslmode=require" \
		-c "select generate_series(1,4) /* tls-$PG_PORT */" -c "select * from nosuch" >/dev/null 2>&1 &
	pid_tls=$!
	wait $pid_tls
	"$PSQL" "host=127.0.0.1 port=$PG_PORT user=postgres sslmode=disable" \
		-c "select 42 /* plain-$PG_PORT */" >/dev/null 2>&1 &
	pid_plain=$!
	wait $pid_plain
	stop_capture || return 1
	has_record "$TMPD/pg.json" "r['type']=='pgsql' and r['pid']==$pid_tls and r['source']=='openssl' \
and 'tls-$PG_PORT' in r['query'] and r['rows']==4" || fail "no PostgreSQL record over TLS" || return 1
	has_record "$TMPD/pg.json" "r['type']=='pgsql' and r['pid']==$pid_tls and 'nosuch' in r['query'] \
and r['sqlstate']=='42P01'" || fail "no error record for the bad query" || return 1
	has_record "$TMPD/pg.json" "r['type']=='pgsql' and r['pid']==$pid_plain and r['source']=='socket' \
and 'plain-$PG_PORT' in r['query'] and r['rows']==1" || fail "no PostgreSQL record over plaintext" ||
		return 1
	has_record "$TMPD/pg.json" "r['type']=='query' and r['source']=='postgres' and 'tls-$PG_PORT' in r['query']" ||
		fail "the server hook saw no query"
}

# shell_session COMMAND SESSION PROMPT-REGEX SHELL: start COMMAND in tmux, wait for its
# prompt, type three commands (one fails) and exit.
shell_session() {
	local cmd=$1 name=$2 prompt=$3 shell=$4
	tmux kill-session -t "$name" 2>/dev/null
	tmux new-session -d -s "$name" -x 120 -y 30 "$cmd"
	wait_for 20 sh -c "tmux capture-pane -p -t $name | grep -qE '$prompt'" ||
		fail "no $shell prompt: $(tmux capture-pane -p -t "$name")" || return 1
	tmux send-keys -t "$name" "echo typed-in-$shell-$$" Enter
	wait_for 10 sh -c "tmux capture-pane -p -t $name | grep -q '^typed-in-$shell'" || return 1
	tmux send-keys -t "$name" "false" Enter
	sleep 0.5
	tmux send-keys -t "$name" "echo done-$shell" Enter
	wait_for 10 sh -c "tmux capture-pane -p -t $name | grep -q '^done-$shell'" || return 1
	tmux send-keys -t "$name" "exit" Enter
	sleep 0.5
	tmux kill-session -t "$name" 2>/dev/null
	return 0
}

check_shell_records() { # FILE SHELL
	local f=$1 sh=$2 id
	has_record "$f" "r['type']=='command' and r['shell']=='$sh' and r['command']=='echo typed-in-$sh-$$'" ||
		fail "the $sh command line was not captured" || return 1
	id=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("type") == "command" and r.get("command") == "false":
        print(r["command_id"]); break' "$f")
	[ -n "$id" ] || fail "'false' not captured" || return 1
	has_record "$f" "r['type']=='command_exit' and r['command_id']=='$id' and r['exit_status']==1" ||
		fail "no exit status 1 for 'false'"
}

test_bash_commands_in_tmux() {
	start_capture bash || return 1
	shell_session "bash --norc --noprofile" ecaptop-bash '[#$] ?$' bash || { stop_capture; return 1; }
	stop_capture || return 1
	check_shell_records "$TMPD/bash.json" bash
}

test_zsh_commands_in_tmux() {
	command -v zsh >/dev/null || { say "zsh not installed"; return 77; }
	start_capture zsh || return 1
	shell_session "zsh -f" ecaptop-zsh '[#%] ?$' zsh || { stop_capture; return 1; }
	stop_capture || return 1
	grep -q 'attached zsh probes' "$TMPD/zsh.err" || fail "zsh's zle module was not attached" || return 1
	check_shell_records "$TMPD/zsh.json" zsh
}

# A plain connection whose socket reuses the memory of a closed TLS connection's
# socket is still plain: what BPF remembers about a socket is keyed by its inode,
# not its address (the kernel reuses addresses at once).
test_socket_plain_after_tls_reuse() {
	local port pport www i n=8 got
	port=$(free_port)
	pport=$(free_port)
	www=$TMPD/www-reuse
	mkdir -p "$www"
	echo reuse >"$www/r.txt"
	start_tls_server "$port" "$www" || return 1
	start_http_plain "$pport" "$www" || return 1
	start_capture reuse || return 1
	for i in $(seq 1 $n); do
		curl -sk "https://127.0.0.1:$port/r.txt" -o /dev/null
		curl -s "http://127.0.0.1:$pport/r.txt" -H "X-Plain-Seq: $i" -o /dev/null
	done
	stop_capture || return 1
	got=0
	for i in $(seq 1 $n); do
		$EVENTS "$TMPD/reuse.json" --source socket --comm curl --dir send --contains "X-Plain-Seq: $i" \
			>/dev/null && got=$((got + 1))
	done
	say "$got of $n plain requests captured"
	[ "$got" = "$n" ] || fail "plain requests lost after TLS connections"
}
