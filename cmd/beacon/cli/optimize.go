package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/service/optimize"
	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

func init() {
	Register(Command{
		Name:    "optimize",
		Summary: "licences to reclaim in a connection's last import: who, which SKUs, and what it would save; --all: seats, cost and waste per SKU across every connection",
		Usage:   "NAME|--all [--inactive-days 90] [--format table|csv|json] [--list all|inactive|never|disabled|guests|new|overlaps|errors] [--output FILE]",
		Run:     runOptimize,
	})
}

// optimizeLists are the lists in the order the Optimization page shows
// them, with the names --list and the JSON give them.
var optimizeLists = []struct {
	key    string
	reason optimize.Reason
}{
	{"new", optimize.NewStarter},
	{"disabled", optimize.Disabled},
	{"never", optimize.NeverActive},
	{"inactive", optimize.Inactive},
	{"guests", optimize.LicensedGuest},
	{"overlaps", optimize.Overlapping},
	{"errors", optimize.AssignmentError},
}

// reportFlags are the output flags of a report: --format, --output and
// --bom.
func reportFlags(fs *flag.FlagSet, formats string) (format, output, bom *string) {
	format = fs.String("format", "table", formats)
	output = fs.String("output", "", "write to this file instead of standard output (replaced atomically; readable only by you)")
	bom = fs.String("bom", "auto", bomUsage)
	return format, output, bom
}

// failWith returns the failure of command cmd: its error on stderr,
// ExitFailed.
func failWith(env *Env, cmd string) func(error) int {
	return func(err error) int {
		fmt.Fprintf(env.Stderr, "beacon %s: %v\n", cmd, err)
		return ExitFailed
	}
}

// reportSources are what a report on a connection's data reads.
type reportSources struct {
	conn    storage.Connection
	cfg     *storage.Config
	cat     *catalog.Catalog
	problem string // why the loaded catalogue is not used ("": it is)
	store   *inventory.Store
	noData  error
}

// openReport loads the connection named name, the catalogue in use (its
// problem printed as cmd's when cmd is given) and the inventory database,
// failing with noData when there is none yet.
func openReport(ctx context.Context, env *Env, name, cmd string) (*reportSources, error) {
	conn, err := loadConnection(env, name)
	if err != nil {
		return nil, err
	}
	cfg, cat, problem, err := catalogInUse(env, cmd)
	if err != nil {
		return nil, err
	}
	noData := fmt.Errorf("%s has no imported data yet: run `beacon execute %q` first", conn.Name, conn.Name)
	store, err := openStoreIfAny(ctx, env)
	if err != nil {
		return nil, err
	}
	if store == nil {
		return nil, noData
	}
	return &reportSources{conn: conn, cfg: cfg, cat: cat, problem: problem, store: store, noData: noData}, nil
}

// maxInactiveDays bounds N: ten years is beyond any activity Microsoft
// keeps (the reports cover 180 days).
const maxInactiveDays = 3650

