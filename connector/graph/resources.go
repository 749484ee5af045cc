package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/inventorybeacon/beacon/storage/inventory"
)

// UserSelect is the $select of the users query (microsoft-wire.md):
// without it Graph leaves out accountEnabled, assignedLicenses and more.
const UserSelect = "id,userPrincipalName,displayName,mail,accountEnabled,assignedLicenses,assignedPlans,usageLocation,department,jobTitle,createdDateTime"

// ServicePrincipalSelect is the $select of the applications query.
const ServicePrincipalSelect = "id,appId,displayName,appDisplayName,publisherName,appOwnerOrganizationId,servicePrincipalType,accountEnabled,tags"

// decodePage decodes one page ({"value":[...], "@odata.nextLink": ...}) as
// a stream into buf (reset to length 0). The page is only handed over once
// it decoded completely, so a truncated body leads to a retry of the page,
// never to half a page imported twice.
//
// It uses the JSON v2 decoder (github.com/go-json-experiment/json, the
// basis of Go's encoding/json/v2): it decodes a users page about three
// times faster than encoding/json, which alone took more than the whole
// budget of 20 µs per user.
func decodePage[T any](r io.Reader, buf []T) ([]T, string, error) {
	buf, next, _, err := decodePageLinks(r, buf)
	return buf, next, err
}

// decodePageLinks is decodePage that also returns @odata.deltaLink (the
// last page of a delta round carries it instead of a nextLink).
//
// Users and users/delta pages go to decodeUsersPage (usersdecode.go), a
// hand-written scanner with the same results; other types, and whatever
// that scanner leaves, to decodePageStream.
func decodePageLinks[T any](r io.Reader, buf []T) ([]T, string, string, error) {
	switch b := any(buf).(type) {
	case []inventory.User:
		out, next, delta, err := decodeUsersPage(r, b)
		return any(out).([]T), next, delta, err
	case []DeltaUser:
		out, next, delta, err := decodeUsersPage(r, b)
		return any(out).([]T), next, delta, err
	}
	return decodePageStream(r, buf)
}

// decodePageStream is the generic decoder of a page, reading it as a
// stream with JSON v2. It is the reference the users scanner must agree
// with (usersdecode_test.go, FuzzDecodeUsersFast).
func decodePageStream[T any](r io.Reader, buf []T) ([]T, string, string, error) {
	buf = buf[:0]
	dec := jsontext.NewDecoder(r)
	if err := expectKind(dec, '{'); err != nil {
		return buf, "", "", err
	}
	next, delta := "", ""
	opts := pageOptions()
	for dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			return buf, "", "", err
		}
		switch tok.String() {
		case "value":
			if err := expectKind(dec, '['); err != nil {
				return buf, "", "", err
			}
			for dec.PeekKind() != ']' {
				var zero T
				buf = append(buf, zero)
				if err := jsonv2.UnmarshalDecode(dec, &buf[len(buf)-1], opts); err != nil {
					return buf, "", "", err
				}
			}
			if err := expectKind(dec, ']'); err != nil {
				return buf, "", "", err
			}
		case "@odata.nextLink", "@odata.deltaLink":
			key := tok.String()
			tok, err := dec.ReadToken()
			if err != nil {
				return buf, "", "", err
			}
			if tok.Kind() == '"' {
				if key == "@odata.nextLink" {
					next = tok.String()
				} else {
					delta = tok.String()
				}
			}
		default:
			if err := dec.SkipValue(); err != nil {
				return buf, "", "", err
			}
		}
	}
	if err := expectKind(dec, '}'); err != nil {
		return buf, "", "", err
	}
	return buf, next, delta, nil
}

// expectKind reads a delimiter token (also surfacing a read error that
// PeekKind hides behind kind 0).
func expectKind(dec *jsontext.Decoder, want jsontext.Kind) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() != want {
		return fmt.Errorf("unexpected %v in a Graph page, want %v", tok.Kind(), want)
	}
	return nil
}

// pages follows @odata.nextLink from first, handing each complete page to
// fn. The slice is reused for the next page: fn must not keep it.
func pages[T any](ctx context.Context, c *Client, first string, header http.Header, fn func([]T) error) error {
	_, err := pagesDelta(ctx, c, first, header, fn)
	return err
}

// pagesDelta is pages that also returns the deltaLink of the last page.
func pagesDelta[T any](ctx context.Context, c *Client, first string, header http.Header, fn func([]T) error) (string, error) {
	var buf []T
	var delta string
	// Only users pages take a PagesInMemory slot: they are the large ones,
	// and their consumer may wait for the licenses to be staged (the
	// importer's waitSKUs). Had the licenses' page needed a slot too, users
	// pages holding every slot would have waited for it forever (seen in a
	// make test under load, the scheduler's load test).
	limited := false
	switch any(buf).(type) {
	case []inventory.User, []DeltaUser:
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
			buf, next, delta, err = decodePageLinks(resp.Body, buf)
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
func (c *Client) Users(ctx context.Context, fn func([]inventory.User) error) error {
	return pages(ctx, c, c.url("/users?$select="+UserSelect+"&$top="+strconv.Itoa(c.o.PageSize)), nil, fn)
}

// UsersFrom streams users starting from a given URL (a nextLink or a
// filtered query of a shard, for parallel enumeration).
func (c *Client) UsersFrom(ctx context.Context, rawURL string, fn func([]inventory.User) error) error {
	return pages(ctx, c, rawURL, nil, fn)
}

// UserCount asks for the number of users (GET /users/$count with
// ConsistencyLevel: eventual). The figure is eventually consistent: use it
// for progress and for completeness checks, not as the truth.
func (c *Client) UserCount(ctx context.Context) (int, error) {
	return c.count(ctx, c.url("/users/$count"))
}

// SubscribedSKUs returns the tenant's subscribed SKUs (a short list).
func (c *Client) SubscribedSKUs(ctx context.Context) ([]inventory.SKU, error) {
	var all []inventory.SKU
	err := pages(ctx, c, c.url("/subscribedSkus"), nil, func(p []inventory.SKU) error {
		all = append(all, p...)
		return nil
	})
	return all, err
}

// ServicePrincipals streams the tenant's service principals.
func (c *Client) ServicePrincipals(ctx context.Context, fn func([]inventory.ServicePrincipal) error) error {
	return pages(ctx, c, c.url("/servicePrincipals?$select="+ServicePrincipalSelect+"&$top="+strconv.Itoa(c.o.PageSize)), nil, fn)
}

// errStop ends a walk early without an error.
var errStop = errors.New("stop")

// FirstUsers reads one page of n users (Test Connection).
func (c *Client) FirstUsers(ctx context.Context, n int) ([]inventory.User, error) {
	var out []inventory.User
	err := pages(ctx, c, c.url("/users?$select="+UserSelect+"&$top="+strconv.Itoa(max(1, min(n, 999)))), nil, func(p []inventory.User) error {
		out = append(out, p...)
		return errStop
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return out, err
}
