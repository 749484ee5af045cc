// Package ui is the Inventory Beacon window: one file per screen or dialog,
// one controller per feature (connections, sign-in, Test Connection,
// import, data pages, Optimization, scheduling), and MainWindow composing
// them with the navigation, menu, tray and window state. It holds no
// business rules: the connection rules live in connector, persistence in
// storage, the licensing catalogue in connector/catalog, the reclamation
// figures in service/optimize, and the use cases (sign-in, Test
// Connection, import, the Optimization page's computation) come in
// through the small interfaces of Deps, implemented by cmd/beacon; prices
// and the catalogue in use are read and written through service. Screens
// are structs that keep their widgets as fields, so tests drive them with
// fyne.io/fyne/v2/test without a display.
package ui

import (
	"time"

	"fyne.io/fyne/v2"

	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// Deps are the services the window is built with. Each feature's
// controller declares, beside it, the small interface it needs (SignIn,
// ConnectionTester, Importer, DemoTenant); cmd/beacon implements them with
// service, auth and storage, and tests pass fakes. All are required but
// the ones documented as optional.
//
// Services are called off the Fyne goroutine when they may block; their
// results reach the widgets through fyne.Do.
type Deps struct {
	// Repo is the configuration and the keyring.
	Repo *storage.Repository
	// SignIn is Generate... in the connection dialog.
	SignIn SignIn
	// Tester is Test Connection.
	Tester ConnectionTester
	// Importer is Execute Now (and the tray's Execute all now for
	// connections on no schedule).
	Importer Importer

	// Inventory is the database of imported data, read by the data pages
	// (Users, Licenses, Applications, Usage, Import history) and for Last
	// run / Last result. Optional: without it those pages say they are
	// not available and the table shows no past runs (screens tested
	// without data).
	Inventory *inventory.Store

	// Optimizer computes the Optimization page (service.Optimizer on
	// Inventory). Optional: nil uses a service.Optimizer on Inventory.
	Optimizer Optimizer

	// Now and Location are the clock and time zone of next-run times (the
	// Next run column, the Scheduling page, the schedule dialogs): give the
	// scheduler's, so the window and the runner agree. Default clock.Now
	// and time.Local.
	Now      func() time.Time
	Location *time.Location

	// AppName and AppVersion are shown by Help → About. The caller passes
	// them from FyneApp.toml (beacon.AppMetadata) rather than ui importing
	// the root package; empty falls back to the Fyne app's metadata.
	AppName    string
	AppVersion string

	// Demo is the built-in simulated tenant ("Try with a demo tenant" on
	// the welcome panel). Optional: a build without the simulator leaves
	// it nil and the button says the demo is not available.
	Demo DemoTenant

	// DemoAccounts are the sign-in accounts of a demo tenant started
	// before the window (beacon --demo); the window lists them once when
	// it opens.
	DemoAccounts []DemoAccount

	// ScreenSize is the size of the screen the window opens on, so a
	// remembered window size never exceeds it. Nil or zero: unknown, and
	// only the minimum size is enforced.
	ScreenSize func() fyne.Size
}

// DemoTenant starts the simulated tenant and commits its "Demo tenant"
// connection to Repo. It is called off the Fyne goroutine, since it
// starts a server and writes the configuration; the window reloads the
// configuration when it returns.
type DemoTenant interface {
	StartDemo() ([]DemoAccount, error)
}

// DemoAccount is a sign-in account of the demo tenant and what signing in
// with it shows.
type DemoAccount struct {
	UPN  string
	Role string
}

// ConnectionStatus is a connection's run state for the table. Zero times
// mean never / not scheduled.
type ConnectionStatus struct {
	NextRun    time.Time
	LastRun    time.Time
	LastResult string // e.g. "Succeeded", "Completed with warnings", "Failed: ..."
	// Alert: the connection fails, or its schedule cannot run; the table
	// shows the result in red (issue 23 item 8).
	Alert bool
}

// Navigation page titles.
const (
	GroupDataCollection = "Data collection"
	GroupImportedData   = "Imported data"

	PageInventorySystems = "Inventory Systems"
	PageScheduling       = "Scheduling"
	PageUsers            = "Users"
	PageLicenses         = "Licenses"
	PageOptimization     = "Optimization"
	PageApplications     = "Applications"
	PageUsage            = "Usage"
	PageImportHistory    = "Import history"
)