func runOptimize(ctx context.Context, env *Env, args []string) int {
	c, _ := Lookup("optimize")
	fs := NewFlagSet(env, c)
	days := fs.Int("inactive-days", optimize.DefaultInactiveDays, "N: a user with no activity for N days before the snapshot's activity date is inactive, and an account younger than N days a new starter (1 to 3650)")
	list := fs.String("list", "all", "the list to print: all, inactive, never, disabled, guests, new, overlaps or errors")
	format, output, bom := reportFlags(fs, "table, csv, xlsx (an Excel workbook; needs --output) or json")
	all := fs.Bool("all", false, "sum every connection's last import per SKU instead of naming one connection (the lists of users stay per connection)")
	names, code, ok := parseWithName(fs, args)
	if !ok {
		return code
	}
	if *all && (len(names) != 0 || *list != "all") {
		fmt.Fprintln(env.Stderr, "beacon optimize: --all sums every connection: give no connection name and no --list")
		fs.Usage()
		return ExitUsage
	}
	if !*all && len(names) != 1 {
		fmt.Fprintln(env.Stderr, "beacon optimize: give exactly one connection name (quote a name with spaces), or --all")
		fs.Usage()
		return ExitUsage
	}
	if *days < 1 || *days > maxInactiveDays {
		fmt.Fprintf(env.Stderr, "beacon optimize: --inactive-days %d: choose a number of days from 1 to %d\n", *days, maxInactiveDays)
		return ExitUsage
	}
	if *format != "table" && *format != "csv" && *format != "json" && *format != "xlsx" {
		fmt.Fprintf(env.Stderr, "beacon optimize: unknown format %q; choose table, csv, xlsx or json\n", *format)
		return ExitUsage
	}
	if *format == "xlsx" && *output == "" {
		fmt.Fprintln(env.Stderr, "beacon optimize: --format xlsx writes a file: give it with --output FILE.xlsx")
		return ExitUsage
	}
	var reasons []optimize.Reason
	for _, l := range optimizeLists {
		if *list == "all" || *list == l.key {
			reasons = append(reasons, l.reason)
		}
	}
	if len(reasons) == 0 {
		fmt.Fprintf(env.Stderr, "beacon optimize: unknown list %q; choose all, inactive, never, disabled, guests, new, overlaps or errors\n", *list)
		return ExitUsage
	}
	layout, err := csvLayout(*bom, *output)
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon optimize: %v\n", err)
		return ExitUsage
	}
	fail := failWith(env, "optimize")
	if *all {
		return optimizeAll(ctx, env, *days, *format, *output, layout, fail)
	}
	name := names[0]
	// The catalogue's problem is part of the report (a notice in the
	// table, a field in the JSON), not a separate line on stderr.
	src, err := openReport(ctx, env, name, "")
	if err != nil {
		return fail(err)
	}
	defer src.store.Close()
	conn, cfg, cat, problem, store := src.conn, src.cfg, src.cat, src.problem, src.store
	noData := src.noData
	run, err := store.CurrentRun(ctx, conn.ID)
	if errors.Is(err, inventory.ErrNoSnapshot) {
		return fail(noData)
	}
	if err != nil {
		return fail(err)
	}
	res, err := (&service.Optimizer{Store: store}).OptimizeRun(ctx, conn.ID, run.ID, *days, cfg, cat)
	if err != nil {
		return fail(err)
	}
	rep := newOptimizeReport(conn.Name, run, res, cat, problem, reasons)
	if *format == "csv" || *format == "xlsx" {
		// The CSV holds the findings only: what makes them incomplete
		// is said beside it.
		for _, n := range []string{problem, res.ActivityProblem} {
			if n != "" {
				fmt.Fprintf(env.Stderr, "beacon optimize: %s\n", n)
			}
		}
	}

	if err := writeReport(env, *output, *format, layout, rep); err != nil {
		return fail(err)
	}
	if *output != "" {
		fmt.Fprintf(env.Stderr, "Wrote the licences to reclaim of %q (import of %s, %d days) to %s\n", conn.Name,
			run.Started.Local().Format(time.DateTime), res.InactiveDays, *output)
	}
	return ExitOK
}

// optimizeReport is `beacon optimize --format json`: the whole page. Its
// field names are part of the command's interface: scripts read them.
type optimizeReport struct {
	Connection string    `json:"connection"`
	RunID      int64     `json:"runId"`
	Imported   time.Time `json:"imported"`
	// ActivityAsOf is the date "N days" count back from: the usage
	// reports' refresh date, or the import's date without them.
	ActivityAsOf    string          `json:"activityAsOf"`
	InactiveDays    int             `json:"inactiveDays"`
	Catalog         optimizeCatalog `json:"catalog"`
	ActivityKnown   bool            `json:"activityKnown"`
	ActivityProblem string          `json:"activityProblem,omitempty"`
	SignInNotice    string          `json:"signInNotice,omitempty"`
	SKUs            []optimizeSKU   `json:"skus"`
	Totals          optimizeTotals  `json:"totals"`
	Lists           []optimizeList  `json:"lists"`
}

