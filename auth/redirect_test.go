package auth

import (
	"errors"
	"testing"
)

func TestParseRedirect(t *testing.T) {
	const state = "S7ate-_abc"
	base := "https://login.microsoftonline.com/common/oauth2/nativeclient"
	cases := []struct {
		name, in string
		code     string
		err      error
		aadErr   bool
	}{
		{"plain", base + "?code=C0de&state=" + state, "C0de", nil, false},
		{"whitespace around", "  \t" + base + "?code=C0de&state=" + state + "\r\n", "C0de", nil, false},
		{"wrapped by a terminal", base + "?code=C0\n de&sta\nte=" + state, "C0de", nil, false},
		{"quoted", `"` + base + "?code=C0de&state=" + state + `"`, "C0de", nil, false},
		{"query only", "?code=C0de&state=" + state, "C0de", nil, false},
		{"fragment", base + "#code=C0de&state=" + state, "C0de", nil, false},
		{"wrong state", base + "?code=C0de&state=other", "", ErrStateMismatch, false},
		{"no state", base + "?code=C0de", "", ErrStateMismatch, false},
		{"error", base + "?error=access_denied&error_subcode=cancel&state=" + state, "", ErrCancelled, true},
		{"blank page", base, "", ErrNoCode, false},
		{"no code", base + "?state=" + state, "", ErrNoCode, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, err := ParseRedirect(c.in, state)
			if code != c.code {
				t.Fatalf("code %q, want %q", code, c.code)
			}
			if c.err != nil && !errors.Is(err, c.err) {
				t.Fatalf("err %v, want %v", err, c.err)
			}
			if c.err == nil && err != nil {
				t.Fatal(err)
			}
			var ae *Error
			if errors.As(err, &ae) != c.aadErr {
				t.Fatalf("err %T", err)
			}
		})
	}
	if _, err := ParseRedirect("", state); err == nil {
		t.Fatal("empty paste accepted")
	}
	// A flow never matches an empty expected state.
	if _, err := ParseRedirect(base+"?code=x&state=", ""); !errors.Is(err, ErrStateMismatch) {
		t.Fatal(err)
	}
}

func FuzzParseRedirect(f *testing.F) {
	f.Add("https://login.microsoftonline.com/common/oauth2/nativeclient?code=abc&state=s", "s")
	f.Add("?error=access_denied&error_description=AADSTS90094&state=s", "s")
	f.Add(" \n%zz://", "s")
	f.Fuzz(func(t *testing.T, pasted, state string) {
		code, err := ParseRedirect(pasted, state)
		if err == nil && (code == "" || state == "") {
			t.Fatalf("accepted %q with state %q: code %q", pasted, state, code)
		}
	})
}
