// Package graph is the Microsoft Graph client of the import: users,
// subscribed SKUs, service principals, usage reports, the groups that
// assign licences and users' sign-in activity, following
// microsoft-wire.md.
//
// Every request carries a bearer token from a TokenSource and a fresh
// client-request-id, is cancellable through its context, and is retried on
// what Microsoft documents as transient: 429 and 503/504 (honouring
// Retry-After), other 5xx, connection resets and bodies that end early.
// A complete JSON answer that does not parse is not retried (the same
// bytes would come again): the listing fails, naming the offset. An
// object that is well-formed JSON but does not fit its type (a user whose
// accountEnabled is a string) is left out, the rest of its page kept, and
// reported to the function WithSkipped put in the context (the importer
// makes it a warning of the run). Pages are decoded as a stream and
// handed over one page at a time (a Sink per listing), so memory does not
// grow with the tenant.
//
// The client speaks Graph's objects (User, SubscribedSku,
// ServicePrincipal..., package wire) and report rows; it knows nothing of
// how the inventory stores them (connector/importer maps them). What its
// decoders keep between pages (page buffers, the plan cache, report chunk
// memory) are fields of one Client, never package state: clients running
// at once share nothing, and a client's memory goes when it does.
package graph

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/connector/graph/pagedecode"
	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/internal/timeouts"
)

// TokenSource hands out access tokens for Graph. Invalidate drops the
// cached token, so the next Token call refreshes (after a 401).
type TokenSource interface {
	Token(ctx context.Context) (string, error)
	Invalidate()
}

// Options tune the client; the zero value is production behaviour.
type Options struct {
	// MaxAttempts bounds the tries of one request (default 10).
	MaxAttempts int
	// BaseDelay and MaxDelay shape the exponential back-off used when
	// Microsoft gives no Retry-After (defaults 1 s and 60 s).
	BaseDelay, MaxDelay time.Duration
	// MaxRetryAfter caps an honoured Retry-After (default 5 minutes), so a
	// bogus header cannot park the import for hours.
	MaxRetryAfter time.Duration
	// AttemptTimeout bounds one try, body included (default 2 minutes): a
	// body that stalls is abandoned and the page fetched again.
	AttemptTimeout time.Duration
	// Sleep waits between tries; tests replace it to run without delays.
	// It must return early with ctx.Err() when ctx ends.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a number in [0, 1) (default math/rand).
	Jitter func() float64
	// PageSize is $top for users and service principals (default 999, the
	// maximum Graph allows).
	PageSize int
	// PagesInMemory bounds the users pages held at once, from reading a
	// body to the end of the callback that takes the page (default 8;
	// other lists are small and not counted, see pagesDelta). Listing
	// many shards at once keeps more requests than that waiting on the
	// network, which holds no memory; a page in hand holds its body and
	// its decoded users (about 5 MB for 999 users), and when the store is
	// slower than the network every fetcher would otherwise hold one.
	PagesInMemory int
	// PlanCacheBytes bounds the users scanner's cache of decoded
	// assignedPlans arrays, shared by this client's listings (0:
	// pagedecode.DefaultPlanCacheBytes; negative: no cache).
	PlanCacheBytes int
	// Logger receives retries at debug level (never tokens or download
	// signatures). Default: slog.Default().
	Logger *slog.Logger
	// OnRetry, when set, is told of every retry (tests, progress).
	OnRetry func(Retry)
	// Permanent, when set, marks transport errors that no retry can cure
	// (e.g. auth.ErrProxyAuth: the proxy refused the password). TLS
	// certificate errors are always permanent.
	Permanent func(error) bool
}

// Retry describes one retried attempt.
type Retry struct {
	Path    string
	Attempt int
	Reason  string
	Delay   time.Duration
}

// Client talks to one Graph endpoint.
type Client struct {
	hc     *http.Client // no redirects followed: reports' 302 is handled here
	dl     *http.Client // downloads: redirects allowed, never an Authorization header
	base   *url.URL     // e.g. https://graph.microsoft.com/v1.0
	tokens TokenSource
	o      Options
	pages  chan struct{} // PagesInMemory slots
	// users decodes users pages; its page buffers and plan cache serve
	// this client's listings only and go with it.
	users *pagedecode.UsersScanner
	// reportMems are report chunks' memories given back (ReportFile.Chunks).
	reportMems chan *reportMem
}