type optimizeCatalog struct {
	Source   string `json:"source"`
	Builtin  bool   `json:"builtin"`
	Products int    `json:"products"`
	// Problem says why a loaded catalogue is not the one in use.
	Problem string `json:"problem,omitempty"`
}

// optimizeMoney is an amount in one currency. Amounts are JSON numbers
// with two decimals (json.Number keeps "23.50" as written).
type optimizeMoney struct {
	Currency string      `json:"currency"`
	PerMonth json.Number `json:"perMonth"`
	PerYear  json.Number `json:"perYear"`
}

type optimizePrice struct {
	Amount   json.Number `json:"amount"`
	Currency string      `json:"currency"`
	Per      string      `json:"per"` // month or year
}

type optimizeSKU struct {
	SkuID      string `json:"skuId"`
	PartNumber string `json:"partNumber"`
	Name       string `json:"name"` // "Office 365 E3 (ENTERPRISEPACK)"
	Purchased  int    `json:"purchased"`
	Assigned   int    `json:"assigned"`
	Unused     int    `json:"unused"`
	// Seats counts the SKU's seats in each list, by the list's key.
	Seats       map[string]int `json:"seats"`
	Recoverable int            `json:"recoverable"`
	Price       *optimizePrice `json:"price,omitempty"`
	// Cost is what the recoverable seats cost; absent without a price.
	Cost *optimizeMoney `json:"cost,omitempty"`
}

type optimizeTotals struct {
	RecoverableSeats int `json:"recoverableSeats"`
	// Cost is per currency, sorted by currency code.
	Cost []optimizeMoney `json:"cost"`
	// UnpricedSeats are recoverable seats of SKUs without a price.
	UnpricedSeats int `json:"unpricedSeats"`
	// UncountedUnused are unused units of SKUs without a price (or
	// priced at 0), left out of RecoverableSeats.
	UncountedUnused int `json:"uncountedUnused"`
	GroupAssigned   int `json:"groupAssigned"`
}

type optimizeList struct {
	List  string `json:"list"` // the --list key
	Title string `json:"title"`
	// Computed is false for the activity lists when activity is unknown
	// (the list is then empty, and activityProblem says why).
	Computed bool              `json:"computed"`
	Users    []optimizeFinding `json:"users"`
}

type optimizeLicense struct {
	SkuID      string `json:"skuId"`
	PartNumber string `json:"partNumber,omitempty"`
	Name       string `json:"name"`
	// Source is direct, group or error (a group assignment that failed).
	Source     string `json:"source"`
	Group      string `json:"group,omitempty"`
	Error      string `json:"error,omitempty"`
	AlsoDirect bool   `json:"alsoDirect,omitempty"`
}

// optimizeActivity is the last activity date per workload (empty: none).
type optimizeActivity struct {
	Exchange   string `json:"exchange"`
	OneDrive   string `json:"oneDrive"`
	SharePoint string `json:"sharePoint"`
	Teams      string `json:"teams"`
	VivaEngage string `json:"vivaEngage"`
	OfficeApps string `json:"officeApps"`
}

type optimizeFinding struct {
	Reason       string            `json:"reason"`
	UPN          string            `json:"userPrincipalName"`
	DisplayName  string            `json:"displayName"`
	Department   string            `json:"department"`
	Licenses     []optimizeLicense `json:"licenses"`
	Activity     optimizeActivity  `json:"activity"`
	LastSignIn   string            `json:"lastSignIn"`
	LastActivity string            `json:"lastActivity"`
	Detail       string            `json:"detail"`
	Recoverable  bool              `json:"recoverable"`
	// Cost is what the finding's licences cost, per currency.
	Cost []optimizeMoney `json:"cost"`
}

