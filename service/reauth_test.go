package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/auth"
	"github.com/inventorybeacon/beacon/storage"
)

func TestExplainImportErrorNamesTheCommand(t *testing.T) {
	conn := storage.Connection{Name: "Contoso Tenant", AuthFlow: storage.FlowAuthorizationCode}
	revoked := auth.ParseErrorBody("refresh", 400, []byte(`{"error":"invalid_grant","error_description":"AADSTS50173: The provided grant has expired due to it being revoked.","error_codes":[50173]}`))
	expired := auth.ParseErrorBody("refresh", 400, []byte(`{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired due to inactivity.","error_codes":[700082]}`))
	const cmd = "`beacon generate \"Contoso Tenant\"`"
	for name, cause := range map[string]error{
		"revoked":         revoked,
		"expired":         expired,
		"never signed in": fmt.Errorf("connection %q: %w", conn.Name, auth.ErrNotSignedIn),
		"no token":        fmt.Errorf("no refresh token is stored: %w", auth.ErrReauthRequired),
	} {
		wrapped := fmt.Errorf("get an access token: %w", cause)
		got := ExplainImportError(conn, wrapped)
		if !strings.Contains(got.Error(), cmd) {
			t.Errorf("%s: no %s in %q", name, cmd, got)
		}
		if strings.Contains(got.Error(), "beacon generate NAME") {
			t.Errorf("%s: the placeholder is left in %q", name, got)
		}
		if !errors.Is(got, auth.ErrReauthRequired) {
			t.Errorf("%s: the explained error no longer is ErrReauthRequired", name)
		}
		if again := ExplainImportError(conn, fmt.Errorf("read users: %w", got)); strings.Count(again.Error(), cmd) != strings.Count(got.Error(), cmd) {
			t.Errorf("%s: explained twice: %q", name, again)
		}
		// The window's report says the same as the import's error.
		if g := ExplainFailure(conn, cause, "").Guidance; !strings.Contains(g, cmd) {
			t.Errorf("%s: the window's guidance does not name the command: %q", name, g)
		}
	}
	if got := ExplainImportError(conn, revoked).Error(); !strings.Contains(got, "AADSTS50173") || !strings.Contains(got, "Generate...") {
		t.Errorf("the guidance lost Microsoft's code or the window's advice: %q", got)
	}

	// Errors that are not about the sign-in are left as they are.
	plain := fmt.Errorf("read users: %w", context.DeadlineExceeded)
	if got := ExplainImportError(conn, plain); got != plain {
		t.Errorf("a network error was changed: %q", got)
	}
	if ExplainImportError(conn, nil) != nil {
		t.Error("nil was explained")
	}
}
