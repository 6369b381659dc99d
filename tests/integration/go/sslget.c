// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sslget: GET a path over TLS with OpenSSL, for the integration tests. Built by the
 * test statically against libssl.a/libcrypto.a, so SSL_read/SSL_write are in the
 * executable's symbol table only (not exported).
 *   sslget HOST PORT PATH HEADER OUTFILE   (requests at once)
 * Writes the whole response (header and body) to OUTFILE; prints the local port.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	char req[1024], buf[65536];
	SSL_CTX *ctx;
	FILE *out;
	SSL *ssl;
	int fd, n;

	if (argc != 6)
		return 2;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	inet_pton(AF_INET, argv[1], &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return perror("connect"), 1;
	ctx = SSL_CTX_new(TLS_client_method());
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1)
		return fprintf(stderr, "handshake failed\n"), 1;
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n%s\r\n\r\n", argv[3], argv[1],
		 argv[4]);
	if (SSL_write(ssl, req, (int)strlen(req)) <= 0)
		return 1;
	out = fopen(argv[5], "wb");
	if (!out)
		return 1;
	while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, out);
	fclose(out);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	printf("lport %d\n", ntohs(sa.sin_port));
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return 0;
}
