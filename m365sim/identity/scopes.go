package identity

import (
	"sort"
	"strings"
)

// permission is a delegated Microsoft Graph permission the simulator knows.
type permission struct {
	Name        string // canonical spelling
	Description string // what the consent page says, as Microsoft words it
	AdminOnly   bool   // needs an administrator's consent
}

var permissions = []permission{
	{"User.Read", "Sign you in and read your profile", false},
	{"User.ReadBasic.All", "Read all users' basic profiles", false},
	{"User.Read.All", "Read all users' full profiles", true},
	{"Directory.Read.All", "Read directory data", true},
	{"Reports.Read.All", "Read all usage reports", true},
	{"Organization.Read.All", "Read organization information", true},
	{"Application.Read.All", "Read applications", true},
	{"LicenseAssignment.Read.All", "Read all license assignments", true},
	{"GroupMember.Read.All", "Read group memberships", true},
	{"Group.Read.All", "Read all groups", true},
	{"AuditLog.Read.All", "Read audit log data", true},
}

// The OpenID Connect scopes carry no resource.
var oidcScopes = []permission{
	{"openid", "Sign you in", false},
	{"profile", "View your basic profile", false},
	{"email", "View your email address", false},
	{"offline_access", "Maintain access to data you have given it access to", false},
}

// graphAppID is Microsoft Graph's application id; Microsoft accepts it as
// the resource part of a scope too.
const graphAppID = "00000003-0000-0000-c000-000000000000"

// defaultPermissions are what "<resource>/.default" means when nothing is
// consented yet: the app registration model holds no list of required
// permissions, so the simulator assumes the product's own needs (?).
var defaultPermissions = []string{"User.Read", "Directory.Read.All", "Reports.Read.All"}

func lookupPermission(name string) (permission, bool) {
	for _, p := range permissions {
		if strings.EqualFold(p.Name, name) {
			return p, true
		}
	}
	return permission{}, false
}

func lookupOIDC(name string) (permission, bool) {
	for _, p := range oidcScopes {
		if strings.EqualFold(p.Name, name) {
			return p, true
		}
	}
	return permission{}, false
}

// scopeReq is a parsed scope parameter.
type scopeReq struct {
	Resource string   // as the client spelled it (trailing slash trimmed)
	Perms    []string // canonical permission names on Resource
	OIDC     []string // openid, profile, email, offline_access
	Default  bool     // "<resource>/.default"
}

func (q scopeReq) has(oidc string) bool {
	for _, s := range q.OIDC {
		if s == oidc {
			return true
		}
	}
	return false
}

// fullScopes is the token response's "scope": the resource permissions as
// full URIs.
func (q scopeReq) fullScopes() string {
	out := make([]string, len(q.Perms))
	for i, p := range q.Perms {
		out[i] = q.Resource + "/" + p
	}
	return strings.Join(out, " ")
}

// all lists every requested name (permissions and OpenID scopes), for
// consent bookkeeping.
func (q scopeReq) all() []string {
	return append(append([]string(nil), q.Perms...), q.OIDC...)
}

// parseScopes parses a space-separated scope parameter. Unqualified names
// are Graph permissions on the canonical resource, as Microsoft reads them.
func (s *Server) parseScopes(param string) (scopeReq, *aadError) {
	var q scopeReq
	seen := map[string]bool{}
	for _, f := range strings.Fields(param) {
		if p, ok := lookupOIDC(f); ok {
			if !seen[p.Name] {
				q.OIDC = append(q.OIDC, p.Name)
				seen[p.Name] = true
			}
			continue
		}
		res, name := s.o.GraphResources[0], f
		if i := strings.LastIndex(f, "/"); i >= 0 {
			res, name = strings.TrimRight(f[:i], "/"), f[i+1:]
			known := strings.EqualFold(res, graphAppID)
			for _, g := range s.o.GraphResources {
				if strings.EqualFold(res, g) {
					known = true
				}
			}
			if !known {
				_, domain, _ := s.tenantIDs()
				return q, newErr(400, "invalid_resource", 500011,
					"The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
					res, domain)
			}
			if strings.EqualFold(res, graphAppID) {
				res = s.o.GraphResources[0]
			}
		}
		if q.Resource != "" && !strings.EqualFold(q.Resource, res) {
			return q, newErr(400, "invalid_request", 28000,
				"Provided value for the input parameter scope is not valid because it contains more than one resource. Scope %s is not valid.", param)
		}
		q.Resource = res
		if name == ".default" {
			q.Default = true
			continue
		}
		p, ok := lookupPermission(name)
		if !ok {
			return q, newErr(400, "invalid_scope", 70011,
				"The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", f)
		}
		if !seen[p.Name] {
			q.Perms = append(q.Perms, p.Name)
			seen[p.Name] = true
		}
	}
	if q.Resource == "" {
		// Only OpenID scopes: Microsoft still issues a Graph token, for
		// User.Read (?).
		q.Resource = s.o.GraphResources[0]
		q.Perms = []string{"User.Read"}
	}
	return q, nil
}

// expandDefault turns ".default" into the consented permissions, or the
// default list when nothing is consented yet.
func (q scopeReq) expandDefault(consented map[string]bool) scopeReq {
	if !q.Default {
		return q
	}
	q.Default = false
	var names []string
	for _, p := range permissions {
		if consented[strings.ToLower(p.Name)] {
			names = append(names, p.Name)
		}
	}
	if len(names) == 0 {
		names = defaultPermissions
	}
	for _, n := range names {
		dup := false
		for _, have := range q.Perms {
			dup = dup || have == n
		}
		if !dup {
			q.Perms = append(q.Perms, n)
		}
	}
	return q
}

// describe lists what a consent page shows for the requested names.
func describe(names []string) []permission {
	var out []permission
	for _, n := range names {
		if p, ok := lookupPermission(n); ok {
			out = append(out, p)
		} else if p, ok := lookupOIDC(n); ok {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].AdminOnly && !out[j].AdminOnly })
	return out
}
