package graph

import (
	"context"
	"net/http"
	"strconv"

	"github.com/inventorybeacon/beacon/connector/graph/wire"
	"github.com/inventorybeacon/beacon/internal/jwtclaims"
)

// What licence reclamation reads beside the users (issue 17): the groups
// that assign licences, for their names, and each user's signInActivity,
// which Graph serves only with Microsoft Entra ID P1 and AuditLog.Read.All,
// at most SignInPageSize users a page, and never in a delta round, so it is
// a listing of its own.

// SignInPageSize is the largest $top Graph allows with signInActivity.
const SignInPageSize = 120

// licensingGroupsQuery is the advanced query licence tools use: the groups
// whose assignedLicenses are not empty. It needs ConsistencyLevel:
// eventual and $count=true, or Graph answers 400.
const licensingGroupsQuery = "/groups?$select=" + wire.GroupSelect + "&$filter=assignedLicenses/$count%20ne%200&$count=true"

// LicenseGroups returns the groups that assign licences (a short list).
// Without GroupMember.Read.All, Group.Read.All or Directory.Read.All the
// error matches ErrForbidden.
func (c *Client) LicenseGroups(ctx context.Context) ([]Group, error) {
	var all []Group
	h := http.Header{"Consistencylevel": {"eventual"}}
	err := pages(ctx, c, c.url(licensingGroupsQuery), h, func(p []Group) error {
		all = append(all, p...)
		return nil
	})
	return all, err
}

// SignIns streams every user's signInActivity, SignInPageSize users a
// page. A tenant without Entra ID P1 gives an error matching ErrNoPremium,
// a connection without AuditLog.Read.All one matching ErrForbidden.
func (c *Client) SignIns(ctx context.Context, sink Sink[SignInUser]) error {
	return pages(ctx, c, c.url("/users?$select="+wire.SignInSelect+"&$top="+strconv.Itoa(SignInPageSize)), nil, sink)
}

// SignInsWithPrefix is SignIns for the users whose user principal name
// starts with prefix (a shard, as UsersWithPrefix).
func (c *Client) SignInsWithPrefix(ctx context.Context, prefix string, sink Sink[SignInUser]) error {
	err := pages(ctx, c, c.url("/users?$select="+wire.SignInSelect+"&$top="+strconv.Itoa(SignInPageSize)+"&$filter="+prefixFilter(prefix)), nil, sink)
	return filterError(err)
}

// Grants returns what the current access token says it was granted; ok is
// false when it says nothing readable (an opaque token), and the caller
// then asks Graph and lets its answer decide. A hint, never a check.
func (c *Client) Grants(ctx context.Context) (g jwtclaims.Grants, ok bool, err error) {
	tok, err := c.tokens.Token(ctx)
	if err != nil {
		return g, false, err
	}
	g, ok = jwtclaims.Read(tok)
	return g, ok, nil
}
