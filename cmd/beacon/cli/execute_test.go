package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/connector/importer"
	"github.com/inventorybeacon/beacon/internal/csvsafe"
	"github.com/inventorybeacon/beacon/internal/xlsx"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// mintedTokens hands out a token minted by the simulator (the keyring and
// the sign-in belong to other tests).
type mintedTokens struct {
	token string
	err   error
}

func (m mintedTokens) Token(context.Context) (string, error) { return m.token, m.err }
func (m mintedTokens) Invalidate()                           {}

// noKeyring fails every call: the connections here have no secrets.
type noKeyring struct{}

func (noKeyring) Get(string, storage.SecretKind) (string, error) {
	return "", errors.New("no keyring in this test")
}
func (noKeyring) Set(string, storage.SecretKind, string) error { return errors.New("no keyring") }
func (noKeyring) Delete(string, storage.SecretKind) error      { return nil }

type cliEnv struct {
	t   *testing.T
	sim *m365sim.Server
	dir string
}

func newCLIEnv(t *testing.T, users int) *cliEnv {
	t.Helper()
	sim, err := m365sim.Start(m365sim.Options{Users: users, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	dir := t.TempDir()
	cfg := &storage.Config{Version: storage.ConfigVersion, Connections: []storage.Connection{{
		ID: storage.NewID(), Name: "Contoso Tenant", SourceType: storage.SourceMicrosoft365, Cloud: "Custom",
		TokenEndpoint: sim.TokenEndpoint(), ClientID: tenant.DefaultClientID, AuthFlow: storage.FlowAuthorizationCode,
		RedirectURI: "http://localhost", GraphEndpoint: sim.GraphEndpoint(),
	}}}
	if err := storage.NewConfigStore(dir).Save(cfg); err != nil {
		t.Fatal(err)
	}
	oldKeyring, oldTokens := executeKeyring, executeTokenSource
	t.Cleanup(func() { executeKeyring, executeTokenSource = oldKeyring, oldTokens })
	executeKeyring = func() storage.Secrets { return noKeyring{} }
	e := &cliEnv{t: t, sim: sim, dir: dir}
	e.useToken(tenant.AdminLocalPart, nil)
	return e
}

func (e *cliEnv) useToken(localPart string, err error) {
	tok := e.sim.MintAccessToken(localPart + "@" + e.sim.Tenant().Domain)
	executeTokenSource = func(*Env, storage.Connection, storage.Secrets, *http.Client) (graph.TokenSource, error) {
		return mintedTokens{tok, err}, nil
	}
}

func (e *cliEnv) run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, ConfigDir: e.dir}
	code = Run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

func TestExecuteListExport(t *testing.T) {
	e := newCLIEnv(t, 300)
	code, out, errs := e.run("list")
	if code != ExitOK || !strings.Contains(out, "Contoso Tenant") || !strings.Contains(out, "never") {
		t.Fatalf("list before import: %d\n%s\n%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "inventory.db")); err == nil {
		t.Fatal("list created the database")
	}

	code, out, errs = e.run("execute", "contoso tenant")
	if code != ExitOK || !strings.Contains(out, "succeeded") || !strings.Contains(out, "Users: 300") {
		t.Fatalf("execute: %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "Users: started") || !strings.Contains(errs, "Users: 300 done") {
		t.Fatalf("no progress on stderr:\n%s", errs)
	}

	code, out, _ = e.run("list", "--format", "json")
	var list []listEntry
	if code != ExitOK || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0].LastRun == nil ||
		list[0].LastRun.Status != "succeeded" || list[0].CurrentUsers != 300 {
		t.Fatalf("list json: %d\n%s", code, out)
	}

	file := filepath.Join(t.TempDir(), "users.csv")
	code, _, errs = e.run("export", "Contoso Tenant", "users", "--output", file)
	if code != ExitOK {
		t.Fatalf("export users: %d %s", code, errs)
	}
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("export file: %v %v", st, err)
	}
	// A file is for a spreadsheet: it starts with the byte-order mark
	// Excel needs to read UTF-8 (issue 23); standard output does not.
	raw, _ := os.ReadFile(file)
	if !strings.HasPrefix(string(raw), csvsafe.BOM) {
		t.Fatalf("users.csv does not start with the UTF-8 byte-order mark: %q", raw[:min(len(raw), 20)])
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(raw), csvsafe.BOM))).ReadAll()
	if err != nil || len(recs) != 301 || recs[0][0] != "User Principal Name" {
		t.Fatalf("users.csv: %d records, %v", len(recs), err)
	}
	// The same as an Excel workbook (issue 17): read back, it holds the
	// CSV's rows.
	book := filepath.Join(t.TempDir(), "users.xlsx")
	if code, _, errs := e.run("export", "Contoso Tenant", "users", "--format", "xlsx", "--output", book); code != ExitOK {
		t.Fatalf("export users as xlsx: %d %s", code, errs)
	}
	if got := readXLSX(t, book); len(got) != len(recs) || strings.Join(got[0], "|") != strings.Join(recs[0], "|") ||
		strings.Join(got[1], "|") != strings.Join(recs[1], "|") || strings.Join(got[300], "|") != strings.Join(recs[300], "|") {
		t.Fatalf("users.xlsx: %d rows; first %q, want %q", len(got), got[min(1, len(got)-1)], recs[1])
	}
	if code, _, _ := e.run("export", "Contoso Tenant", "users", "--format", "xlsx"); code != ExitUsage {
		t.Fatalf("xlsx to standard output: %d, want a usage error", code)
	}
	// Active figures count from the report's refresh date (issue 15): the
	// list, and every exported user, say which date that is.
	code, out, _ = e.run("export", "Contoso Tenant", "usage", "--format", "json")
	var usage []map[string]string
	if code != ExitOK || json.Unmarshal([]byte(out), &usage) != nil || len(usage) == 0 || usage[0]["Report Refresh Date"] == "" {
		t.Fatalf("export usage: %d\n%.300s", code, out)
	}
	refresh := usage[0]["Report Refresh Date"]
	if list[0].ActivityAsOf != refresh {
		t.Fatalf("list: activity as of %q, the usage report was refreshed %q", list[0].ActivityAsOf, refresh)
	}
	if last := len(recs[0]) - 1; recs[0][last] != "Activity As Of" || recs[1][last] != refresh {
		t.Fatalf("users.csv: last column %q = %q, want Activity As Of = %q", recs[0][last], recs[1][last], refresh)
	}
	code, out, _ = e.run("list")
	if code != ExitOK || !strings.Contains(out, "ACTIVITY AS OF") || !strings.Contains(out, refresh) {
		t.Fatalf("list does not show the activity date %s:\n%s", refresh, out)
	}
	upns := map[string]bool{}
	for _, r := range recs[1:] {
		upns[r[0]] = true
	}
	// Beside the part numbers scripts read, the catalogue's names.
	if recs[0][7] != "Licenses" || recs[0][8] != "License Names" {
		t.Fatalf("users.csv: columns 8 and 9 are %q and %q, want Licenses and License Names", recs[0][7], recs[0][8])
	}
	named := 0
	for _, r := range recs[1:] {
		if strings.Contains(r[7], "ENTERPRISEPACK") {
			named++
			if !strings.Contains(r[8], "Office 365 E3 (ENTERPRISEPACK)") {
				t.Errorf("users.csv: %s holds %s, named %q", r[0], r[7], r[8])
			}
		}
	}
	if named == 0 {
		t.Error("users.csv: nobody holds ENTERPRISEPACK")
	}
	ten := e.sim.Tenant()
	ten.RLock()
	for _, u := range ten.Users {
		if !upns[u.UserPrincipalName] {
			t.Errorf("export misses %s", u.UserPrincipalName)
		}
	}
	ten.RUnlock()

	code, out, errs = e.run("export", "Contoso Tenant", "licenses", "--format", "json")
	var lics []map[string]any
	if code != ExitOK || json.Unmarshal([]byte(out), &lics) != nil || len(lics) == 0 || lics[0]["purchased"] == nil {
		t.Fatalf("export licenses: %d %s\n%s", code, errs, out)
	}
	for _, l := range lics {
		if l["skuPartNumber"] == "SPE_E5" && l["productName"] != "Microsoft 365 E5" {
			t.Errorf("export licenses: SPE_E5 is named %q", l["productName"])
		}
		if l["productName"] == nil || l["productName"] == "" {
			t.Errorf("export licenses: %v has no product name", l["skuPartNumber"])
		}
	}
	for _, what := range [][]string{{"applications"}, {"usage"}, {"usage", "--report", "activations"}, {"usage", "--report", "apps", "--format", "json"}} {
		code, out, errs = e.run(append([]string{"export", "Contoso Tenant"}, what...)...)
		if code != ExitOK || len(out) < 100 {
			t.Fatalf("export %v: %d %s", what, code, errs)
		}
	}
	for _, c := range []struct {
		args []string
		bom  bool
	}{{nil, false}, {[]string{"--bom", "yes"}, true}} {
		code, out, errs = e.run(append([]string{"export", "Contoso Tenant", "licenses"}, c.args...)...)
		if code != ExitOK || strings.HasPrefix(out, csvsafe.BOM) != c.bom || !strings.Contains(out, "SKU,Product,SKU ID") {
			t.Fatalf("export licenses %v to standard output: %d, byte-order mark %v, want %v\n%.80q %s", c.args, code,
				strings.HasPrefix(out, csvsafe.BOM), c.bom, out, errs)
		}
	}
	if code, _, _ := e.run("export", "Contoso Tenant", "users", "--bom", "maybe"); code != ExitUsage {
		t.Fatalf("--bom maybe: %d", code)
	}
	code, out, _ = e.run("export", "Contoso Tenant", "users", "--search", "ADELE admin")
	if code != ExitOK || strings.Count(out, "\n") != 2 {
		t.Fatalf("export --search: %d\n%s", code, out)
	}
}

