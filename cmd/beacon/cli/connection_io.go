package cli

// `beacon connection export` and `import`: connections and schedules as a
// JSON file without any secret, so one machine's set-up can be repeated on
// another by a script. Import checks every entry with the dialog's rules
// before it writes anything, and then writes the configuration and the
// keyring changes at once (storage.Repository.Commit).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"github.com/inventorybeacon/beacon/connector"
	"github.com/inventorybeacon/beacon/internal/clock"
	"github.com/inventorybeacon/beacon/internal/graphperm"
	"github.com/inventorybeacon/beacon/schedule"
	"github.com/inventorybeacon/beacon/storage"
)

// exportFormat names the file's content, so import refuses another JSON
// file (a `beacon list --format json`, the configuration itself).
const exportFormat = "inventory-beacon-connections"

// exportVersion is the version of the file this build writes; a newer one
// is refused rather than half understood.
const exportVersion = 1

// maxImportSize bounds the file import reads: a thousand connections take
// well under a megabyte.
const maxImportSize = 16 << 20

// exportFile is what export writes and import reads.
type exportFile struct {
	Format      string               `json:"format"`
	Version     int                  `json:"version"`
	Connections []exportedConnection `json:"connections"`
	Schedules   []storage.Schedule   `json:"schedules"`
}

// exportedConnection is a connection's settings: the dialog's fields and
// its schedule by name. It has no field for a secret or for what the
// keyring holds: those belong to the machine.
type exportedConnection struct {
	ID                    string        `json:"id"`
	Name                  string        `json:"name"`
	SourceType            string        `json:"sourceType"`
	Proxy                 exportedProxy `json:"proxy"`
	CACertFile            string        `json:"caCertFile,omitempty"`
	Cloud                 string        `json:"cloud"`
	TokenEndpoint         string        `json:"tokenEndpoint"`
	ClientID              string        `json:"clientId"`
	RedirectURI           string        `json:"redirectUri"`
	AuthFlow              string        `json:"authFlow"`
	AuthorizationEndpoint string        `json:"authorizationEndpoint,omitempty"`
	GraphEndpoint         string        `json:"graphEndpoint"`
	// Credential and Certificate describe a certificate credential: the
	// file and what the certificate says, never its key or password (an
	// imported PFX needs `connection set --certificate-password-file`).
	Credential  string                   `json:"credential,omitempty"`
	Certificate *storage.CertificateInfo `json:"certificate,omitempty"`
	// Permissions is the permission profile; absent (an export of a
	// version before profiles) means Directory.Read.All, as in the
	// configuration.
	Permissions    string `json:"permissions,omitempty"`
	CustomScopes   string `json:"customScopes,omitempty"`
	SignInActivity bool   `json:"signInActivity,omitempty"`
	Issuer         string `json:"issuer,omitempty"`
	Prompt         string `json:"prompt,omitempty"`
	// Schedule is the name of the connection's schedule; empty: not
	// scheduled.
	Schedule string `json:"schedule,omitempty"`
}

type exportedProxy struct {
	Enabled  bool   `json:"enabled"`
	Server   string `json:"server,omitempty"`
	Username string `json:"username,omitempty"`
}

func exportConnection(cfg *storage.Config, c storage.Connection) exportedConnection {
	e := exportedConnection{ID: c.ID, Name: c.Name, SourceType: c.SourceType,
		Proxy:      exportedProxy{Enabled: c.Proxy.Enabled, Server: c.Proxy.Server, Username: c.Proxy.Username},
		CACertFile: c.CACertFile, Cloud: c.Cloud, TokenEndpoint: c.TokenEndpoint, ClientID: c.ClientID, RedirectURI: c.RedirectURI,
		AuthFlow: string(c.AuthFlow), AuthorizationEndpoint: c.AuthorizationEndpoint, GraphEndpoint: c.GraphEndpoint,
		Permissions: c.Permissions, CustomScopes: c.CustomScopes, SignInActivity: c.SignInActivity, Issuer: c.Issuer, Prompt: c.Prompt}
	if s, ok := schedule.Find(cfg, c.ScheduleID); ok && c.ScheduleID != "" {
		e.Schedule = s.Name
	}
	if c.Credential != "" {
		e.Credential = string(c.Credential)
	}
	if c.Certificate != nil {
		ci := *c.Certificate
		ci.HasPassword = false // a record of the keyring's, not a setting
		e.Certificate = &ci
	}
	return e
}