func newOptimizeReport(name string, run inventory.Run, res *optimize.Result, cat *catalog.Catalog, problem string, reasons []optimize.Reason) *optimizeReport {
	rep := &optimizeReport{
		Connection: name, RunID: run.ID, Imported: run.Started.UTC(), ActivityAsOf: date(res.AsOf), InactiveDays: res.InactiveDays,
		Catalog:       optimizeCatalog{Source: cat.Source.String(), Builtin: cat.Source.Builtin, Products: cat.Len(), Problem: problem},
		ActivityKnown: res.ActivityKnown, ActivityProblem: res.ActivityProblem, SignInNotice: res.SignInNotice,
		SKUs: []optimizeSKU{}, Lists: []optimizeList{},
		Totals: optimizeTotals{RecoverableSeats: res.RecoverableSeats, UnpricedSeats: res.UnpricedSeats, UncountedUnused: res.UncountedUnused, GroupAssigned: res.GroupAssigned,
			Cost: moneyOf(res.MonthlyCents)},
	}
	names := map[string]optimize.SKUSavings{}
	for _, s := range res.SKUs {
		names[strings.ToLower(s.SkuID)] = s
		line := optimizeSKU{SkuID: s.SkuID, PartNumber: s.PartNumber, Name: s.Name, Purchased: s.Purchased, Assigned: s.Assigned,
			Unused: s.Unused, Recoverable: s.Recoverable, Seats: map[string]int{}}
		for _, l := range optimizeLists {
			line.Seats[l.key] = s.ByReason[l.reason]
		}
		if p := s.Price; p != nil {
			line.Price = priceOf(p)
			line.Cost = oneMoney(p, s.MonthlyCents)
		}
		rep.SKUs = append(rep.SKUs, line)
	}
	for _, l := range optimizeLists {
		if !slices.Contains(reasons, l.reason) {
			continue
		}
		ol := optimizeList{List: l.key, Title: listTitle(l.reason, res.InactiveDays), Users: []optimizeFinding{},
			Computed: res.ActivityKnown || (l.reason != optimize.Inactive && l.reason != optimize.NeverActive)}
		for i := range res.Lists[l.reason] {
			ol.Users = append(ol.Users, newOptimizeFinding(res, &res.Lists[l.reason][i], names, cat))
		}
		rep.Lists = append(rep.Lists, ol)
	}
	return rep
}

func newOptimizeFinding(res *optimize.Result, fd *optimize.Finding, skus map[string]optimize.SKUSavings, cat *catalog.Catalog) optimizeFinding {
	u := fd.User
	act := func(w optimize.Workload) string { return date(u.Activity[w]) }
	out := optimizeFinding{Reason: fd.Reason.String(), UPN: u.UPN, DisplayName: u.DisplayName, Department: u.Department,
		Activity: optimizeActivity{act(optimize.Exchange), act(optimize.OneDrive), act(optimize.SharePoint), act(optimize.Teams),
			act(optimize.Yammer), act(optimize.OfficeApps)},
		LastSignIn: date(u.LastSignIn), LastActivity: date(fd.LastActivity), Detail: fd.Detail, Recoverable: fd.Recoverable,
		Cost: moneyOf(res.Cost(fd))}
	for _, id := range fd.SKUs {
		s, ok := skus[strings.ToLower(id)]
		l := optimizeLicense{SkuID: id, PartNumber: s.PartNumber, Name: s.Name, Source: "direct"}
		if !ok {
			l.Name = cat.Label(id, "")
		}
		// The finding's licence of this SKU: a failed group assignment for
		// an assignment error, else the licence the user holds.
		for _, ul := range u.Licenses {
			if !strings.EqualFold(ul.SkuID, id) || (ul.Source == optimize.Failed) != (fd.Reason == optimize.AssignmentError) {
				continue
			}
			switch ul.Source {
			case optimize.Group:
				l.Source, l.Group, l.AlsoDirect = "group", groupName(ul), ul.AlsoDirect
			case optimize.Failed:
				l.Source, l.Group, l.Error = "error", groupName(ul), ul.Error
			}
			break
		}
		out.Licenses = append(out.Licenses, l)
	}
	return out
}

func groupName(l optimize.License) string {
	if l.GroupName != "" {
		return l.GroupName
	}
	return l.GroupID
}

// moneyOf turns monthly hundredths per currency into amounts per month
// and per year, sorted by currency; an empty map gives an empty list.
func moneyOf(monthly map[string]float64) []optimizeMoney {
	out := []optimizeMoney{}
	for _, cur := range slices.Sorted(maps.Keys(monthly)) {
		m := monthly[cur]
		out = append(out, optimizeMoney{Currency: cur, PerMonth: json.Number(service.FormatCents(m)), PerYear: json.Number(service.FormatCents(m * 12))})
	}
	return out
}

