package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Users are chained by an opaque cursor, so one listing is one request
// after another. Parallel enumeration splits the users by the first
// character of their user principal name, with
// $filter=startswith(userPrincipalName,'x') (a standard filter, also
// countable with ConsistencyLevel: eventual), and lists the shards side by
// side.

// ErrFilterRejected matches a 400 from a filtered or counted users query:
// the tenant (or a proxy in front of it) does not support the shard
// filter, so the caller lists users unfiltered.
var ErrFilterRejected = errors.New("Microsoft Graph refused the user filter")

// ErrSyncStateNotFound matches 410 Gone from a delta link
// (syncStateNotFound): the delta token expired; do a full sync.
var ErrSyncStateNotFound = errors.New("the delta token has expired (syncStateNotFound)")

// quotePrefix makes an OData string literal's content: a quote is doubled.
func quotePrefix(p string) string { return strings.ReplaceAll(p, "'", "''") }

func prefixFilter(prefix string) string {
	return url.QueryEscape("startswith(userPrincipalName,'" + quotePrefix(prefix) + "')")
}

// filterError turns a 400 into ErrFilterRejected (keeping the details).
func filterError(err error) error {
	var ge *GraphError
	if errors.As(err, &ge) && ge.Status == http.StatusBadRequest {
		return fmt.Errorf("%w: %w", ErrFilterRejected, err)
	}
	return err
}

// PageSize is the $top the client asks for users with: a shard of n users
// takes ceil(n/PageSize) requests one after another.
func (c *Client) PageSize() int { return c.o.PageSize }

// UserCountPrefix counts the users whose user principal name starts with
// prefix (case-insensitively), with ConsistencyLevel: eventual.
func (c *Client) UserCountPrefix(ctx context.Context, prefix string) (int, error) {
	n, err := c.count(ctx, c.url("/users/$count?$filter="+prefixFilter(prefix)))
	return n, filterError(err)
}

// UsersWithPrefix streams the users whose user principal name starts with
// prefix, a page at a time (the slice is reused: fn must not keep it).
func (c *Client) UsersWithPrefix(ctx context.Context, prefix string, sink Sink[User]) error {
	err := pages(ctx, c, c.url("/users?$select="+UserSelect+"&$top="+strconv.Itoa(c.o.PageSize)+"&$filter="+prefixFilter(prefix)), nil, sink)
	return filterError(err)
}

func (c *Client) count(ctx context.Context, rawURL string) (int, error) {
	var n int
	h := http.Header{"Consistencylevel": {"eventual"}}
	err := c.get(ctx, rawURL, h, func(resp *http.Response) error {
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("unexpected %s from /users/$count", resp.Status)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64))
		if err != nil {
			return bodyError(err)
		}
		n, err = strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(string(b), "\ufeff")))
		if err != nil {
			return bodyError(fmt.Errorf("the user count %q is not a number: %w", b, err))
		}
		return nil
	})
	return n, err
}

// UsersDelta walks a users delta round: from link (a deltaLink kept from
// the last round), or, when link is "", a full round. Pages go to fn (the
// slice is reused). It returns the new deltaLink. An expired link gives an
// error matching ErrSyncStateNotFound.
func (c *Client) UsersDelta(ctx context.Context, link string, sink Sink[DeltaUser]) (string, error) {
	if link == "" {
		link = c.url("/users/delta?$select=" + UserSelect)
	}
	next, err := pagesDelta(ctx, c, link, nil, sink)
	if err != nil {
		return "", deltaError(err)
	}
	if next == "" {
		return "", errors.New("Microsoft Graph ended a delta round without a deltaLink")
	}
	return next, nil
}

// UsersDeltaLatest returns a deltaLink for "from now on" without listing
// anyone ($deltatoken=latest). Taken before a full listing, it makes the
// next delta round report everything that changed since, including
// changes made while the listing ran (re-applying one is harmless).
func (c *Client) UsersDeltaLatest(ctx context.Context) (string, error) {
	return c.UsersDelta(ctx, c.url("/users/delta?$select="+UserSelect+"&$deltatoken=latest"), func([]DeltaUser) error { return nil })
}

func deltaError(err error) error {
	var ge *GraphError
	if errors.As(err, &ge) && ge.Status == http.StatusGone {
		return fmt.Errorf("%w: %w", ErrSyncStateNotFound, err)
	}
	return err
}

// ReleaseUsersMemory gives back the page buffers and plan cache kept for
// users pages to come (pagedecode.UsersScanner.Release): the listing is
// over. Listing users again afterwards still works.
func (c *Client) ReleaseUsersMemory() { c.users.Release() }

// UsersMemoryKept is what ReleaseUsersMemory would give back: the users
// page buffers and cached assignedPlans arrays the client holds.
func (c *Client) UsersMemoryKept() (pageBuffers, cachedArrays int) { return c.users.Kept() }
