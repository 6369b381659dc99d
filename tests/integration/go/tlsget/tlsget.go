// tlsget: GET one path over TLS with crypto/tls alone (no net/http, so it builds
// fast), for the discovery tests. It makes its request the moment it starts.
//
//	tlsget HOST:PORT PATH HEADER OUTFILE
//
// Writes the response body to OUTFILE and prints "lport N" (the local port).
package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
)

func die(err error) {
	fmt.Fprintln(os.Stderr, "tlsget:", err)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: tlsget HOST:PORT PATH HEADER OUTFILE")
		os.Exit(2)
	}
	conn, err := tls.Dial("tcp", os.Args[1], &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		die(err)
	}
	defer conn.Close()
	req := "GET " + os.Args[2] + " HTTP/1.0\r\nHost: " + os.Args[1] + "\r\n" + os.Args[3] + "\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		die(err)
	}
	r := bufio.NewReader(conn)
	tp := textproto.NewReader(r)
	if _, err := tp.ReadLine(); err != nil {
		die(err)
	}
	if _, err := tp.ReadMIMEHeader(); err != nil {
		die(err)
	}
	out, err := os.Create(os.Args[4])
	if err != nil {
		die(err)
	}
	if _, err := io.Copy(out, r); err != nil {
		die(err)
	}
	out.Close()
	fmt.Printf("lport %d\n", conn.LocalAddr().(*net.TCPAddr).Port)
}
