// Package msendpoint holds the syntax rules of the Microsoft 365 settings
// that both the connection's validation (connector) and the sign-in (auth)
// apply: identity platform and Graph endpoint URLs, the tenant segment of a
// token endpoint, the application (client) ID, loopback redirect addresses
// and proxy addresses.
//
// It is a leaf on purpose. auth must not import connector (the layers of
// shared/guide/architecture.md put them side by side), and these rules are
// about strings, not about the stored connection, so they do not belong in
// storage either: storage keeps what is saved, not what Microsoft accepts.
// The package imports nothing of the product, so every layer may use it and
// each rule is written once.
//
// Its error messages are shown as they are next to a field of the
// connection dialog, so they are whole sentences saying what to do.
package msendpoint

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// ParseProxyServer parses a proxy address in one of the accepted forms,
// `http://host:port`, `https://host:port` or `IPAddress:port` (IPv6 in
// brackets), and returns it as a URL ready for http.Transport.Proxy. The
// bare form means plain http, as every proxy client reads it.
func ParseProxyServer(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("Enter the proxy address, for example http://proxy.example.com:8080.")
	}
	lower := strings.ToLower(s)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		if strings.Contains(s, "://") {
			return nil, errors.New("Only http:// and https:// proxies are supported.")
		}
		host, port, err := splitHostPort(s)
		if err != nil {
			return nil, err
		}
		if _, err := netip.ParseAddr(host); err != nil {
			return nil, errors.New("Without http:// or https:// in front, give an IP address and port, for example 10.0.0.5:8080; for a host name write http://proxy.example.com:8080.")
		}
		return &url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("This is not a valid address; write it like http://proxy.example.com:8080.")
	}
	if u.User != nil {
		return nil, errors.New("Put the user name and password in the Username and Password fields, not in the address.")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, errors.New("A proxy address has no path: write only the scheme, host and port, like http://proxy.example.com:8080.")
	}
	host, port, err := splitHostPort(u.Host)
	if err != nil {
		return nil, err
	}
	if _, err := netip.ParseAddr(host); err != nil && !validHostname(host) {
		return nil, fmt.Errorf("%q is not a valid host name.", host)
	}
	return &url.URL{Scheme: strings.ToLower(u.Scheme), Host: net.JoinHostPort(host, port)}, nil
}

// splitHostPort splits host:port, requiring a port of 1–65535 and brackets
// around an IPv6 address.
func splitHostPort(hp string) (host, port string, err error) {
	h, p, err := net.SplitHostPort(hp)
	if err != nil {
		if strings.Count(hp, ":") > 1 && !strings.HasPrefix(hp, "[") {
			return "", "", errors.New("Put an IPv6 address in brackets, followed by the port, for example [2001:db8::1]:8080.")
		}
		return "", "", errors.New("Add the port after a colon, for example :8080.")
	}
	if h == "" {
		return "", "", errors.New("The host is missing before the port.")
	}
	if strings.Contains(h, ":") && !strings.HasPrefix(hp, "[") {
		return "", "", errors.New("Put an IPv6 address in brackets, followed by the port, for example [2001:db8::1]:8080.")
	}
	if strings.HasPrefix(hp, "[") {
		if a, err := netip.ParseAddr(h); err != nil || !a.Is6() || a.Zone() != "" {
			return "", "", errors.New("Only an IPv6 address goes in brackets, for example [2001:db8::1]:8080.")
		}
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 || p[0] == '0' || p[0] == '+' {
		return "", "", fmt.Errorf("The port must be a number from 1 to 65535, not %q.", p)
	}
	return h, p, nil
}

// validHostname accepts DNS names: labels of letters, digits and hyphens,
// not starting or ending with a hyphen, separated by dots.
var hostnamePattern = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$`)

func validHostname(h string) bool { return len(h) <= 253 && hostnamePattern.MatchString(h) }

var guidPattern = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

// ValidateClientID checks that the Application (client) ID is a GUID, as the
// Azure portal shows it on the app registration's overview page.
func ValidateClientID(id string) error {
	id = strings.TrimSpace(id)
	if id == "" {
		return errors.New("Enter the application (client) ID of the app registration.")
	}
	if !guidPattern.MatchString(id) {
		return errors.New("This is not a GUID: copy the Application (client) ID from the app registration's Overview page in the Azure portal; it looks like 5bb1a5a2-0d97-4335-9448-119f7b27aff9.")
	}
	return nil
}

// IsLoopbackURL reports whether raw is a URL whose host is this machine:
// localhost, 127.0.0.0/8 or [::1].
func IsLoopbackURL(raw string) bool {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return false
	}
	return isLoopbackHost(u.Hostname())
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.Zone() == "" && a.IsLoopback()
}

// ValidateEndpoint checks an endpoint URL: https://, or http:// on a
// loopback address (the local simulator). Plain http to anything else would
// send tokens and secrets in clear text.
func ValidateEndpoint(raw string) error {
	_, err := ParseEndpoint(raw)
	return err
}

// ParseEndpoint is ValidateEndpoint returning the parsed URL, for the rules
// that look further at an accepted address (the redirect URI, the cloud's
// host).
func ParseEndpoint(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, errors.New("Enter the address, starting with https://.")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return nil, errors.New("This is not a valid address; it should look like https://login.microsoftonline.com/common/oauth2/v2.0/token.")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if u.Host == "" || !isLoopbackHost(u.Hostname()) {
			return nil, errors.New("Use https://; plain http:// is allowed only for this computer (localhost, 127.0.0.1 or [::1]).")
		}
	case "":
		return nil, errors.New("Start the address with https://.")
	default:
		return nil, fmt.Errorf("Use https://, not %s://.", u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, errors.New("The host name is missing after https://.")
	}
	if u.User != nil {
		return nil, errors.New("Remove the user name or password from the address.")
	}
	if u.Fragment != "" {
		return nil, errors.New("Remove the part after # from the address.")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("The port must be a number from 1 to 65535, not %q.", p)
		}
	}
	if h := u.Hostname(); !validHostname(h) {
		if _, err := netip.ParseAddr(h); err != nil {
			return nil, fmt.Errorf("%q is not a valid host name.", h)
		}
	}
	return u, nil
}

// tenantPattern is what Microsoft accepts as the tenant path segment: a
// GUID, a domain name, or common/organizations/consumers.
var tenantPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$`)

// ValidTenant reports whether t can stand as the tenant segment of an
// identity platform endpoint.
func ValidTenant(t string) bool { return tenantPattern.MatchString(t) }

// TenantFromEndpoint returns the tenant named in an identity platform
// endpoint — the first path segment, as in
// https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token — or "" when
// there is none.
func TenantFromEndpoint(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return ""
	}
	seg, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	return seg
}

// IsTenantIndependent reports whether tenant is one of the names that stand
// for "any tenant" rather than naming one.
func IsTenantIndependent(tenant string) bool {
	switch strings.ToLower(tenant) {
	case "common", "organizations", "consumers":
		return true
	}
	return false
}

// ValidateTenantTokenEndpoint checks that a token endpoint names one
// tenant. Client Credentials signs in as the application itself, so
// Microsoft must be told which tenant; common, organizations and consumers
// are refused by Microsoft for that grant.
func ValidateTenantTokenEndpoint(tokenEndpoint string) error {
	t := TenantFromEndpoint(tokenEndpoint)
	if t == "" || IsTenantIndependent(t) {
		shown := t
		if shown == "" {
			shown = "no tenant"
		}
		return fmt.Errorf("Client Credentials needs your tenant in the address instead of %q: use your tenant ID or domain, like https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token.", shown)
	}
	return nil
}
