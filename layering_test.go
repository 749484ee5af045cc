package beacon

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The layers of shared/guide/architecture.md, checked against the code
// (issue 16): data flows one way, cmd → ui → service → connector, auth,
// schedule → storage, with internal/ helpers as leaves every layer may
// use. A package may import its own layer and the layers below it, never
// one above; connector, auth, service, schedule and storage never import
// Fyne. On top of the heights:
//   - auth imports no product package but storage and internal/ leaves;
//   - internal/ holds leaf helpers only: they import nothing of the
//     product but other internal/ helpers (the drivers live under cmd/);
//   - nothing outside cmd/ imports cmd/...;
//   - service is imported only by ui and cmd: the scheduler reaches it
//     through its Executor interface, never by importing it;
//   - the Graph client (connector/graph and below) does not import
//     storage: it owns its wire types and the importer maps them;
//   - ui does not import auth, the Graph client or the importer: those
//     use cases are service's (ui keeps connector's settings rules and
//     catalogue, and storage's model types).
//
// `go list` reads the imports of the code as built (tests aside).

const module = "github.com/inventorybeacon/beacon"

// layerOf names a package's layer and its height; -1 for packages the
// rules do not place.
func layerOf(pkg string) (string, int) {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	top, _, _ := strings.Cut(rel, "/")
	switch {
	case rel == "":
		return "root", 0 // metadata: imported by cmd
	case top == "internal":
		return "internal", 0
	case top == "assets":
		return "assets", 0
	case top == "storage":
		return "storage", 1
	case top == "m365sim":
		return "m365sim", 1
	case top == "connector", top == "auth", top == "schedule":
		return top, 2
	case top == "service":
		return "service", 3
	case top == "ui":
		return "ui", 4
	case top == "cmd":
		return "cmd", 6
	}
	return "?", -1
}

// isGraphClient says whether pkg is the Graph client or one of its
// packages (wire types, page decoders).
func isGraphClient(pkg string) bool {
	return pkg == module+"/connector/graph" || strings.HasPrefix(pkg, module+"/connector/graph/")
}

// isLeaf reports whether a layer is a leaf every layer may import.
func isLeaf(layer string) bool { return layer == "internal" || layer == "assets" }

// knownUpward are imports that break the rules today and that the rest of
// issue 16 removes; the check fails on any other, and on one of these
// once it is gone (so the list only shrinks).
var knownUpward = map[string]string{}

type listedPackage struct {
	ImportPath string
	Imports    []string
	Name       string
}

func listPackages(t *testing.T, env ...string) []listedPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-tags", "migrated_fynedo", "-json", "./...")
	cmd.Env = append(cmd.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// breaks says why from (layer and height) must not import to, or "".
func breaks(from string, fh int, to string, th int) string {
	switch {
	case th > fh:
		return from + " must not import " + to + ": it stands above"
	case to == "cmd" && from != "cmd":
		return "nothing outside cmd/ imports cmd/..."
	case to == "service" && from != "service" && from != "ui" && from != "cmd":
		return "only ui and cmd import service (the scheduler calls it through its Executor interface)"
	case from == "auth" && to != "auth" && to != "storage" && !isLeaf(to):
		return "auth imports no product package but storage and internal/ leaves"
	case fh == th && fh == 2 && from != to:
		// Siblings of the middle floor (connector, auth, schedule) do
		// not import each other: what joins them is service's.
		return from + " must not import " + to + ": siblings of the middle floor meet in service"
	case from == "m365sim" && to != "m365sim" && !isLeaf(to):
		// The simulator is a product of its own.
		return "the simulator uses only leaf helpers and itself"
	case from == "storage" && to != "storage" && !isLeaf(to):
		return "storage uses nothing but itself and leaf helpers"
	case from == "internal" && to != "internal":
		return "internal/ holds leaf helpers: they import no product package"
	case from == "assets" && !isLeaf(to):
		return "assets import no product package"
	}
	return ""
}

// violations checks pkgs and returns every broken rule, and the edges of
// knownUpward it met (so the caller can tell which are gone).
func violations(pkgs []listedPackage) (bad []string, seenKnown map[string]bool) {
	seenKnown = map[string]bool{}
	for _, p := range pkgs {
		from, fh := layerOf(p.ImportPath)
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, "fyne.io/") {
				if from != "ui" && from != "cmd" && fh >= 0 {
					bad = append(bad, p.ImportPath+" imports Fyne ("+imp+"): only ui and cmd may")
				}
				continue
			}
			if imp != module && !strings.HasPrefix(imp, module+"/") {
				continue
			}
			to, th := layerOf(imp)
			if fh < 0 || th < 0 {
				continue
			}
			why := breaks(from, fh, to, th)
			if why == "" && isGraphClient(p.ImportPath) && to == "storage" {
				why = "the Graph client owns its wire types: mapping them to storage rows is the importer's"
			}
			if why == "" && from == "ui" && (to == "auth" || isGraphClient(imp) || strings.HasPrefix(imp, module+"/connector/importer")) {
				why = "the window reaches sign-in, Graph and imports through service, as the CLI does"
			}
			if why == "" {
				continue
			}
			edge := p.ImportPath + " -> " + imp
			if _, ok := knownUpward[edge]; ok {
				seenKnown[edge] = true
				continue
			}
			bad = append(bad, edge+" ("+why+")")
		}
	}
	return bad, seenKnown
}