// settings puts the exported settings into c, leaving its ID, dates and
// secrets' records alone.
func (e exportedConnection) settings(c *storage.Connection) {
	c.Name = connector.CleanConnectionName(e.Name)
	c.SourceType = e.SourceType
	c.Proxy.Enabled, c.Proxy.Server, c.Proxy.Username = e.Proxy.Enabled, strings.TrimSpace(e.Proxy.Server), strings.TrimSpace(e.Proxy.Username)
	c.CACertFile = connector.CleanCACertFile(e.CACertFile)
	c.Cloud = e.Cloud
	c.TokenEndpoint = strings.TrimSpace(e.TokenEndpoint)
	c.ClientID = strings.TrimSpace(e.ClientID)
	c.RedirectURI = strings.TrimSpace(e.RedirectURI)
	c.AuthFlow = storage.AuthFlow(e.AuthFlow)
	c.AuthorizationEndpoint = strings.TrimSpace(e.AuthorizationEndpoint)
	c.GraphEndpoint = strings.TrimSpace(e.GraphEndpoint)
	c.Credential = storage.Credential(e.Credential)
	if e.Certificate != nil && (c.Certificate == nil || c.Certificate.Thumbprint != e.Certificate.Thumbprint || c.Certificate.File != e.Certificate.File) {
		ci := *e.Certificate
		ci.HasPassword = false
		c.Certificate = &ci
	}
	c.Permissions = strings.TrimSpace(e.Permissions)
	c.CustomScopes = strings.Join(graphperm.ParseCustom(e.CustomScopes), " ")
	c.SignInActivity = e.SignInActivity
	c.Issuer = strings.TrimSpace(e.Issuer)
	c.Prompt = strings.TrimSpace(e.Prompt)
}

func runConnectionExport(_ context.Context, env *Env, fs *verbFlags, args []string) int {
	output := fs.String("output", "", "write to this file instead of stdout")
	if code, ok := fs.parse(args, 0, 0); !ok {
		return code
	}
	cfg, err := storage.NewConfigStore(env.ConfigDir).Load()
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon connection export: %v\n", err)
		return ExitFailed
	}
	f := exportFile{Format: exportFormat, Version: exportVersion, Connections: []exportedConnection{}, Schedules: cfg.Schedules}
	if f.Schedules == nil {
		f.Schedules = []storage.Schedule{}
	}
	for _, c := range cfg.Connections {
		f.Connections = append(f.Connections, exportConnection(cfg, c))
	}
	if *output == "" {
		return writeJSON(env, "connection export", f)
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err == nil {
		err = os.WriteFile(*output, append(data, '\n'), 0o600)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon connection export: %v\n", err)
		return ExitFailed
	}
	fmt.Fprintf(env.Stderr, "Exported %d connections and %d schedules to %s (no secrets: give them again on the other machine).\n",
		len(f.Connections), len(f.Schedules), *output)
	return ExitOK
}

// readExport reads and decodes an export; "-" is stdin. Unknown fields are
// refused: a misspelt setting must not be dropped silently.
func readExport(env *Env, path string) (*exportFile, error) {
	var r io.Reader = env.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	} else if r == nil {
		return nil, errors.New("stdin is empty")
	}
	data, err := io.ReadAll(io.LimitReader(r, maxImportSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxImportSize {
		return nil, fmt.Errorf("%s is larger than %d MB: not an export of connections", path, maxImportSize>>20)
	}
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	dec.DisallowUnknownFields()
	var f exportFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s is not an export of connections: %w", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s has more than one JSON value", path)
	}
	switch {
	case f.Format != exportFormat:
		return nil, fmt.Errorf("%s is not an export of connections (its format is %q, not %q); make one with `beacon connection export`", path, f.Format, exportFormat)
	case f.Version > exportVersion:
		return nil, fmt.Errorf("%s was written by a newer Inventory Beacon (version %d; this one reads %d): update this one first", path, f.Version, exportVersion)
	case f.Version < 1:
		return nil, fmt.Errorf("%s has no valid version", path)
	}
	return &f, nil
}