// New returns a client for graphEndpoint (e.g. https://graph.microsoft.com)
// over hc, whose transport carries the connection's proxy and TLS settings.
func New(hc *http.Client, graphEndpoint string, tokens TokenSource, o Options) (*Client, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	if tokens == nil {
		return nil, errors.New("graph: no token source")
	}
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(graphEndpoint), "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("the Graph endpoint %q is not an http(s) URL: fix it in the connection's Microsoft 365 settings", graphEndpoint)
	}
	if !strings.HasSuffix(u.Path, "/v1.0") {
		u.Path += "/v1.0"
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = timeouts.Scale(time.Second)
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = timeouts.Scale(60 * time.Second)
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = timeouts.Scale(5 * time.Minute)
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = timeouts.Scale(2 * time.Minute)
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Jitter == nil {
		o.Jitter = mrand.Float64
	}
	if o.PageSize <= 0 || o.PageSize > 999 {
		o.PageSize = 999
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.PagesInMemory <= 0 {
		o.PagesInMemory = 8
	}
	noRedirect := *hc
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	download := *hc
	download.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		req.Header.Del("Authorization")
		return nil
	}
	return &Client{hc: &noRedirect, dl: &download, base: u, tokens: tokens, o: o, pages: make(chan struct{}, o.PagesInMemory),
		users: pagedecode.NewUsersScanner(o.PagesInMemory, o.PlanCacheBytes), reportMems: make(chan *reportMem, reportMemsKept)}, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// newGUID returns a random (version 4) GUID for client-request-id.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// retryable marks an error worth another attempt (a reset connection, a
// body that ended early, a gateway's page instead of Graph's: pageError).
type retryable struct{ err error }

func (r retryable) Error() string { return r.err.Error() }
func (r retryable) Unwrap() error { return r.err }

// bodyError wraps an error met while reading a response body.
func bodyError(err error) error { return retryable{err} }

// sameOrigin reports whether u may receive our bearer token: only the
// configured Graph host does, whatever a nextLink says.
func (c *Client) sameOrigin(u *url.URL) bool {
	return strings.EqualFold(u.Scheme, c.base.Scheme) && strings.EqualFold(u.Host, c.base.Host)
}

// url resolves a path relative to the versioned base.
func (c *Client) url(pathAndQuery string) string {
	return c.base.String() + pathAndQuery
}

// get performs a GET with the retry policy. consume reads a 2xx or 3xx
// response; an error it wraps with bodyError causes another attempt.
func (c *Client) get(ctx context.Context, rawURL string, header http.Header, consume func(*http.Response) error) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("bad Graph URL: %w", err)
	}
	if !c.sameOrigin(u) {
		return fmt.Errorf("Microsoft Graph sent a next-page link to another host (%s); refusing to send the access token there", u.Host)
	}
	refreshed := false
	var last error
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		delay, retryAfter, err := c.attempt(ctx, u, header, consume, &refreshed)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if delay < 0 { // not retryable
			return err
		}
		last = err
		if attempt >= c.o.MaxAttempts {
			return fmt.Errorf("gave up after %d attempts: %w", attempt, last)
		}
		if !retryAfter && delay > 0 {
			delay = c.backoff(attempt)
		}
		c.o.Logger.Debug("graph: retrying", "path", u.Path, "attempt", attempt, "delay", delay, "reason", err.Error())
		if c.o.OnRetry != nil {
			c.o.OnRetry(Retry{Path: u.Path, Attempt: attempt, Reason: err.Error(), Delay: delay})
		}
		if delay > 0 {
			if err := c.o.Sleep(ctx, delay); err != nil {
				return err
			}
		}
	}
}

