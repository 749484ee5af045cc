package auth

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// callback is what the loopback listener hands to Flow.Wait: the first
// request that decided the flow, and where to send the page's outcome.
type callback struct {
	code string
	err  error
	// query is the redirect's query, for RFC 9207's iss.
	query url.Values
	// reply gets the outcome to show in the browser; buffered so Wait never
	// blocks on a browser that went away.
	reply chan outcome
}

type outcome struct {
	ok      bool
	title   string
	message string
}

// loopback is a one-shot HTTP server on 127.0.0.1 (and [::1]) that accepts
// exactly one request: the redirect carrying our state on the exact path.
// Anything else that reaches it first — a wrong state, another path, a
// foreign Host header, another method — ends the flow with an error (fail
// closed): a local attacker may spoil a sign-in but never steer it.
type loopback struct {
	srv       *http.Server
	listeners []net.Listener
	port      int
	path      string
	state     string
	log       *slog.Logger

	mu      sync.Mutex
	decided bool
	result  chan callback // capacity 1: the single decision
	// answered is closed when the deciding request has had its page
	// written, so close can wait for exactly that and no more.
	answered chan struct{}
}

// listenLoopback binds the redirect URI's port (or an ephemeral one when it
// has none) on 127.0.0.1 and, where the system has IPv6, on [::1]: a
// browser may resolve "localhost" to either. It never binds a non-loopback
// address.
func listenLoopback(redirect *url.URL) ([]net.Listener, int, error) {
	wantPort := 0
	if p := redirect.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, 0, fmt.Errorf("the Redirect URI's port %q is not a number from 1 to 65535", p)
		}
		wantPort = n
	}
	needV6 := strings.EqualFold(redirect.Hostname(), "localhost")
	// With an ephemeral port the IPv6 twin may find "its" port taken;
	// choose again a few times rather than fail.
	for attempt := 0; ; attempt++ {
		l4, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(wantPort)))
		if err != nil {
			return nil, 0, portError(wantPort, err)
		}
		port := l4.Addr().(*net.TCPAddr).Port
		if !needV6 {
			return []net.Listener{l4}, port, nil
		}
		l6, err := net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(port)))
		if err == nil {
			return []net.Listener{l4, l6}, port, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			// No IPv6 loopback on this machine: browsers then use 127.0.0.1.
			return []net.Listener{l4}, port, nil
		}
		l4.Close()
		// Another program holds [::1]:port; a browser resolving localhost
		// to ::1 would hand the code to it. Refuse a fixed port, retry an
		// ephemeral one.
		if wantPort != 0 || attempt >= 5 {
			return nil, 0, portError(port, err)
		}
	}
}

func portError(port int, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, syscall.EACCES) {
		return fmt.Errorf("%w: port %d on this computer is already taken (%v). Close the program using it, or change the Redirect URI to http://localhost without a port so the app picks a free one (Microsoft accepts any port for localhost)", ErrPortInUse, port, err)
	}
	return fmt.Errorf("cannot listen for the sign-in answer on port %d: %w", port, err)
}

