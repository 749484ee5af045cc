package service

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/connector/importer"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

type minted string

func (m minted) Token(context.Context) (string, error) { return string(m), nil }
func (minted) Invalidate()                             {}

// noSecrets: the connection has no proxy password or client secret.
type noSecrets struct{}

func (noSecrets) Get(string, storage.SecretKind) (string, error) {
	return "", storage.ErrSecretNotFound
}
func (noSecrets) Set(string, storage.SecretKind, string) error { return errors.New("read-only") }
func (noSecrets) Delete(string, storage.SecretKind) error      { return nil }

func setup(t *testing.T) (*Imports, storage.Connection) {
	e, conn, _ := setupSim(t, m365sim.Options{Users: 60, Seed: 5})
	return e, conn
}

// setupSim starts a simulator as o says, and returns imports into a fresh
// store with tokens minted for its administrator, and a connection to it.
func setupSim(t *testing.T, o m365sim.Options) (*Imports, storage.Connection, *m365sim.Server) {
	t.Helper()
	sim, err := m365sim.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { go sim.Close() })
	dir := t.TempDir()
	store, err := inventory.OpenDir(context.Background(), dir, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	conn := storage.Connection{ID: storage.NewID(), Name: "Contoso", SourceType: storage.SourceMicrosoft365, Cloud: "Custom",
		TokenEndpoint: sim.TokenEndpoint(), ClientID: tenant.DefaultClientID, AuthFlow: storage.FlowAuthorizationCode,
		RedirectURI: "http://localhost", GraphEndpoint: sim.GraphEndpoint()}
	tok := minted(sim.MintAccessToken(tenant.AdminLocalPart + "@" + sim.Tenant().Domain))
	e := &Imports{Store: store, ConfigDir: dir, Secrets: noSecrets{},
		Tokens: func(storage.Connection, storage.Secrets, *http.Client) (graph.TokenSource, error) { return tok, nil }}
	return e, conn, sim
}

// memSecrets is a keyring in memory. refuse, when set, is asked before
// each Set (counted from 1) and fails it with what it returns, the way a
// locked keyring collection refuses.
type memSecrets struct {
	mu     sync.Mutex
	m      map[string]string
	sets   int
	refuse func(n int) error
}

func memKey(id string, k storage.SecretKind) string { return strings.ToLower(id) + "/" + string(k) }

func (s *memSecrets) Get(id string, k storage.SecretKind) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.m[memKey(id, k)]; ok {
		return v, nil
	}
	return "", storage.ErrSecretNotFound
}

func (s *memSecrets) Set(id string, k storage.SecretKind, v string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sets++
	if s.refuse != nil {
		if err := s.refuse(s.sets); err != nil {
			return err
		}
	}
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[memKey(id, k)] = v
	return nil
}

func (s *memSecrets) Delete(id string, k storage.SecretKind) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, memKey(id, k))
	return nil
}

// A catch-up note reaches the import history, and progress is reported.
func TestExecuteRecordsNoteAndProgress(t *testing.T) {
	e, conn := setup(t)
	const note = "catch-up of the run due at Wed 25 Nov 2026 06:00 UTC"
	var stages int
	run, err := e.Import(context.Background(), conn, ImportRequest{Trigger: inventory.TriggerSchedule, Note: note, Progress: func(importer.Stage, int, int) { stages++ }})
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != inventory.StatusSucceeded || run.Counts.Users < 60 {
		t.Fatalf("run %+v", run)
	}
	if stages == 0 {
		t.Error("no progress reported")
	}
	runs, err := e.Store.History(context.Background(), conn.ID, 10)
	if err != nil || len(runs) != 1 {
		t.Fatalf("history %v, %v", runs, err)
	}
	if runs[0].Note != note || runs[0].Trigger != inventory.TriggerSchedule {
		t.Fatalf("history row %+v, want the note %q", runs[0], note)
	}
}

// A run that cannot start (here: no Graph endpoint answers) is recorded as
// failed with its note, and LastScheduledRun skips cancelled runs.
func TestFailedStartRecordedAndLastScheduledRun(t *testing.T) {
	e, conn := setup(t)
	ctx := context.Background()
	ok, err := Scheduled{e}.Execute(ctx, conn, schedule.TriggerSchedule, "")
	if err != nil || ok.Status != schedule.StatusSucceeded {
		t.Fatalf("first run: %+v, %v", ok, err)
	}
	first, _, _ := Scheduled{e}.LastScheduledRun(conn.ID)

	// Cancel as the import gets going, as a scheduler shutting down does.
	cancelled, cancel := context.WithCancel(ctx)
	defer cancel()
	run, err := e.Import(cancelled, conn, ImportRequest{Trigger: inventory.TriggerSchedule, Progress: func(importer.Stage, int, int) { cancel() }})
	if run.ID == 0 {
		t.Fatalf("a cancelled run must still be recorded: %v", err)
	}
	if run.Status != inventory.StatusCancelled {
		t.Fatalf("cancelled run has status %q (%v)", run.Status, err)
	}
	last, found, err := Scheduled{e}.LastScheduledRun(conn.ID)
	if err != nil || !found || !last.Equal(first) {
		t.Fatalf("LastScheduledRun = %v %v %v, want the first run's start %v (cancelled runs do not count)", last, found, err, first)
	}

	broken := conn
	broken.GraphEndpoint = "http://127.0.0.1:1"
	broken.Proxy = storage.Proxy{Enabled: true, Server: "http://127.0.0.1:1", Username: "u", HasPassword: true}
	out, err := Scheduled{e}.Execute(ctx, broken, schedule.TriggerSchedule, "note kept")
	if err != nil || out.Status != schedule.StatusFailed || out.Err == nil {
		t.Fatalf("broken connection: %+v, %v", out, err)
	}
	runs, _ := e.Store.History(ctx, conn.ID, 1)
	if len(runs) != 1 || runs[0].Status != inventory.StatusFailed || runs[0].Note != "note kept" || runs[0].Error == "" {
		t.Fatalf("failed start recorded as %+v", runs)
	}
}

// After a full import the next one reads only the changes (delta);
// Import's Full reads every user again, and the history says so.
func TestImportWithFullForcesAFullImport(t *testing.T) {
	e, conn := setup(t)
	ctx := context.Background()
	modes := func() []string {
		runs, err := e.Store.History(ctx, conn.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		var m []string
		for i := len(runs) - 1; i >= 0; i-- {
			m = append(m, runs[i].Mode)
		}
		return m
	}
	for i, o := range []ImportRequest{
		{Trigger: inventory.TriggerManual},
		{Trigger: inventory.TriggerManual},
		{Trigger: inventory.TriggerManual, Full: true},
	} {
		run, err := e.Import(ctx, conn, o)
		if err != nil || run.Status != inventory.StatusSucceeded || run.Counts.Users < 60 {
			t.Fatalf("import %d (full %v): %+v, %v", i, o.Full, run, err)
		}
	}
	got := modes()
	want := []string{importer.ModeSharded, importer.ModeDelta, importer.ModeSharded}
	if len(got) != len(want) {
		t.Fatalf("history modes %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("history modes %q, want %q (the third was a forced full import)", got, want)
		}
	}
}