// tokenFailed says what to do when no access token came. Microsoft's
// refusals are final; the network's faults on the way to the token
// endpoint are transient like Graph's own (issue 20: a reset or a stall of
// the token request failed the whole import at once, the stall with a bare
// "context deadline exceeded").
func (c *Client) tokenFailed(ctx, actx context.Context, err error) (time.Duration, bool, error) {
	if ctx.Err() != nil {
		return -1, false, ctx.Err()
	}
	if actx.Err() != nil {
		return 1, false, fmt.Errorf("get an access token: the Token Endpoint did not answer within %s (%w)", c.o.AttemptTimeout, err)
	}
	var ue *url.Error
	if errors.As(err, &ue) && !c.permanent(err) {
		return 1, false, fmt.Errorf("get an access token: %w", err)
	}
	return -1, false, fmt.Errorf("get an access token: %w", err)
}

// permanent reports transport errors that retrying cannot fix: an
// untrusted or mismatched certificate, or what Options.Permanent names.
func (c *Client) permanent(err error) bool {
	var unknownCA x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	var verify *tls.CertificateVerificationError
	if errors.As(err, &unknownCA) || errors.As(err, &invalid) || errors.As(err, &host) || errors.As(err, &verify) {
		return true
	}
	return c.o.Permanent != nil && c.o.Permanent(err)
}

// backoff is capped exponential back-off with "equal jitter": half fixed,
// half random, so synchronised clients spread out but never retry at once.
func (c *Client) backoff(attempt int) time.Duration {
	d := float64(c.o.BaseDelay) * math.Pow(2, float64(attempt-1))
	if d > float64(c.o.MaxDelay) {
		d = float64(c.o.MaxDelay)
	}
	return time.Duration(d/2 + d/2*c.o.Jitter())
}

// parseRetryAfter reads Retry-After: seconds (possibly fractional) or an
// HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 && !math.IsInf(s, 0) && !math.IsNaN(s) {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// attempt makes one try. It returns delay < 0 for a final error, else the
// wait before the next try (retryAfter says Microsoft chose it; otherwise
// any positive delay means "use back-off" and 0 means "retry at once").
func (c *Client) attempt(ctx context.Context, u *url.URL, header http.Header, consume func(*http.Response) error, refreshed *bool) (delay time.Duration, retryAfter bool, err error) {
	actx, cancel := context.WithTimeout(ctx, c.o.AttemptTimeout)
	defer cancel()
	token, err := c.tokens.Token(actx)
	if err != nil {
		return c.tokenFailed(ctx, actx, err)
	}
	req, err := http.NewRequestWithContext(actx, http.MethodGet, u.String(), nil)
	if err != nil {
		return -1, false, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	crid := newGUID()
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("client-request-id", crid)
	req.Header.Set("return-client-request-id", "true")
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return -1, false, ctx.Err()
		}
		if c.permanent(err) {
			return -1, false, fmt.Errorf("request %s: %w", u.Path, err)
		}
		// Resets, refused connections, time-outs of this attempt: the
		// network's faults are transient until attempts run out.
		return 1, false, fmt.Errorf("request %s: %w", u.Path, err)
	}
	defer func() {
		// Drain a little so the connection can be reused, then close.
		_, _ = io.CopyN(io.Discard, resp.Body, 4096)
		resp.Body.Close()
	}()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 400:
		if err := consume(resp); err != nil {
			if ctx.Err() != nil {
				return -1, false, ctx.Err()
			}
			var r retryable
			if errors.As(err, &r) {
				return 1, false, fmt.Errorf("read %s (client-request-id %s): %w", u.Path, crid, err)
			}
			return -1, false, err
		}
		return 0, false, nil
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	gerr := parseError(resp, body, crid)
	if rerr != nil && ctx.Err() == nil {
		return 1, false, fmt.Errorf("read error answer of %s: %w", u.Path, rerr)
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		// An expired or revoked access token: refresh once and try again.
		// A second 401 means the fresh token is refused too.
		if !*refreshed {
			*refreshed = true
			c.tokens.Invalidate()
			return 0, false, gerr
		}
		return -1, false, gerr
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), clock.Now()); ok {
			return min(d, c.o.MaxRetryAfter), true, gerr
		}
		return 1, false, gerr
	case http.StatusInternalServerError, http.StatusBadGateway:
		return 1, false, gerr
	}
	return -1, false, gerr
}