func TestLayering(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to list the packages with")
	}
	seenKnown := map[string]bool{}
	var bad []string
	for _, goos := range []string{"linux", "windows", "darwin"} {
		b, seen := violations(listPackages(t, "GOOS="+goos, "CGO_ENABLED=1"))
		bad = append(bad, b...)
		for e := range seen {
			seenKnown[e] = true
		}
	}
	for edge, why := range knownUpward {
		if !seenKnown[edge] {
			bad = append(bad, "gone, remove it from knownUpward: "+edge+" ("+why+")")
		}
	}
	slices.Sort(bad)
	bad = slices.Compact(bad)
	for _, b := range bad {
		t.Error(b)
	}
}

// The checker itself: each synthetic import that breaks a rule is
// flagged, and the imports the layering allows are not, so a rule cannot
// silently stop biting.
func TestLayeringFlagsViolations(t *testing.T) {
	for _, c := range []struct {
		from, to string // relative to the module; "" is its root
		flagged  bool
	}{
		{"auth", "connector", true},
		{"auth", "schedule", true},
		{"auth", "m365sim/tenant", true},
		{"auth", "service", true},
		{"internal/filelock", "storage", true},
		{"internal/testenv", "m365sim", true},
		{"internal/clock", "cmd/beacon/cli", true},
		{"connector/graph", "cmd/beacon/cli", true},
		{"ui", "cmd/beacon/demo", true},
		{"", "cmd/bench", true},
		{"schedule", "service", true},
		{"connector/importer", "service", true},
		{"storage", "connector", true},
		{"connector", "auth", true},
		{"schedule", "connector", true},
		{"m365sim/graph", "storage", true},
		{"service", "ui", true},
		{"assets", "storage", true},
		{"service", "fyne.io/fyne/v2", true},
		{"connector/graph", "storage/inventory", true},
		{"connector/graph/pagedecode", "storage", true},
		{"ui", "auth", true},
		{"ui", "connector/graph", true},
		{"ui", "connector/importer", true},

		{"auth", "storage", false},
		{"auth", "internal/msendpoint", false},
		{"connector", "internal/msendpoint", false},
		{"internal/testenv", "internal/clock", false},
		{"service", "auth", false},
		{"service", "schedule", false},
		{"ui", "service", false},
		{"ui", "fyne.io/fyne/v2", false},
		{"cmd/beacon/cli", "service", false},
		{"cmd/bench/beaconcli", "cmd/beacon/cli", false},
		{"cmd/beacon", "", false},
		{"m365sim", "internal/clock", false},
		{"schedule", "storage", false},
		{"connector/importer", "connector/graph", false},
		{"connector/importer", "storage/inventory", false},
		{"service/optimize", "connector/catalog", false},
		{"ui", "connector", false},
		{"ui", "connector/catalog", false},
		{"ui", "storage/inventory", false},
	} {
		path := func(rel string) string {
			if strings.HasPrefix(rel, "fyne.io/") {
				return rel
			}
			return strings.TrimSuffix(module+"/"+rel, "/")
		}
		bad, _ := violations([]listedPackage{{ImportPath: path(c.from), Imports: []string{path(c.to)}}})
		if got := len(bad) == 1; got != c.flagged || len(bad) > 1 {
			t.Errorf("%q imports %q: flagged %q, want flagged=%v", c.from, c.to, bad, c.flagged)
		}
	}
}
