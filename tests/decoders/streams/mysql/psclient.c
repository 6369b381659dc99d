// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Capture helper (not part of the build): drives a MariaDB/MySQL server through
 * the binary prepared-statement protocol (COM_STMT_PREPARE, COM_STMT_EXECUTE,
 * COM_STMT_CLOSE) so record.sh can record it. Build:
 *   cc psclient.c $(pkg-config --cflags --libs libmariadb) -o /tmp/psclient
 * Usage: psclient HOST PORT USER PASSWORD DB
 */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	const char *q = "SELECT name, price FROM items WHERE id > ?";
	MYSQL *m = mysql_init(NULL);
	MYSQL_STMT *st;
	MYSQL_BIND b;
	int id = 1, n = 0;
	my_bool off = 0;

	if (argc < 6)
		return 2;
	mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &off);
	if (!mysql_real_connect(m, argv[1], argv[3], argv[4], argv[5], atoi(argv[2]), NULL, 0)) {
		fprintf(stderr, "connect: %s\n", mysql_error(m));
		return 1;
	}
	st = mysql_stmt_init(m);
	if (mysql_stmt_prepare(st, q, strlen(q))) {
		fprintf(stderr, "prepare: %s\n", mysql_stmt_error(st));
		return 1;
	}
	memset(&b, 0, sizeof(b));
	b.buffer_type = MYSQL_TYPE_LONG;
	b.buffer = &id;
	mysql_stmt_bind_param(st, &b);
	if (mysql_stmt_execute(st) || mysql_stmt_store_result(st)) {
		fprintf(stderr, "execute: %s\n", mysql_stmt_error(st));
		return 1;
	}
	while (mysql_stmt_fetch(st) == 0)
		n++;
	printf("%d rows\n", n);
	mysql_stmt_close(st);
	mysql_close(m);
	return 0;
}
