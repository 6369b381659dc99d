// tlspeer: an HTTPS server and client using only Go's standard library, for the
// ecaptop integration tests (crypto/tls capture). HTTP/1.1 only, so the captured
// plaintext is the HTTP message itself and bodies can be compared byte for byte.
//
//	tlspeer server -cert C -key K -dir D -portfile F   serve files of D on 127.0.0.1:0
//	tlspeer client -url U -header "Name: value" -out F  GET U, write the body to F
//	tlspeer post -url U -file F                          POST F's bytes to U
package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"strconv"
	"strings"
	"time"
)

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlspeer: "+format+"\n", a...)
	os.Exit(1)
}

func server(args []string) {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	cert := fs.String("cert", "", "certificate (PEM)")
	key := fs.String("key", "", "key (PEM)")
	dir := fs.String("dir", ".", "folder to serve")
	portfile := fs.String("portfile", "", "write the port here once listening")
	fs.Parse(args)
	kp, err := tls.LoadX509KeyPair(*cert, *key)
	if err != nil {
		die("%v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		die("%v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(*dir)))
	// POST: answer with the SHA-256 of what arrived, so the test knows the
	// server's Read path saw the whole body.
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, _ := io.Copy(h, r.Body)
		fmt.Fprintf(w, "%d %s\n", n, hex.EncodeToString(h.Sum(nil)))
	})
	srv := &http.Server{
		Handler:   mux,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{kp}, NextProtos: []string{"http/1.1"}},
		// An empty map switches HTTP/2 off.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if *portfile != "" {
		tmp := *portfile + ".tmp"
		if err := os.WriteFile(tmp, []byte(strconv.Itoa(port)+"\n"), 0o644); err != nil {
			die("%v", err)
		}
		os.Rename(tmp, *portfile)
	}
	die("%v", srv.ServeTLS(ln, "", ""))
}

func newClient() *http.Client {
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
		ForceAttemptHTTP2: false,
		DisableKeepAlives: true,
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

func client(args []string) {
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	url := fs.String("url", "", "URL to GET")
	header := fs.String("header", "", "extra header, Name: value")
	out := fs.String("out", "", "write the body here")
	fs.Parse(args)
	req, err := http.NewRequest("GET", *url, nil)
	if err != nil {
		die("%v", err)
	}
	if *header != "" {
		kv := strings.SplitN(*header, ":", 2)
		req.Header.Set(strings.TrimSpace(kv[0]), strings.TrimSpace(kv[1]))
	}
	// The local port, for the attribution checks.
	lport := 0
	trace := &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) {
		lport = ci.Conn.LocalAddr().(*net.TCPAddr).Port
	}}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	resp, err := newClient().Do(req)
	if err != nil {
		die("%v", err)
	}
	defer resp.Body.Close()
	var w io.Writer = io.Discard
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			die("%v", err)
		}
		defer f.Close()
		w = f
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		die("%v", err)
	}
	fmt.Printf("lport %d status %d\n", lport, resp.StatusCode)
}

func post(args []string) {
	fs := flag.NewFlagSet("post", flag.ExitOnError)
	url := fs.String("url", "", "URL to POST to")
	file := fs.String("file", "", "body")
	fs.Parse(args)
	body, err := os.ReadFile(*file)
	if err != nil {
		die("%v", err)
	}
	resp, err := newClient().Post(*url, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		die("%v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	os.Stdout.Write(b)
}

func main() {
	if len(os.Args) < 2 {
		die("usage: tlspeer server|client|post ...")
	}
	switch os.Args[1] {
	case "server":
		server(os.Args[2:])
	case "client":
		client(os.Args[2:])
	case "post":
		post(os.Args[2:])
	default:
		die("unknown mode %q", os.Args[1])
	}
}