// importPlan is one import being prepared: the configuration as it will be,
// the keyring changes, and every problem found.
type importPlan struct {
	cfg      *storage.Config
	replace  bool
	changes  []storage.SecretChange
	problems []string
	// touched are the connections the import adds or replaces, by ID.
	touched  []string
	added    int
	replaced int
	schedIDs map[string]string // a schedule of the file, by lower-case name: its ID in cfg
	next     []string          // what to do next (secrets, sign-ins)
	warnings []string
}

func (p *importPlan) problem(format string, args ...any) {
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
}

// sameTiming reports whether two schedules fire at the same times.
func sameTiming(a, b storage.Schedule) bool {
	a.ID, a.Name, b.ID, b.Name = "", "", "", ""
	if len(a.Weekdays) == 0 {
		a.Weekdays = nil
	}
	if len(b.Weekdays) == 0 {
		b.Weekdays = nil
	}
	return reflect.DeepEqual(a, b)
}

// schedules adds or (with --replace) changes the file's schedules, by name.
func (p *importPlan) schedules(in []storage.Schedule) {
	seen := map[string]bool{}
	var changed []int
	for _, s := range in {
		s.Name = strings.TrimSpace(s.Name)
		key := strings.ToLower(s.Name)
		if seen[key] && key != "" {
			p.problem("schedule %q: the file has it twice", s.Name)
			continue
		}
		seen[key] = true
		if cur, ok := findSchedule(p.cfg, s.Name); ok && s.Name != "" {
			p.schedIDs[key] = cur.ID
			if sameTiming(cur, s) {
				continue
			}
			if !p.replace {
				p.problem("schedule %q: one of this name exists with other times; give --replace to change it", s.Name)
				continue
			}
			s.ID = cur.ID
			for i := range p.cfg.Schedules {
				if p.cfg.Schedules[i].ID == cur.ID {
					p.cfg.Schedules[i] = s
					changed = append(changed, i)
				}
			}
			continue
		}
		if _, used := schedule.Find(p.cfg, s.ID); used || !storage.ValidID(s.ID) {
			s.ID = storage.NewID()
		}
		p.schedIDs[key] = s.ID
		p.cfg.Schedules = append(p.cfg.Schedules, s)
		changed = append(changed, len(p.cfg.Schedules)-1)
	}
	for _, i := range changed {
		s := p.cfg.Schedules[i]
		if err := schedule.Validate(s, p.cfg.Schedules); err != nil {
			var v schedule.ValidationError
			if errors.As(err, &v) {
				for _, fe := range v {
					p.problem("schedule %q: %s", s.Name, fe.Message)
				}
			} else {
				p.problem("schedule %q: %v", s.Name, err)
			}
		}
	}
}

// connections adds or (with --replace) changes the file's connections, by
// name. A replaced connection keeps its ID, so its imported data and its
// secrets stay with it; a new one keeps the file's ID unless it is not
// valid or already taken here.
func (p *importPlan) connections(in []exportedConnection) {
	seen := map[string]bool{}
	ids := map[string]bool{}
	for _, c := range p.cfg.Connections {
		ids[c.ID] = true
	}
	now := clock.Now()
	for _, ec := range in {
		name := connector.CleanConnectionName(ec.Name)
		key := strings.ToLower(name)
		if seen[key] && key != "" {
			p.problem("connection %q: the file has it twice", name)
			continue
		}
		seen[key] = true
		e := &edit{}
		i := -1
		if name != "" {
			i = findConnectionIndex(p.cfg, name)
		}
		if i >= 0 {
			if !p.replace {
				p.problem("connection %q: one of this name exists; give --replace to overwrite its settings", name)
				continue
			}
			e.orig = p.cfg.Connections[i]
			e.c = e.orig
			p.replaced++
		} else {
			e.c = storage.Connection{ID: ec.ID, Created: now}
			if !storage.ValidID(ec.ID) || ids[ec.ID] {
				e.c.ID = storage.NewID()
			} else {
				// The keyring must agree with a connection that records
				// no secret: nothing left under a kept ID may be used.
				for _, k := range storage.AllSecretKinds {
					p.changes = append(p.changes, storage.SecretChange{ConnID: e.c.ID, Kind: k, Delete: true})
				}
			}
			ids[e.c.ID] = true
			p.added++
		}
		ec.settings(&e.c)
		e.c.ScheduleID = ""
		if n := strings.TrimSpace(ec.Schedule); n != "" {
			if id, ok := p.schedIDs[strings.ToLower(n)]; ok {
				e.c.ScheduleID = id
			} else if id, err := scheduleByName(p.cfg, n); err == nil {
				e.c.ScheduleID = id
			} else {
				p.problem("connection %q: %v", name, err)
			}
		}
		e.secretRules(secrets{})
		e.c.Modified = now
		p.changes = append(p.changes, e.changes...)
		for _, n := range e.notes {
			p.next = append(p.next, fmt.Sprintf("%s: %s", e.c.Name, n))
		}
		if i >= 0 {
			p.cfg.Connections[i] = e.c
		} else {
			p.cfg.Connections = append(p.cfg.Connections, e.c)
		}
		p.touched = append(p.touched, e.c.ID)
	}
}

