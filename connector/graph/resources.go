package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/inventorybeacon/beacon/connector/graph/pagedecode"
	"github.com/inventorybeacon/beacon/connector/graph/wire"
	"github.com/inventorybeacon/beacon/internal/answer"
)

// UserSelect and ServicePrincipalSelect are the $select of the users and
// applications queries, kept with the types they fill.
const (
	UserSelect             = wire.UserSelect
	ServicePrincipalSelect = wire.ServicePrincipalSelect
)

// decodePage decodes one page ({"value":[...], "@odata.nextLink": ...,
// "@odata.deltaLink": ...}) as a stream into buf (reset to length 0) and
// returns its links. The page is only handed over once it decoded
// completely, so a truncated body leads to a retry of the page, never to
// half a page imported twice.
//
// Users and users/delta pages go to the client's users scanner
// (pagedecode.DecodeUsers); other lists to pagedecode.Stream, the JSON v2
// decoder the scanner is checked against. Objects that do not fit their
// type are left out of buf and returned as skipped.
func decodePage[T any](c *Client, r io.Reader, buf []T) ([]T, string, string, []pagedecode.Skipped, error) {
	switch b := any(buf).(type) {
	case []User:
		out, next, delta, skipped, err := pagedecode.DecodeUsers(c.users, r, b)
		return any(out).([]T), next, delta, skipped, err
	case []DeltaUser:
		out, next, delta, skipped, err := pagedecode.DecodeUsers(c.users, r, b)
		return any(out).([]T), next, delta, skipped, err
	}
	return pagedecode.Stream(r, buf)
}

// Skipped is an object of a listing left out because it does not fit its
// type (a user whose accountEnabled is a string): the rest of its page
// was taken. Path is the listing's request path (/v1.0/users).
type Skipped struct {
	Path string
	pagedecode.Skipped
}

func (s Skipped) Error() string {
	return fmt.Sprintf("Microsoft Graph sent an object of %s that could not be read, so it was left out: %v", s.Path, s.Skipped)
}

type skippedKey struct{}

// WithSkipped returns ctx carrying fn, which the listings run under ctx
// call for every object they leave out (after its page was taken, from
// the listing's goroutine: fn must be safe for concurrent use when
// listings run at once). Without it, a left-out object is only logged.
// The importer turns them into the run's warnings.
func WithSkipped(ctx context.Context, fn func(Skipped)) context.Context {
	return context.WithValue(ctx, skippedKey{}, fn)
}

func (c *Client) skipped(ctx context.Context, path string, skipped []pagedecode.Skipped) {
	fn, _ := ctx.Value(skippedKey{}).(func(Skipped))
	for _, s := range skipped {
		sk := Skipped{Path: path, Skipped: s}
		c.o.Logger.Warn("graph: object left out", "path", path, "index", s.Index, "id", s.ID, "property", s.Property, "offset", s.Offset, "err", s.Err)
		if fn != nil {
			fn(sk)
		}
	}
}

// transferBody records whether reading a response body failed (a reset
// connection, a body shorter than its Content-Length), as opposed to
// ending normally.
type transferBody struct {
	r   io.Reader
	err error
}

