package service

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/internal/testcert"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/storage"
)

// certSetup is an import into a fresh store of a Certificate connection
// saved in the configuration, signing in for real (auth's token source)
// against a simulator whose daemon app may read its own registration.
func certSetup(t *testing.T, certFile string) (*Imports, storage.Connection, *m365sim.Server, *memSecrets) {
	t.Helper()
	e, conn, sim := setupSim(t, m365sim.Options{Users: 20, Seed: 7})
	ten := sim.Tenant()
	ten.Lock()
	app := ten.App(tenant.ConfidentialClientID)
	app.AppRoles = append(app.AppRoles, "Application.Read.All")
	ten.Unlock()
	secrets := &memSecrets{}
	e.Secrets, e.Tokens = secrets, nil
	conn.AuthFlow, conn.RedirectURI, conn.ClientID = storage.FlowClientCredentials, "", tenant.ConfidentialClientID
	cc, err := OpenCertificate(certFile, "")
	if err != nil {
		t.Fatal(err)
	}
	changes, err := cc.Apply(&conn, false)
	if err != nil || len(changes) != 0 {
		t.Fatalf("a PEM file needs no secret: %v %v", changes, err)
	}
	if err := storage.NewConfigStore(e.ConfigDir).Save(&storage.Config{Version: storage.ConfigVersion, Connections: []storage.Connection{conn}}); err != nil {
		t.Fatal(err)
	}
	return e, conn, sim, secrets
}

// A certificate connection imports, and a certificate rotated (the new
// one registered beside the old, the file replaced, the old removed) never
// fails a scheduled run. The runs record the last token's time and the
// app registration's credential end dates for the expiry warnings.
func TestCertificateConnectionImportsAndRotates(t *testing.T) {
	now := clock.Now()
	oldC := testcert.New("Old", 0, now.AddDate(0, -11, 0), now.AddDate(0, 0, 20))
	newC := testcert.New("New", 1, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	path := filepath.Join(t.TempDir(), "daemon.pem")
	if err := os.WriteFile(path, oldC.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	e, conn, sim, _ := certSetup(t, path)
	if _, err := sim.RegisterCertificate(oldC.CER()); err != nil {
		t.Fatal(err)
	}
	run := func(step string) {
		t.Helper()
		out, err := Scheduled{e}.Execute(context.Background(), conn, schedule.TriggerSchedule, "")
		if err != nil || out.Status != schedule.StatusSucceeded {
			t.Fatalf("%s: %+v %v", step, out, out.Err)
		}
	}
	before, err := storage.NewConfigStore(e.ConfigDir).Load()
	if err != nil {
		t.Fatal(err)
	}
	run("old certificate")
	if _, err := sim.RegisterCertificate(newC.CER()); err != nil {
		t.Fatal(err)
	}
	run("both registered")
	if err := os.WriteFile(path, newC.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	run("new certificate in the file")
	sim.RemoveCertificate(tenant.KeyCredential{Cert: oldC.Cert}.Thumbprint())
	run("old removed")

	// What the runs record is state, not settings: a window's unsaved
	// edits must not find the configuration changed under them.
	if after, err := storage.NewConfigStore(e.ConfigDir).Load(); err != nil || after.Revision != before.Revision {
		t.Errorf("the runs rewrote config.json (revision %d → %d, %v)", before.Revision, after.Revision, err)
	}
	state, err := storage.NewConfigStore(e.ConfigDir).LoadState()
	if err != nil {
		t.Fatal(err)
	}
	saved := state.Of(conn.ID)
	if saved.LastRefresh.IsZero() {
		t.Error("the last token's time is not recorded")
	}
	var certs, secrets int
	for _, a := range saved.AppCredentials {
		switch a.Kind {
		case "certificate":
			certs++
			if a.Name != (tenant.KeyCredential{Cert: newC.Cert}).Thumbprint() || !a.End.Equal(newC.Cert.NotAfter.UTC()) {
				t.Errorf("registered certificate %+v", a)
			}
		case "secret":
			secrets++
		}
	}
	if certs != 1 || secrets != 1 {
		t.Errorf("app credentials %+v, want the new certificate and the secret", saved.AppCredentials)
	}
}

// A certificate the app registration does not have fails the run with
// the plain advice, in the import history too.
func TestCertificateNotRegisteredExplained(t *testing.T) {
	now := clock.Now()
	c := testcert.New("Unknown", 0, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	path := filepath.Join(t.TempDir(), "daemon.pem")
	if err := os.WriteFile(path, c.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	e, conn, _, _ := certSetup(t, path)
	out, err := Scheduled{e}.Execute(context.Background(), conn, schedule.TriggerSchedule, "")
	if err != nil || out.Status != schedule.StatusFailed || out.Err == nil || !strings.Contains(out.Err.Error(), "Certificates & secrets") {
		t.Fatalf("unknown certificate: %+v", out)
	}
}

// The scheduler's upkeep refreshes a scheduled sign-in unused for longer
// than KeepAliveAfter even when its schedule is monthly, and notifies each
// expiry threshold once.
func TestUpkeepKeepsSignInsAliveAndWarnsOnce(t *testing.T) {
	secrets := &memSecrets{}
	conn, sim := signedInConn(t, false, secrets)
	now := clock.Now()
	conn.ScheduleID = "monthly"
	conn.Token.ObtainedAt = now.Add(-10 * 24 * time.Hour)
	daemon := storage.Connection{ID: storage.NewID(), Name: "Daemon", AuthFlow: storage.FlowClientCredentials, Credential: storage.CredentialCertificate,
		Certificate: &storage.CertificateInfo{Thumbprint: "ABCD", NotAfter: now.Add(5 * 24 * time.Hour)}}
	dir := t.TempDir()
	cfg := &storage.Config{Version: storage.ConfigVersion, Connections: []storage.Connection{conn, daemon},
		Schedules: []storage.Schedule{{ID: "monthly", Name: "Monthly", Kind: storage.Monthly, DayOfMonth: 1}}}
	if err := storage.NewConfigStore(dir).Save(cfg); err != nil {
		t.Fatal(err)
	}
	var told []string
	u := Upkeep{ConfigDir: dir, Secrets: secrets, Notify: func(s string) { told = append(told, s) }}
	u.Run(context.Background(), now)
	if n := sim.Identity().Stats().Refreshes; n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	saved, _ := storage.NewConfigStore(dir).LoadState()
	if saved.Of(conn.ID).LastRefresh.IsZero() {
		t.Error("the refresh is not recorded")
	}
	if len(told) != 1 || !strings.Contains(told[0], "certificate (thumbprint ABCD)") {
		t.Fatalf("notified %q", told)
	}
	u.Run(context.Background(), now.Add(time.Hour))
	if n := sim.Identity().Stats().Refreshes; n != 1 || len(told) != 1 {
		t.Errorf("second upkeep: %d refreshes, %d notifications; want no new one", n, len(told))
	}
	// The next threshold is notified once more.
	u.Run(context.Background(), now.Add(4*24*time.Hour+time.Hour))
	if len(told) != 2 || !strings.Contains(told[1], "within a day") {
		t.Errorf("1-day threshold: %q", told)
	}
}