// validate checks every connection the import touches with the dialog's
// rules, against the configuration as it will be. The file carries no
// secret, so a missing one is not an error here but a next step.
func (p *importPlan) validate() {
	for _, id := range p.touched {
		var c storage.Connection
		for _, x := range p.cfg.Connections {
			if x.ID == id {
				c = x
			}
		}
		proxyPassword := ""
		if c.Proxy.Enabled && c.Proxy.Username != "" && !c.Proxy.HasPassword {
			proxyPassword = "(given later)"
			p.next = append(p.next, fmt.Sprintf("%s: give its proxy password: `beacon connection set %q --proxy-password-stdin`", c.Name, c.Name))
		}
		errs := connector.Validate(c, p.cfg.Connections, proxyPassword, true)
		if len(errs) > 0 {
			var b bytes.Buffer
			printFieldErrors(&b, fmt.Sprintf("connection %q: ", c.Name), errs)
			p.problems = append(p.problems, strings.Split(strings.TrimRight(b.String(), "\n"), "\n")...)
			continue
		}
		if problem := connector.UnattendedProblem(c); problem != "" {
			step := fmt.Sprintf("%s: run %s", c.Name, unattendedFix(c))
			if c.ScheduleID != "" {
				p.warnings = append(p.warnings, fmt.Sprintf("%q cannot import on a schedule yet: %s (or run %s). Until then every scheduled run fails.", c.Name, problem, unattendedFix(c)))
			} else {
				p.next = append(p.next, step)
			}
		}
	}
}

func runConnectionImport(_ context.Context, env *Env, fs *verbFlags, args []string) int {
	replace := fs.Bool("replace", false, "overwrite the settings of connections and schedules of the same name (their IDs, data and secrets are kept where the settings still allow)")
	if code, ok := fs.parse(args, 1, 1); !ok {
		return code
	}
	f, err := readExport(env, fs.Arg(0))
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon connection import: %v\n", err)
		return ExitFailed
	}
	store := storage.NewConfigStore(env.ConfigDir)
	cfg, err := store.Load()
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon connection import: %v\n", err)
		return ExitFailed
	}
	p := &importPlan{cfg: cfg, replace: *replace, schedIDs: map[string]string{}}
	p.schedules(f.Schedules)
	p.connections(f.Connections)
	if len(p.problems) == 0 {
		p.validate()
	}
	if len(p.problems) > 0 {
		for _, pr := range p.problems {
			fmt.Fprintf(env.Stderr, "beacon connection import: %s\n", pr)
		}
		fmt.Fprintln(env.Stderr, "beacon connection import: nothing was imported")
		return ExitFailed
	}
	repo := &storage.Repository{Config: store, Secrets: connectionKeyring()}
	if err := repo.Commit(p.cfg, p.changes); err != nil {
		fmt.Fprintf(env.Stderr, "beacon connection import: %v\n", err)
		return ExitFailed
	}
	fmt.Fprintf(env.Stdout, "Imported %d connections (%d added, %d replaced) and %d schedules.\n", p.added+p.replaced, p.added, p.replaced, len(f.Schedules))
	if len(p.next) > 0 {
		fmt.Fprintln(env.Stdout, "Next:")
		for _, n := range p.next {
			fmt.Fprintf(env.Stdout, "  %s\n", n)
		}
	}
	if len(p.warnings) > 0 {
		for _, w := range p.warnings {
			fmt.Fprintf(env.Stderr, "beacon connection import: warning: %s\n", w)
		}
		return ExitWarnings
	}
	return ExitOK
}
