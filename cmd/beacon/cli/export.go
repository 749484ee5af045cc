package cli

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/internal/csvsafe"
	"github.com/inventorybeacon/beacon/internal/xlsx"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

func init() {
	Register(Command{
		Name:    "export",
		Summary: "export a connection's imported users, licenses, applications or usage as CSV, XLSX or JSON",
		Usage:   "NAME users|licenses|applications|usage [--format csv|xlsx|json] [--output FILE] [--report active-users|activations|apps] [--search TEXT]",
		Run:     runExport,
	})
}

var exportReports = map[string]inventory.ReportKind{
	"active-users": inventory.ReportActiveUsers,
	"activations":  inventory.ReportActivations,
	"apps":         inventory.ReportAppUsage,
}

func runExport(ctx context.Context, env *Env, args []string) int {
	c, _ := Lookup("export")
	fs := NewFlagSet(env, c)
	format := fs.String("format", "csv", "csv, xlsx (an Excel workbook; needs --output) or json")
	output := fs.String("output", "", "write to this file instead of standard output (replaced atomically; readable only by you)")
	report := fs.String("report", "active-users", "for usage: active-users, activations or apps")
	search := fs.String("search", "", "only rows containing this text (case-insensitive)")
	bom := fs.String("bom", "auto", bomUsage)
	pos, code, ok := parseWithName(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 2 {
		fmt.Fprintln(env.Stderr, "beacon export: give a connection name and what to export (users, licenses, applications or usage)")
		fs.Usage()
		return ExitUsage
	}
	what := strings.ToLower(pos[1])
	if what != "users" && what != "licenses" && what != "applications" && what != "usage" {
		fmt.Fprintf(env.Stderr, "beacon export: cannot export %q; choose users, licenses, applications or usage\n", pos[1])
		return ExitUsage
	}
	if *format != "csv" && *format != "json" && *format != "xlsx" {
		fmt.Fprintf(env.Stderr, "beacon export: unknown format %q; choose csv, xlsx or json\n", *format)
		return ExitUsage
	}
	if *format == "xlsx" && *output == "" {
		// A workbook is a zip file: not for a terminal or a pipe of text.
		fmt.Fprintln(env.Stderr, "beacon export: --format xlsx writes a file: give it with --output FILE.xlsx")
		return ExitUsage
	}
	layout, err := csvLayout(*bom, *output)
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon export: %v\n", err)
		return ExitUsage
	}
	kind, ok := exportReports[*report]
	if !ok {
		fmt.Fprintf(env.Stderr, "beacon export: unknown report %q; choose active-users, activations or apps\n", *report)
		return ExitUsage
	}
	conn, err := loadConnection(env, pos[0])
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon export: %v\n", err)
		return ExitFailed
	}
	_, cat, _, err := catalogInUse(env, "export")
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon export: %v\n", err)
		return ExitFailed
	}
	if _, err := os.Stat(filepath.Join(env.ConfigDir, inventory.FileName)); err != nil {
		fmt.Fprintf(env.Stderr, "beacon export: %s has no imported data yet: run `beacon execute %q` first\n", conn.Name, conn.Name)
		return ExitFailed
	}
	store, err := openInventory(ctx, env, inventory.Options{})
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon export: %v\n", err)
		return ExitFailed
	}
	defer store.Close()
	// Export reads one snapshot: pin it, so an import finishing meanwhile
	// cannot mix two snapshots in one file.
	cur, err := store.CurrentRun(ctx, conn.ID)
	if err != nil {
		if errors.Is(err, inventory.ErrNoSnapshot) {
			fmt.Fprintf(env.Stderr, "beacon export: %s has no imported data yet: run `beacon execute %q` first\n", conn.Name, conn.Name)
		} else {
			fmt.Fprintf(env.Stderr, "beacon export: %v\n", err)
		}
		return ExitFailed
	}
	q := inventory.Query{Search: *search, RunID: cur.ID}
	n := 0
	err = writeOutput(env, *output, func(w io.Writer) (err error) {
		var tw tableWriter = newJSONTable(w)
		if *format == "csv" || *format == "xlsx" {
			if tw, err = newFileTable(w, *format, layout, what); err != nil {
				return err
			}
		}
		if n, err = exportTable(ctx, store, conn.ID, what, kind, q, cur.ActivityAsOf, cat, tw); err != nil {
			return err
		}
		return tw.close()
	})
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon export: %v\n", err)
		return ExitFailed
	}
	if *output != "" {
		fmt.Fprintf(env.Stderr, "Exported %d %s of %q (import of %s) to %s\n", n, what, conn.Name, cur.Started.Local().Format(time.DateTime), *output)
	}
	return ExitOK
}

