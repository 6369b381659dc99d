// keylogget: GET each URL over HTTPS with Go's crypto/tls, for the key-log test
// (tests/integration/test_keylog.sh). It waits for a line on standard input first, so
// the test can start ecaptop for this very process and let it go once ecaptop is ready.
//
//	keylogget -max 1.2|1.3 URL...
package main

import (
	"bufio"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	max := flag.String("max", "1.3", "highest TLS version: 1.2 or 1.3")
	flag.Parse()
	v := uint16(tls.VersionTLS13)
	if *max == "1.2" {
		v = tls.VersionTLS12
	}
	bufio.NewReader(os.Stdin).ReadString('\n')
	c := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v},
		// One connection per request: each gets its own handshake and secrets.
		DisableKeepAlives: true,
	}}
	for _, u := range flag.Args() {
		resp, err := c.Get(u)
		if err != nil {
			fmt.Fprintln(os.Stderr, "keylogget:", err)
			os.Exit(1)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, u)
	}
}
