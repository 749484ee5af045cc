package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/storage"
)

// `beacon list` shows the age of a sign-in and warns before it expires
// (from the recorded last use), and lists a certificate's end date; the
// listing itself still succeeds.
func TestListShowsExpiry(t *testing.T) {
	dir := t.TempDir()
	now := clock.Now()
	deleg := storage.Connection{ID: storage.NewID(), Name: "Contoso", SourceType: storage.SourceMicrosoft365, AuthFlow: storage.FlowAuthorizationCode,
		Token: &storage.TokenInfo{ObtainedAt: now.Add(-100 * 24 * time.Hour), Account: "admin@contoso.com"}}
	daemon := storage.Connection{ID: storage.NewID(), Name: "Daemon", SourceType: storage.SourceMicrosoft365, AuthFlow: storage.FlowClientCredentials,
		Credential: storage.CredentialCertificate, Certificate: &storage.CertificateInfo{Thumbprint: "AB12", NotAfter: now.Add(200 * 24 * time.Hour)}}
	cs := storage.NewConfigStore(dir)
	if err := cs.Save(&storage.Config{Version: storage.ConfigVersion, Connections: []storage.Connection{deleg, daemon}}); err != nil {
		t.Fatal(err)
	}
	if err := cs.UpdateState(func(st *storage.State) error {
		st.For(deleg.ID).LastRefresh = now.Add(-85 * 24 * time.Hour)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := Run(context.Background(), &Env{Stdout: &out, Stderr: &errb, ConfigDir: dir}, []string{"list"}); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	text := out.String()
	if !strings.Contains(text, "Contoso: signed in 100 days ago, last used 85 days ago.") ||
		!strings.Contains(text, `Warning: "Contoso": the sign-in (unused refresh tokens end after 90 days) expires on`) || strings.Contains(text, `Warning: "Daemon"`) {
		t.Errorf("list:\n%s", text)
	}
	out.Reset()
	if code := Run(context.Background(), &Env{Stdout: &out, Stderr: &errb, ConfigDir: dir}, []string{"list", "--format", "json"}); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var entries []listEntry
	if err := json.Unmarshal(out.Bytes(), &entries); err != nil || len(entries) != 2 {
		t.Fatalf("json %v: %s", err, out.String())
	}
	if len(entries[0].Warnings) != 1 || len(entries[1].Expires) != 1 || entries[1].Expires[0].What != "certificate AB12" {
		t.Errorf("entries %+v", entries)
	}
}
