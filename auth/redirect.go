package auth

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
)

// ErrNoCode means the pasted text holds neither a code nor an error.
var ErrNoCode = errors.New("this address holds no sign-in code: after Accept, copy the whole address from the browser's address bar (it contains code=...) and paste it here")

// ParseRedirect takes what the administrator pasted — the address the
// browser ended on after the sign-in — and returns the authorization code.
// It accepts the address with surrounding or embedded whitespace (terminals
// wrap long lines), in quotes or angle brackets, or just its query string.
// A Microsoft error in the address comes back as *Error; a state other than
// wantState as ErrStateMismatch, and then no code is returned.
func ParseRedirect(pasted, wantState string) (string, error) {
	s := cleanPasted(pasted)
	if s == "" {
		return "", errors.New("nothing was pasted: paste the address of the page the browser shows after the sign-in")
	}
	q, err := pastedQuery(s)
	if err != nil {
		return "", fmt.Errorf("the pasted text is not a web address (%v): copy the whole address from the browser's address bar", err)
	}
	if !stateMatches(q.Get("state"), wantState) {
		if q.Get("code") == "" && q.Get("error") == "" {
			return "", ErrNoCode
		}
		return "", ErrStateMismatch
	}
	if e := ParseAuthorizeError(q); e != nil {
		return "", e
	}
	code := q.Get("code")
	if code == "" {
		return "", ErrNoCode
	}
	return code, nil
}

// stateMatches compares in constant time so the comparison leaks nothing
// about the expected value. An empty expected state never matches.
func stateMatches(got, want string) bool {
	if want == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// cleanPasted drops the spaces and line breaks a copy adds, and quotes
// or angle brackets around the address.
func cleanPasted(pasted string) string {
	s := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, pasted)
	return strings.Trim(s, `"'<>`)
}

// pastedQuery is the answer's parameters in a cleaned pasted text: the
// query of an address (or its fragment, where response_mode=fragment puts
// them), or the text itself as a query.
func pastedQuery(s string) (url.Values, error) {
	if !strings.Contains(s, "://") {
		return url.ParseQuery(strings.TrimPrefix(s, "?"))
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	if q.Get("code") == "" && q.Get("error") == "" && u.Fragment != "" {
		if fq, err := url.ParseQuery(u.Fragment); err == nil {
			q = fq
		}
	}
	return q, nil
}

// redirectQuery is the parameters of a pasted redirect address, for the
// checks after ParseRedirect accepted it.
func redirectQuery(pasted string) url.Values {
	q, err := pastedQuery(cleanPasted(pasted))
	if err != nil {
		return url.Values{}
	}
	return q
}
