package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/internal/csvsafe"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// What the licensing commands (optimize, catalog, prices) and the exports
// share: the catalogue in use, the snapshot store when there is one, and
// the CSV layout chosen by --bom.

// catalogInUse loads the configuration and the catalogue that names its
// SKUs. A loaded catalogue that no longer reads is replaced by the
// built-in one, and the reason is printed on stderr (prefixed with the
// command's name): the command still does its work.
func catalogInUse(env *Env, cmd string) (*storage.Config, *catalog.Catalog, string, error) {
	cfg, err := storage.NewConfigStore(env.ConfigDir).Load()
	if err != nil {
		return nil, nil, "", err
	}
	cat, problem := service.Catalog(env.ConfigDir, cfg)
	if problem != "" && cmd != "" {
		fmt.Fprintf(env.Stderr, "beacon %s: %s\n", cmd, problem)
	}
	return cfg, cat, problem, nil
}

// openStoreIfAny opens the inventory database, or returns nil when there
// is none yet: reading prices or the catalogue must not create one.
func openStoreIfAny(ctx context.Context, env *Env) (*inventory.Store, error) {
	if exists, err := inventoryExists(env); err != nil || !exists {
		return nil, err
	}
	return openInventory(ctx, env, inventory.Options{})
}

// csvLayout is the CSV layout of an export: a file is for a spreadsheet
// (byte-order mark), standard output for a script (none), unless --bom
// says otherwise.
func csvLayout(bom, output string) (csvsafe.Format, error) {
	layout := csvsafe.ForScripts()
	if output != "" {
		layout = csvsafe.ForSpreadsheets()
	}
	switch strings.ToLower(bom) {
	case "auto":
	case "yes", "true":
		layout.BOM = true
	case "no", "false":
		layout.BOM = false
	default:
		return layout, fmt.Errorf("--bom %q: choose auto, yes or no", bom)
	}
	return layout, nil
}

// bomUsage is the help text of every --bom flag.
const bomUsage = "CSV: start with the UTF-8 byte-order mark that Excel needs: auto (with --output, not on standard output), yes or no"

// snapshotLicenses returns the SKUs of the current snapshot of every
// connection, so a SKU typed by part number or product name resolves to
// the tenant's own skuId first. Without a database it returns none and
// the catalogue alone resolves.
func snapshotLicenses(ctx context.Context, env *Env, cfg *storage.Config) ([]inventory.License, error) {
	store, err := openStoreIfAny(ctx, env)
	if err != nil || store == nil {
		return nil, err
	}
	defer store.Close()
	return service.SnapshotLicenses(ctx, store, cfg.Connections)
}

// skuLabels names a snapshot's SKUs the way the CLI shows them everywhere:
// "Office 365 E3 (ENTERPRISEPACK)", the part number when the catalogue
// does not know it.
type skuLabels struct {
	cat  *catalog.Catalog
	part map[string]string // lower-case skuId → part number
}

func newSKULabels(cat *catalog.Catalog, ls []inventory.License) skuLabels {
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[strings.ToLower(l.SkuID)] = l.SkuPartNumber
	}
	return skuLabels{cat: cat, part: m}
}

func (s skuLabels) partNumber(skuID string) string { return s.part[strings.ToLower(skuID)] }

func (s skuLabels) label(skuID string) string { return s.cat.Label(skuID, s.partNumber(skuID)) }

// labels names the SKUs of a user's licences, sorted like the Licenses
// column's part numbers.
func (s skuLabels) labels(ls []inventory.AssignedLicense) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		out = append(out, s.label(l.SkuID))
	}
	sort.Strings(out)
	return out
}
