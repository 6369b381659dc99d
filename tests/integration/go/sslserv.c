// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sslserv: a one-connection HTTPS server with the OpenSSL API, for the integration
 * tests (built by the test against BoringSSL: Debian's android-libboringssl-dev).
 *   sslserv CERT KEY RESPONSE REQOUT
 * Listens on 127.0.0.1 at a port the kernel picks and prints "port N" at once; accepts
 * one connection, reads the request up to its blank line (written to REQOUT as read),
 * sends the file RESPONSE whole, closes, and prints "peer N" (the client's port).
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
	static char req[65536], buf[16384];
	size_t have = 0;
	FILE *resp, *out;
	SSL_CTX *ctx;
	SSL *ssl;
	int lfd, fd, n;

	if (argc != 5)
		return 2;
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, argv[1]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[2], SSL_FILETYPE_PEM) != 1)
		return fprintf(stderr, "cannot load the certificate\n"), 1;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl))
		return perror("listen"), 1;
	printf("port %d\n", ntohs(sa.sin_port));
	fflush(stdout);
	sl = sizeof(sa);
	fd = accept(lfd, (struct sockaddr *)&sa, &sl);
	if (fd < 0)
		return perror("accept"), 1;
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) != 1)
		return fprintf(stderr, "handshake failed\n"), 1;
	out = fopen(argv[4], "wb");
	if (!out)
		return 1;
	/* Up to the end of the request's head (no body is expected). */
	while (have < sizeof(req) - 1 &&
	       (n = SSL_read(ssl, req + have, (int)(sizeof(req) - 1 - have))) > 0) {
		fwrite(req + have, 1, (size_t)n, out);
		have += (size_t)n;
		req[have] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	fclose(out);
	resp = fopen(argv[3], "rb");
	if (!resp)
		return 1;
	while ((n = (int)fread(buf, 1, sizeof(buf), resp)) > 0)
		if (SSL_write(ssl, buf, n) != n)
			return fprintf(stderr, "write failed\n"), 1;
	fclose(resp);
	SSL_shutdown(ssl);
	printf("peer %d\n", ntohs(sa.sin_port));
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	close(lfd);
	return 0;
}
