package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/inventorybeacon/beacon/connector/graph/pagedecode"
	"github.com/inventorybeacon/beacon/connector/graph/wire"
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
// decoder the scanner is checked against.
func decodePage[T any](c *Client, r io.Reader, buf []T) ([]T, string, string, error) {
	switch b := any(buf).(type) {
	case []User:
		out, next, delta, err := pagedecode.DecodeUsers(c.users, r, b)
		return any(out).([]T), next, delta, err
	case []DeltaUser:
		out, next, delta, err := pagedecode.DecodeUsers(c.users, r, b)
		return any(out).([]T), next, delta, err
	}
	return pagedecode.Stream(r, buf)
}

// pages follows @odata.nextLink from first, handing each complete page to
// fn. The slice is reused for the next page: fn must not keep it.
func pages[T any](ctx context.Context, c *Client, first string, header http.Header, fn Sink[T]) error {
	_, err := pagesDelta(ctx, c, first, header, fn)
	return err
}

// pagesDelta is pages that also returns the deltaLink of the last page.
func pagesDelta[T any](ctx context.Context, c *Client, first string, header http.Header, fn Sink[T]) (string, error) {
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
			buf, next, delta, err = decodePage(c, resp.Body, buf)
			if err != nil {
				return bodyError(fmt.Errorf("the page ended early or is not valid JSON: %w", err))
			}
			return nil
		})
		if err != nil {
			release()
			return "", err
		}
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

// FirstUsers reads one page of n users (Test Connection).
func (c *Client) FirstUsers(ctx context.Context, n int) ([]User, error) {
	var out []User
	err := pages(ctx, c, c.url("/users?$select="+UserSelect+"&$top="+strconv.Itoa(max(1, min(n, 999)))), nil, func(p []User) error {
		out = append(out, p...)
		return errStop
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return out, err
}