func TestExecuteExitCodes(t *testing.T) {
	e := newCLIEnv(t, 100)
	// A user without a reports role: users and licenses, but warnings.
	e.useToken(tenant.UserLocalPart, nil)
	code, out, errs := e.run("execute", "Contoso Tenant", "--quiet")
	if code != ExitWarnings || !strings.Contains(out, "Warning: Usage was not imported") || errs != "" {
		t.Fatalf("warnings: %d\n%s\n%s", code, out, errs)
	}
	e.useToken(tenant.AdminLocalPart, errors.New("the stored sign-in is no longer valid: click Generate... to sign in again"))
	code, out, errs = e.run("execute", "Contoso Tenant", "--quiet")
	if code != ExitFailed || !strings.Contains(out, "failed") || !strings.Contains(errs, "Generate") {
		t.Fatalf("failure: %d\n%s\n%s", code, out, errs)
	}
	// The failed run kept the previous data for export.
	if code, out, _ := e.run("export", "Contoso Tenant", "users"); code != ExitOK || strings.Count(out, "\n") != 101 {
		t.Fatalf("export after a failed run: %d, %d lines", code, strings.Count(out, "\n"))
	}
	// A run that cannot even start (no sign-in to build a token source
	// from) is in the import history too, as the window's and the
	// scheduler's are (issue 16: one import use case).
	executeTokenSource = func(*Env, storage.Connection, storage.Secrets, *http.Client) (graph.TokenSource, error) {
		return nil, errors.New("no refresh token is stored for it yet: click Generate... to sign in")
	}
	code, out, errs = e.run("execute", "Contoso Tenant", "--quiet")
	if code != ExitFailed || !strings.Contains(errs, "Generate") {
		t.Fatalf("failure before the import started: %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = e.run("list", "--format", "json")
	var list []listEntry
	if code != ExitOK || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0].LastRun == nil ||
		list[0].LastRun.Status != inventory.StatusFailed || !strings.Contains(list[0].LastRun.Error, "no refresh token is stored for it yet") ||
		list[0].CurrentUsers != 100 {
		t.Fatalf("the failed start is not the last run in the history (or the data was lost): %d\n%s", code, out)
	}
	if code, _, errs := e.run("execute", "Nobody"); code != ExitFailed || !strings.Contains(errs, "beacon list") {
		t.Fatalf("unknown connection: %d %s", code, errs)
	}
	if code, _, _ := e.run("execute"); code != ExitUsage {
		t.Fatalf("no name: %d", code)
	}
	if code, _, _ := e.run("export", "Contoso Tenant", "printers"); code != ExitUsage {
		t.Fatalf("bad export kind: %d", code)
	}
	if code, _, _ := e.run("export", "Contoso Tenant", "users", "--format", "xml"); code != ExitUsage {
		t.Fatalf("bad format: %d", code)
	}
	if code, _, _ := e.run("execute", "--help"); code != ExitOK {
		t.Fatalf("--help: %d", code)
	}
}

func TestExecuteSkipsWhileTheConnectionRuns(t *testing.T) {
	e := newCLIEnv(t, 50)
	cfg, _ := storage.NewConfigStore(e.dir).Load()
	release, err := schedule.LockConnection(e.dir, cfg.Connections[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	code, _, errs := e.run("execute", "Contoso Tenant")
	release()
	if code != ExitFailed || !strings.Contains(errs, "already running") {
		t.Fatalf("while locked: %d %s", code, errs)
	}
	code, out, _ := e.run("list")
	if code != ExitOK || !strings.Contains(out, "skipped") {
		t.Fatalf("list after a skipped run:\n%s", out)
	}
	if code, _, errs := e.run("execute", "Contoso Tenant", "--quiet"); code != ExitOK {
		t.Fatalf("after release: %d %s", code, errs)
	}
}

// TestExecuteModes: the first import is full (sharded), the next reads
// only the changes, --full and --sequential force a full import; the
// summary says which mode ran.
func TestExecuteModes(t *testing.T) {
	e := newCLIEnv(t, 400)
	for _, c := range []struct {
		args   []string
		mutate bool
		mode   string
	}{
		{[]string{"execute", "Contoso Tenant", "--quiet"}, false, importer.ModeSharded},
		{[]string{"execute", "Contoso Tenant", "--quiet"}, true, importer.ModeDelta},
		{[]string{"execute", "Contoso Tenant", "--quiet", "--full", "--concurrency", "3"}, true, importer.ModeSharded},
		{[]string{"execute", "Contoso Tenant", "--quiet", "--sequential"}, false, importer.ModeSequential},
	} {
		if c.mutate {
			e.sim.Tenant().Mutate(9, 0.05)
		}
		code, out, errs := e.run(c.args...)
		ten := e.sim.Tenant()
		ten.RLock()
		want := fmt.Sprintf("Users: %d\n", len(ten.Users))
		ten.RUnlock()
		if code != ExitOK || !strings.Contains(out, "Mode: "+c.mode+"\n") || !strings.Contains(out, want) {
			t.Fatalf("%v: %d, want mode %q and %q\nstdout:\n%s\nstderr:\n%s", c.args, code, c.mode, want, out, errs)
		}
	}
}

// readXLSX reads a workbook's sheet back as rows of text.
func readXLSX(t *testing.T, path string) [][]string {
	t.Helper()
	rows, err := xlsx.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