func listTitle(r optimize.Reason, days int) string {
	switch r {
	case optimize.NewStarter:
		return fmt.Sprintf("New starters (accounts younger than %d days: not waste)", days)
	case optimize.Inactive:
		return fmt.Sprintf("Inactive (no activity for %d days)", days)
	}
	return r.String()
}

// source is a licence's assignment source in words: how to take it back.
func (l optimizeLicense) source() string {
	switch l.Source {
	case "group":
		if l.AlsoDirect {
			return "group " + l.Group + " and direct"
		}
		return "group " + l.Group
	case "error":
		s := "error: group " + l.Group
		if l.Error != "" {
			s += " (" + l.Error + ")"
		}
		return s
	}
	return "direct"
}

// The columns of a finding in the table and the CSV, built once.
func (f *optimizeFinding) licenseNames() string {
	return joinLicenses(f.Licenses, func(l optimizeLicense) string { return l.Name })
}

func (f *optimizeFinding) sources() string {
	return joinLicenses(f.Licenses, optimizeLicense.source)
}

func joinLicenses(ls []optimizeLicense, text func(optimizeLicense) string) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = text(l)
	}
	return strings.Join(parts, "; ")
}

func (a optimizeActivity) dates() []string {
	return []string{a.Exchange, a.OneDrive, a.SharePoint, a.Teams, a.VivaEngage, a.OfficeApps}
}

// costText is an amount per currency, "23.00 EUR" ("; " between
// currencies); pick chooses per month or per year.
func costText(ms []optimizeMoney, pick func(optimizeMoney) json.Number) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = string(pick(m)) + " " + m.Currency
	}
	return strings.Join(parts, "; ")
}

func perMonth(m optimizeMoney) json.Number { return m.PerMonth }
func perYear(m optimizeMoney) json.Number  { return m.PerYear }

// writeRows writes one row per finding, with the list it is in, as CSV
// or a workbook.
func (rep *optimizeReport) writeRows(t tableWriter) error {
	head := []string{"Reason", "User Principal Name", "Display Name", "Department", "Licenses", "SKU Part Numbers"}
	for _, n := range optimize.WorkloadNames {
		head = append(head, n+" Last Activity")
	}
	head = append(head, "Last Sign-In", "Last Activity", "Assignment Source", "Detail", "Recoverable",
		"Monthly Cost", "Yearly Cost", "Currency", "Activity As Of", "Inactive Days")
	if err := t.header(head); err != nil {
		return err
	}
	days := strconv.Itoa(rep.InactiveDays)
	for _, l := range rep.Lists {
		for i := range l.Users {
			f := &l.Users[i]
			parts := joinLicenses(f.Licenses, func(l optimizeLicense) string { return l.PartNumber })
			// Amounts alone, so a spreadsheet sums them; the currency has
			// a column of its own.
			monthly, yearly, curs := make([]string, len(f.Cost)), make([]string, len(f.Cost)), make([]string, len(f.Cost))
			for i, m := range f.Cost {
				monthly[i], yearly[i], curs[i] = string(m.PerMonth), string(m.PerYear), m.Currency
			}
			row := append([]string{f.Reason, f.UPN, f.DisplayName, f.Department, f.licenseNames(), parts}, f.Activity.dates()...)
			row = append(row, f.LastSignIn, f.LastActivity, f.sources(), f.Detail, strconv.FormatBool(f.Recoverable),
				strings.Join(monthly, "; "), strings.Join(yearly, "; "), strings.Join(curs, "; "), rep.ActivityAsOf, days)
			if err := t.row(row, nil); err != nil {
				return err
			}
		}
	}
	return t.close()
}