// openOutput returns stdout, or a temporary file beside FILE that commit
// renames over it, so an interrupted export never leaves half a file.
func openOutput(env *Env, path string) (io.Writer, func(ok bool) error, error) {
	if path == "" {
		return env.Stdout, func(bool) error { return nil }, nil
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, nil, fmt.Errorf("create the output file in %s: %w", dir, err)
	}
	// Exports hold personal data (names, addresses): owner-only.
	_ = f.Chmod(0o600)
	return f, func(ok bool) error {
		if !ok {
			f.Close()
			os.Remove(f.Name())
			return nil
		}
		if err := f.Sync(); err != nil {
			f.Close()
			os.Remove(f.Name())
			return fmt.Errorf("write %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			os.Remove(f.Name())
			return fmt.Errorf("write %s: %w", path, err)
		}
		if err := os.Rename(f.Name(), path); err != nil {
			os.Remove(f.Name())
			return fmt.Errorf("replace %s: %w", path, err)
		}
		return nil
	}, nil
}

// writeOutput writes through fn to standard output, or to path through
// openOutput: a failure leaves no half-written file.
func writeOutput(env *Env, path string, fn func(w io.Writer) error) error {
	out, commit, err := openOutput(env, path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	err = fn(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := commit(err == nil); err == nil {
		err = cerr
	}
	return err
}

// tableWriter receives a header, then rows of cells (CSV) or objects
// (JSON).
type tableWriter interface {
	header(cols []string) error
	row(cells []string, obj any) error
	close() error
}

type csvTable struct{ w *csv.Writer }

func newCSVTable(w io.Writer, f csvsafe.Format) (*csvTable, error) {
	cw, err := csvsafe.NewWriter(w, f)
	return &csvTable{w: cw}, err
}

func (t *csvTable) header(cols []string) error { return t.w.Write(cols) }

func (t *csvTable) row(cells []string, _ any) error {
	for i, c := range cells {
		cells[i] = csvsafe.Cell(c)
	}
	return t.w.Write(cells)
}

func (t *csvTable) close() error { t.w.Flush(); return t.w.Error() }

// newFileTable returns the table of a file format: "xlsx" a workbook of
// one sheet named sheet, anything else CSV in layout.
func newFileTable(w io.Writer, format string, layout csvsafe.Format, sheet string) (tableWriter, error) {
	if format == "xlsx" {
		return newXLSXTable(w, sheet)
	}
	return newCSVTable(w, layout)
}

// xlsxTable writes the rows as an Excel workbook of one sheet, named
// after what is exported.
type xlsxTable struct{ x *xlsx.Writer }

func newXLSXTable(w io.Writer, sheet string) (*xlsxTable, error) {
	x, err := xlsx.NewWriter(w, sheet)
	return &xlsxTable{x: x}, err
}

func (t *xlsxTable) header(cols []string) error      { return t.x.Row(cols) }
func (t *xlsxTable) row(cells []string, _ any) error { return t.x.Row(cells) }
func (t *xlsxTable) close() error                    { return t.x.Close() }

// jsonTable writes a JSON array, one object per line, streaming.
type jsonTable struct {
	w     io.Writer
	n     int
	err   error
	first bool
}

func newJSONTable(w io.Writer) *jsonTable { return &jsonTable{w: w} }

func (t *jsonTable) header([]string) error {
	_, err := io.WriteString(t.w, "[")
	return err
}

func (t *jsonTable) row(_ []string, obj any) error {
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	sep := ",\n"
	if t.n == 0 {
		sep = "\n"
	}
	t.n++
	if _, err := io.WriteString(t.w, sep); err != nil {
		return err
	}
	_, err = t.w.Write(b)
	return err
}

func (t *jsonTable) close() error {
	_, err := io.WriteString(t.w, "\n]\n")
	return err
}

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// exportedUser is a user as JSON export writes it: Graph's fields and the
// product names of its licences.
type exportedUser struct {
	*inventory.User
	LicenseNames []string `json:"licenseNames"`
}

// exportedLicense is a SKU as JSON export writes it: Graph's fields, the
// figures, and the product and service plan names of the catalogue.
type exportedLicense struct {
	*inventory.License
	ProductName      string   `json:"productName"`
	ServicePlanNames []string `json:"servicePlanNames"`
}

// exportTable writes what of the snapshot q.RunID selects; asOf is that
// snapshot's activity reference date, the date Last Activity and the
// active figures are judged by. The catalogue names SKUs and service
// plans in columns of their own beside the part numbers, which stay as
// they were for the scripts that read them.
func exportTable(ctx context.Context, s *inventory.Store, connID, what string, kind inventory.ReportKind, q inventory.Query, asOf string, cat *catalog.Catalog, tw tableWriter) (int, error) {
	n := 0
	switch what {
	case "users":
		// The snapshot's SKUs, not the search's: a user's licences are
		// named whatever the search matched.
		ls, err := s.Licenses(ctx, connID, inventory.Query{RunID: q.RunID})
		if err != nil {
			return 0, err
		}
		names := newSKULabels(cat, ls)
		if err := tw.header([]string{"User Principal Name", "Display Name", "Mail", "Account Enabled", "Department", "Job Title",
			"Usage Location", "Licenses", "License Names", "Last Activity Date", "Created", "Object ID", "Activity As Of"}); err != nil {
			return 0, err
		}
		err = s.EachUser(ctx, connID, q, func(u *inventory.User) error {
			n++
			// Product names may hold "+" (Enterprise Mobility + Security
			// E3): they are joined by "; ", unlike the part numbers.
			lic := names.labels(u.AssignedLicenses)
			return tw.row([]string{u.UserPrincipalName, u.DisplayName, u.Mail, strconv.FormatBool(u.AccountEnabled), u.Department,
				u.JobTitle, u.UsageLocation, u.Licenses, strings.Join(lic, "; "), date(u.LastActivity), stamp(u.CreatedDateTime), u.ID, asOf},
				exportedUser{u, lic})
		})
		return n, err
	case "licenses":
		ls, err := s.Licenses(ctx, connID, q)
		if err != nil {
			return 0, err
		}
		if err := tw.header([]string{"SKU", "Product", "SKU ID", "Capability Status", "Purchased", "Assigned", "Unassigned", "Active (30 days)",
			"Inactive Assigned", "Usage Known", "Consumed Units", "Enabled", "Warning", "Suspended", "Locked Out", "Service Plans",
			"Service Plan Names", "Activity As Of"}); err != nil {
			return 0, err
		}
		for i := range ls {
			l := &ls[i]
			plans := make([]string, 0, len(l.ServicePlans))
			planNames := make([]string, 0, len(l.ServicePlans))
			for _, p := range l.ServicePlans {
				plans = append(plans, p.ServicePlanName)
				planNames = append(planNames, cat.PlanLabel(p.ServicePlanID, p.ServicePlanName))
			}
			u := l.PrepaidUnits
			product := cat.Name(l.SkuID, l.SkuPartNumber)
			if err := tw.row([]string{l.SkuPartNumber, product, l.SkuID, l.CapabilityStatus, strconv.Itoa(l.Purchased), strconv.Itoa(l.Assigned),
				strconv.Itoa(l.Unassigned), strconv.Itoa(l.Active), strconv.Itoa(l.Inactive), strconv.FormatBool(l.UsageKnown),
				strconv.Itoa(l.ConsumedUnits), strconv.Itoa(u.Enabled), strconv.Itoa(u.Warning), strconv.Itoa(u.Suspended),
				strconv.Itoa(u.LockedOut), strings.Join(plans, "+"), strings.Join(planNames, "; "), l.ActivityAsOf},
				exportedLicense{l, product, planNames}); err != nil {
				return n, err
			}
			n++
		}
		return n, nil
	case "applications":
		if err := tw.header([]string{"Display Name", "Application Name", "Publisher", "Type", "Account Enabled", "Application ID",
			"Owner Tenant", "Microsoft First-Party", "Tags", "Object ID"}); err != nil {
			return 0, err
		}
		err := s.EachApplication(ctx, connID, q, func(p *inventory.ServicePrincipal) error {
			n++
			return tw.row([]string{p.DisplayName, p.AppDisplayName, p.PublisherName, p.ServicePrincipalType,
				strconv.FormatBool(p.AccountEnabled), p.AppID, p.AppOwnerOrganizationID, strconv.FormatBool(p.FirstParty()),
				strings.Join(p.Tags, ";"), p.ID}, p)
		})
		return n, err
	}
	spec := inventory.Report(kind)
	cols := make([]string, 0, len(spec.Columns)+1)
	for _, c := range spec.Columns {
		cols = append(cols, c.Header)
	}
	if err := tw.header(append(cols, "Other Columns")); err != nil {
		return 0, err
	}
	err := s.EachReportRow(ctx, connID, kind, q, func(r *inventory.ReportRow) error {
		n++
		obj := make(map[string]string, len(cols)+len(r.Extras))
		for i, c := range spec.Columns {
			obj[c.Header] = r.Cells[i]
		}
		other := ""
		if len(r.Extras) > 0 {
			for k, v := range r.Extras {
				obj[k] = v
			}
			b, _ := json.Marshal(r.Extras) // sorts the keys
			other = string(b)
		}
		cells := append(append(make([]string, 0, len(r.Cells)+1), r.Cells...), other)
		return tw.row(cells, obj)
	})
	return n, err
}
