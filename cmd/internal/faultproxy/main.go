// Command faultproxy is a TCP proxy that makes a network die in one chosen
// way, for the tests of issue 20 (internal/soak TestDyingNetwork): it sits
// between `beacon execute` and the simulator (cmd/m365sim, plain HTTP or
// --tls) as a process of its own, the connection's proxy server (it
// answers CONNECT with a tunnel and forwards every other request as it
// comes; the endpoints, and so the token's Graph resource, stay the
// simulator's), forwards bytes to --target, and injects one kind of fault
// into the answers to the requests whose request line matches --match
// (plain HTTP), or into whole connections (--fault tls-hang, where it
// cannot read the requests):
//
//	reset      forward the answer's header and --after bytes of its body, then reset the connection (RST)
//	stall      forward the header and --after bytes, then send nothing for --stall, then close
//	slow       forward the rest of the connection at --rate bytes a second
//	halfclose  forward the header and --after bytes, then close the write side towards the client (FIN) and keep reading
//	tls-hang   accept the connection and never answer (a TLS handshake that never finishes)
//
// --count N injects the fault N times (0: every time), so a test can make
// a transient fault that the client's retries outlive, or a permanent one
// that must fail the import. It prints "faultproxy-ready ADDR" when it
// listens and "fault KIND N PATH" for each fault injected, and runs until
// it is killed.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"sync"
	"sync/atomic"
	"time"
)

type proxy struct {
	target, fault string
	match         *regexp.Regexp
	count         int64
	after         int
	stall         time.Duration
	rate          int
	injected      atomic.Int64
	out           sync.Mutex
}

func main() {
	p := &proxy{}
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.StringVar(&p.target, "target", "", "address to forward to (host:port)")
	flag.StringVar(&p.fault, "fault", "", "reset, stall, slow, halfclose or tls-hang")
	match := flag.String("match", "", "inject into answers to requests whose request line matches this regular expression")
	flag.Int64Var(&p.count, "count", 0, "faults to inject (0: every time)")
	flag.IntVar(&p.after, "after", 100, "bytes of the answer's body forwarded before the fault")
	flag.DurationVar(&p.stall, "stall", time.Minute, "how long a stall lasts")
	flag.IntVar(&p.rate, "rate", 16<<10, "bytes a second of a slow connection")
	flag.Parse()
	switch p.fault {
	case "reset", "stall", "slow", "halfclose", "tls-hang", "":
	default:
		fmt.Fprintf(os.Stderr, "faultproxy: unknown fault %q\n", p.fault)
		os.Exit(2)
	}
	var err error
	if p.match, err = regexp.Compile(*match); err != nil {
		fmt.Fprintln(os.Stderr, "faultproxy: --match:", err)
		os.Exit(2)
	}
	if p.target == "" {
		fmt.Fprintln(os.Stderr, "faultproxy: --target is required")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "faultproxy:", err)
		os.Exit(1)
	}
	p.say("faultproxy-ready %s", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "faultproxy:", err)
			os.Exit(1)
		}
		go p.serve(c)
	}
}

func (p *proxy) say(format string, args ...any) {
	p.out.Lock()
	defer p.out.Unlock()
	fmt.Printf(format+"\n", args...)
}

// take reports whether one more fault may be injected, and counts it.
func (p *proxy) take(path string) bool {
	n := p.injected.Add(1)
	if p.count > 0 && n > p.count {
		p.injected.Add(-1)
		return false
	}
	p.say("fault %s %d %s", p.fault, n, path)
	return true
}

var requestLine = regexp.MustCompile(`(?m)^(GET|POST|PUT|PATCH|DELETE|HEAD) (\S+) HTTP/1\.[01]\r$`)

func (p *proxy) serve(client net.Conn) {
	defer client.Close()
	r := bufio.NewReaderSize(client, 64<<10)
	// As an HTTP proxy (the connection's proxy setting): CONNECT opens a
	// tunnel, for HTTPS, whose bytes it cannot read.
	tunnel := false
	if first, err := r.Peek(8); err == nil && string(first) == "CONNECT " {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if line == "\r\n" {
				break
			}
		}
		if _, err := io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
			return
		}
		tunnel = true
	}
	if p.fault == "tls-hang" && p.take("(connection)") {
		// Read what the client sends (its ClientHello) and answer
		// nothing, until it gives up.
		_, _ = io.Copy(io.Discard, r)
		return
	}
	server, err := net.DialTimeout("tcp", p.target, 10*time.Second)
	if err != nil {
		return
	}
	defer server.Close()
	var armed atomic.Pointer[string] // the path of the request whose answer fails
	go func() {
		// Client to server: look at the request lines as they pass.
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				if !tunnel && p.fault != "" && p.fault != "tls-hang" && armed.Load() == nil {
					for _, m := range requestLine.FindAllSubmatch(buf[:n], -1) {
						path := string(m[2])
						if p.match.Match(m[0]) && p.take(path) {
							armed.Store(&path)
							break
						}
					}
				}
				if _, werr := server.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				if tc, ok := server.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
				}
				return
			}
		}
	}()
	// Server to client, with the fault once armed.
	buf := make([]byte, 32<<10)
	sent := 0            // bytes of the armed answer's body forwarded
	headersDone := false // the armed answer's header has passed
	for {
		n, err := server.Read(buf)
		data := buf[:n]
		for len(data) > 0 {
			if armed.Load() == nil {
				if _, werr := client.Write(data); werr != nil {
					return
				}
				break
			}
			if p.fault == "slow" {
				k := min(len(data), max(p.rate/10, 1))
				if _, werr := client.Write(data[:k]); werr != nil {
					return
				}
				data = data[k:]
				time.Sleep(100 * time.Millisecond)
				continue
			}
			if !headersDone {
				// The header passes whole: the fault is in the body.
				i := bytes.Index(data, []byte("\r\n\r\n"))
				if i < 0 {
					if _, werr := client.Write(data); werr != nil {
						return
					}
					break
				}
				if _, werr := client.Write(data[:i+4]); werr != nil {
					return
				}
				data, headersDone = data[i+4:], true
				continue
			}
			k := min(len(data), p.after-sent)
			if k > 0 {
				if _, werr := client.Write(data[:k]); werr != nil {
					return
				}
				sent += k
				data = data[k:]
			}
			if sent < p.after {
				break
			}
			switch p.fault {
			case "reset":
				if tc, ok := client.(*net.TCPConn); ok {
					_ = tc.SetLinger(0) // Close sends RST
				}
			case "stall":
				time.Sleep(p.stall)
			case "halfclose":
				if tc, ok := client.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
				}
				// Keep the read side open: the client's next request on
				// this connection goes nowhere.
				_ = server.Close()
				_, _ = io.Copy(io.Discard, client)
			}
			return
		}
		if err != nil {
			return
		}
	}
}