// writeTable writes the page for a terminal: the snapshot, the notices,
// the totals per SKU and overall, then each list.
func (rep *optimizeReport) writeTable(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "%s: import %d of %s; activity as of %s; inactive means no activity for %d days\n", rep.Connection, rep.RunID,
		rep.Imported.Local().Format(time.DateTime), rep.ActivityAsOf, rep.InactiveDays)
	fmt.Fprintf(ew, "Catalogue: %s, %d products\n", rep.Catalog.Source, rep.Catalog.Products)
	for _, n := range []string{rep.Catalog.Problem, rep.ActivityProblem, rep.SignInNotice} {
		if n != "" {
			fmt.Fprintf(ew, "Notice: %s\n", n)
		}
	}
	if !rep.ActivityKnown {
		fmt.Fprintln(ew, "Notice: activity is unknown, so the never-active and inactive lists are empty.")
	}

	fmt.Fprintln(ew)
	tw := tabwriter.NewWriter(ew, 2, 4, 2, ' ', 0)
	head := []string{"PRODUCT", "PURCHASED", "ASSIGNED", "UNUSED"}
	for _, l := range optimizeLists {
		head = append(head, strings.ToUpper(l.key))
	}
	fmt.Fprintln(tw, strings.Join(append(head, "RECOVERABLE", "PRICE", "PER MONTH", "PER YEAR"), "\t"))
	for _, s := range rep.SKUs {
		cells := []string{s.Name, strconv.Itoa(s.Purchased), strconv.Itoa(s.Assigned), strconv.Itoa(s.Unused)}
		for _, l := range optimizeLists {
			cells = append(cells, strconv.Itoa(s.Seats[l.key]))
		}
		price, month, year := priceCells(s.Price, s.Cost)
		fmt.Fprintln(tw, strings.Join(append(cells, strconv.Itoa(s.Recoverable), price, month, year), "\t"))
	}
	tw.Flush()

	t := rep.Totals
	writeRecoverable(ew, "Recoverable", t.RecoverableSeats, t.Cost)
	if t.UnpricedSeats > 0 {
		fmt.Fprintf(ew, "Without a price: %d of these seats (set one with `beacon prices set SKU AMOUNT CURRENCY`)\n", t.UnpricedSeats)
	}
	if t.UncountedUnused > 0 {
		fmt.Fprintf(ew, "Not counted: %d unused units of SKUs without a price (free SKUs come with thousands; price a SKU to count its unused units)\n", t.UncountedUnused)
	}
	if t.GroupAssigned > 0 {
		fmt.Fprintf(ew, "Assigned through a group: %s (take the user out of the group to free them)\n", plural(t.GroupAssigned, "licence"))
	}

	for _, l := range rep.Lists {
		fmt.Fprintf(ew, "\n%s: %s\n", l.Title, plural(len(l.Users), "user"))
		if !l.Computed {
			fmt.Fprintln(ew, "  not computed: activity is unknown (see the notice above)")
			continue
		}
		if len(l.Users) == 0 {
			continue
		}
		tw := tabwriter.NewWriter(ew, 2, 4, 2, ' ', 0)
		head := []string{"UPN", "NAME", "DEPARTMENT", "LICENCES"}
		for _, n := range optimize.WorkloadNames {
			head = append(head, strings.ToUpper(n))
		}
		fmt.Fprintln(tw, strings.Join(append(head, "SIGN-IN", "SOURCE", "COST/MONTH", "DETAIL"), "\t"))
		for i := range l.Users {
			f := &l.Users[i]
			cells := []string{f.UPN, f.DisplayName, f.Department, f.licenseNames()}
			cells = append(cells, f.Activity.dates()...)
			cells = append(cells, f.LastSignIn, f.sources(), costText(f.Cost, perMonth), f.Detail)
			for i, c := range cells {
				// Tabs and line breaks typed into a directory field would
				// break the columns; an empty cell is a dash.
				c = strings.Map(func(r rune) rune {
					if r == '\t' || r == '\n' || r == '\r' {
						return ' '
					}
					return r
				}, c)
				if c == "" {
					c = "-"
				}
				cells[i] = c
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		tw.Flush()
	}
	return ew.err
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// errWriter keeps the first write error, so the table is written without
// checking each line and fails as a whole.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
