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
// Fyne. The Graph client (connector/graph and below) does not import
// storage either: it owns its wire types and the importer maps them. `go list` reads the imports of the code as built (tests aside).

const module = "github.com/inventorybeacon/beacon"

// layerOf names a package's layer and its height; -1 for packages the
// rules do not place (the module root, test-only helpers).
func layerOf(pkg string) (string, int) {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	top, _, _ := strings.Cut(rel, "/")
	switch {
	case rel == "":
		return "root", 0 // metadata: imported by cmd
	case strings.HasPrefix(rel, "internal/cli"), strings.HasPrefix(rel, "internal/bench"), strings.HasPrefix(rel, "internal/demo"),
		strings.HasPrefix(rel, "internal/soak"):
		// Drivers that still live in internal/ (issue 16 moves them under
		// cmd/): they stand where cmd stands.
		return "cmd", 6
	case top == "internal", top == "assets":
		return "leaf", 0
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

// knownUpward are imports that break the rule today and that the rest of
// issue 16 removes; the test fails on any other, and on one of these
// once it is gone (so the list only shrinks).
var knownUpward = map[string]string{
	module + "/auth -> " + module + "/connector": "settings rules used by the sign-in (issue 16: auth must not import connector)",
}

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

func TestLayering(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to list the packages with")
	}
	seenKnown := map[string]bool{}
	var bad []string
	for _, goos := range []string{"linux", "windows", "darwin"} {
		for _, p := range listPackages(t, "GOOS="+goos, "CGO_ENABLED=1") {
			from, fh := layerOf(p.ImportPath)
			for _, imp := range p.Imports {
				if strings.HasPrefix(imp, "fyne.io/") {
					switch from {
					case "connector", "auth", "service", "schedule", "storage", "m365sim", "leaf":
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
				edge := p.ImportPath + " -> " + imp
				upward := th > fh ||
					// Siblings of the middle floor (connector, auth,
					// schedule) do not import each other: what joins them
					// is service's.
					(fh == th && fh == 2 && from != to) ||
					// The simulator is a product of its own: it uses only
					// leaf helpers and itself.
					(from == "m365sim" && to != "m365sim" && to != "leaf") ||
					// storage uses nothing but itself and leaves.
					(from == "storage" && to != "storage" && to != "leaf") ||
					// The Graph client speaks Graph's objects; mapping
					// them to the inventory's rows is the importer's.
					(isGraphClient(p.ImportPath) && to == "storage") ||
					// A leaf helper imports no product layer.
					(from == "leaf" && to != "leaf")
				if !upward {
					continue
				}
				if _, ok := knownUpward[edge]; ok {
					seenKnown[edge] = true
					continue
				}
				bad = append(bad, edge+" ("+from+" must not import "+to+")")
			}
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