func newLoopback(listeners []net.Listener, port int, path, state string, readHeaderTimeout time.Duration, log *slog.Logger) *loopback {
	lb := &loopback{listeners: listeners, port: port, path: path, state: state, log: log,
		result: make(chan callback, 1), answered: make(chan struct{})}
	lb.srv = &http.Server{
		Handler:           lb,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readHeaderTimeout,
		// A slow reader of our page must not keep the flow's goroutines.
		WriteTimeout:   time.Minute,
		IdleTimeout:    readHeaderTimeout,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	for _, l := range listeners {
		go func() { _ = lb.srv.Serve(l) }()
	}
	return lb
}

// decide records the single decision. It reports false when one was made
// already: replayed or second callbacks change nothing.
func (lb *loopback) decide(cb callback) bool {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if lb.decided {
		return false
	}
	lb.decided = true
	lb.result <- cb
	return true
}

func (lb *loopback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'none'")

	// Nothing from the request is logged except its path: the query holds
	// the code.
	reject := func(status int, why error) {
		lb.log.Warn("sign-in listener refused a request", "path", r.URL.Path, "reason", why.Error())
		if lb.decide(callback{err: why}) {
			defer close(lb.answered)
			writePage(w, status, outcome{title: "Sign-in refused", message: why.Error()})
			return
		}
		writePage(w, http.StatusGone, outcome{title: "Sign-in already finished", message: "This sign-in has already finished; you can close this tab."})
	}

	if !lb.hostAllowed(r.Host) {
		reject(http.StatusMisdirectedRequest, fmt.Errorf("a request reached the sign-in listener under the foreign host name %q (only this computer's loopback address is accepted), so the sign-in was stopped; start Generate... again", truncate(r.Host, 64)))
		return
	}
	if r.URL.Path != lb.path {
		reject(http.StatusNotFound, fmt.Errorf("a request reached the sign-in listener on the unexpected path %q instead of %q, so the sign-in was stopped; start Generate... again", truncate(r.URL.Path, 64), lb.path))
		return
	}
	if r.Method != http.MethodGet {
		reject(http.StatusMethodNotAllowed, fmt.Errorf("a %s request reached the sign-in listener instead of the browser's redirect, so the sign-in was stopped; start Generate... again", truncate(r.Method, 16)))
		return
	}
	q := r.URL.Query()
	if !stateMatches(q.Get("state"), lb.state) {
		reject(http.StatusBadRequest, ErrStateMismatch)
		return
	}
	cb := callback{reply: make(chan outcome, 1), query: q}
	if e := ParseAuthorizeError(q); e != nil {
		cb.err = e
	} else if cb.code = q.Get("code"); cb.code == "" {
		cb.err = ErrNoCode
	}
	if !lb.decide(cb) {
		writePage(w, http.StatusGone, outcome{title: "Sign-in already finished", message: "This sign-in has already finished; you can close this tab."})
		return
	}
	defer close(lb.answered)
	// Show the real outcome of the exchange, not an optimistic "done".
	select {
	case o := <-cb.reply:
		status := http.StatusOK
		if !o.ok {
			status = http.StatusBadRequest
		}
		writePage(w, status, o)
	case <-r.Context().Done():
	case <-time.After(2 * time.Minute):
		writePage(w, http.StatusOK, outcome{title: "Sign-in received", message: "The app received the sign-in. Return to Inventory Beacon to see the result."})
	}
}

// hostAllowed accepts only this computer's loopback names with our port.
// A foreign Host header means DNS rebinding or a confused proxy.
func (lb *loopback) hostAllowed(hostport string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || port != strconv.Itoa(lb.port) {
		return false
	}
	switch strings.ToLower(host) {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// close lets the deciding request finish writing its page (briefly), then
// closes the listeners and every connection. A graceful Shutdown would
// also wait for the browser's idle and speculative pre-connections, which
// can take seconds and would hold up the result shown to the user.
func (lb *loopback) close() {
	lb.mu.Lock()
	decided := lb.decided
	lb.mu.Unlock()
	if decided {
		select {
		case <-lb.answered:
		case <-time.After(3 * time.Second):
		}
	}
	_ = lb.srv.Close()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// The page is self-contained: no scripts, images, fonts or links, so
// nothing leaves the machine and no Referer can carry the code anywhere.
var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer">
<title>{{.Title}} – Inventory Beacon</title>
<style>body{font-family:system-ui,sans-serif;margin:3em auto;max-width:40em;padding:0 1em;color:#222}
h1{font-size:1.4em}.ok{color:#0a6b2a}.bad{color:#a11}p{white-space:pre-wrap;line-height:1.4}</style></head>
<body><h1 id="result" class="{{if .OK}}ok{{else}}bad{{end}}">{{.Title}}</h1>
<p id="message">{{.Message}}</p>
<p>You can close this tab and return to Inventory Beacon.</p></body></html>
`))

// writePage sends the whole page with its length and flushes it, so that
// closing the listener right afterwards cannot cut it short.
func writePage(w http.ResponseWriter, status int, o outcome) {
	var b bytes.Buffer
	_ = pageTmpl.Execute(&b, struct {
		OK             bool
		Title, Message string
	}{o.ok, o.title, o.message})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.Header().Set("Connection", "close")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}