func (b *transferBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// pageError classifies a page that did not decode. A transfer that failed
// or a body that ended inside the JSON is retried (the next try likely
// gets the whole page), and so is a body that is not JSON at all (a
// gateway's or proxy's HTML page, not Graph's answer). A complete JSON
// answer that does not parse is not retried: Graph would send the same
// bytes again, and ten tries over minutes only delayed the failure.
func pageError(resp *http.Response, body *transferBody, err error) error {
	path := resp.Request.URL.Path
	var large *answer.TooLargeError
	switch {
	case errors.As(body.err, &large):
		return large // not retried: the same answer would come again
	case body.err != nil:
		return bodyError(fmt.Errorf("the page of %s was cut off in transfer: %w", path, body.err))
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return bodyError(fmt.Errorf("the page of %s ended early: %w", path, err))
	case !jsonContent(resp.Header.Get("Content-Type")):
		return bodyError(fmt.Errorf("the page of %s is not JSON (Content-Type %q), likely a gateway's answer: %w", path, resp.Header.Get("Content-Type"), err))
	}
	return fmt.Errorf("Microsoft Graph sent a page of %s that is not valid JSON, so the listing stopped (not retried: the same answer would come again): %w", path, err)
}

// jsonContent reports whether a Content-Type is JSON's (Graph sends
// application/json;odata.metadata=minimal...); none at all counts as
// JSON, so only a body that says it is something else is taken for a
// gateway's page.
func jsonContent(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// pages follows @odata.nextLink from first, handing each complete page to
// fn. The slice is reused for the next page: fn must not keep it.
func pages[T any](ctx context.Context, c *Client, first string, header http.Header, fn Sink[T]) error {
	_, err := pagesDelta(ctx, c, first, header, fn)
	return err
}

// pagesDelta is pages that also returns the deltaLink of the last page.
func pagesDelta[T any](ctx context.Context, c *Client, first string, header http.Header, fn Sink[T]) (string, error) {
	return walkPages(ctx, c, first, header, "", fn)
}

// walkPages is pagesDelta whose pages, when small names what they hold
// ("a page of one user"), are refused as an *answer.TooLargeError once
// answer.Max bytes have come: a short listing outside imports (Test
// Connection's) that never ends is not Graph's, and streaming it would
// read on until the timeouts.
func walkPages[T any](ctx context.Context, c *Client, first string, header http.Header, small string, fn Sink[T]) (string, error) {
	var buf []T
	var delta string
	// Only users pages take a PagesInMemory slot: they are the large ones,
	// and their consumer may wait for the licenses to be staged (the
	// importer's waitSKUs). Had the licenses' page needed a slot too, users
	// pages holding every slot would have waited for it forever (seen in a
	// make test under load, the scheduler's load test).
	limited := false
	switch any(buf).(type) {
	case []User, []DeltaUser:
		limited = true
	}
	for link := first; link != ""; {
		var next string
		var skipped []pagedecode.Skipped
		path := link
		if u, err := url.Parse(link); err == nil {
			path = u.Path // a nextLink's query is an opaque token: not for warnings
		}
		held := false // a PagesInMemory slot, from the body to fn's return
		release := func() {
			if held {
				<-c.pages
				held = false
			}
		}
		err := c.get(ctx, link, header, func(resp *http.Response) error {
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("unexpected %s from %s", resp.Status, resp.Request.URL.Path)
			}
			if limited && !held {
				select {
				case c.pages <- struct{}{}:
					held = true
				case <-ctx.Done():
					return context.Cause(ctx)
				}
			}
			var err error
			body := &transferBody{r: resp.Body}
			if small != "" {
				body.r = answer.NewBody(resp.Body, func() error { return tooLarge(resp, small) })
			}
			buf, next, delta, skipped, err = decodePage(c, body, buf)
			if err != nil {
				return pageError(resp, body, err)
			}
			return nil
		})
		if err != nil {
			release()
			return "", err
		}
		c.skipped(ctx, path, skipped)
		err = fn(buf)
		release()
		if err != nil {
			return "", err
		}
		// Followed verbatim: the skip token is opaque.
		link = next
	}
	return delta, nil
}

// Users streams all users, a page (up to 999) at a time.
func (c *Client) Users(ctx context.Context, sink Sink[User]) error {
	return pages(ctx, c, c.url("/users?$select="+UserSelect+"&$top="+strconv.Itoa(c.o.PageSize)), nil, sink)
}

// UsersFrom streams users starting from a given URL (a nextLink or a
// filtered query of a shard, for parallel enumeration).
func (c *Client) UsersFrom(ctx context.Context, rawURL string, sink Sink[User]) error {
	return pages(ctx, c, rawURL, nil, sink)
}

// UserCount asks for the number of users (GET /users/$count with
// ConsistencyLevel: eventual). The figure is eventually consistent: use it
// for progress and for completeness checks, not as the truth.
func (c *Client) UserCount(ctx context.Context) (int, error) {
	return c.count(ctx, c.url("/users/$count"))
}

// SubscribedSKUs returns the tenant's subscribed SKUs (a short list).
func (c *Client) SubscribedSKUs(ctx context.Context) ([]SubscribedSku, error) {
	var all []SubscribedSku
	err := pages(ctx, c, c.url("/subscribedSkus"), nil, func(p []SubscribedSku) error {
		all = append(all, p...)
		return nil
	})
	return all, err
}

// ServicePrincipals streams the tenant's service principals.
func (c *Client) ServicePrincipals(ctx context.Context, sink Sink[ServicePrincipal]) error {
	return pages(ctx, c, c.url("/servicePrincipals?$select="+ServicePrincipalSelect+"&$top="+strconv.Itoa(c.o.PageSize)), nil, sink)
}

// errStop ends a walk early without an error.
var errStop = errors.New("stop")

// FirstUsers reads one page of n users, at most 100 (Test Connection).
// The page is read up to answer.Max bytes: a hundred users take a few
// hundred kilobytes.
func (c *Client) FirstUsers(ctx context.Context, n int) ([]User, error) {
	var out []User
	n = max(1, min(n, 100))
	what := fmt.Sprintf("a page of %d users", n)
	if n == 1 {
		what = "a page of one user"
	}
	_, err := walkPages(ctx, c, c.url("/users?$select="+UserSelect+"&$top="+strconv.Itoa(n)), nil, what, func(p []User) error {
		out = append(out, p...)
		return errStop
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return out, err
}
