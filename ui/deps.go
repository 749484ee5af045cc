// Package ui is the Inventory Beacon window: one file per screen or dialog.
// It holds no business rules: the connection rules live in connector, the
// sign-in in auth, persistence in storage. Screens are structs that keep
// their widgets as fields, so tests drive them with fyne.io/fyne/v2/test
// without a display.
package ui

import (
	"time"

	"fyne.io/fyne/v2"

	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// Deps is what the window needs from the rest of the program. Repo is
// required; every hook may be nil, meaning the feature is not in this build
// yet, and the window says so plainly when it is asked for.
//
// Hooks are called on the Fyne goroutine. A hook that does slow work must
// do it on its own goroutine and touch widgets only through fyne.Do.
type Deps struct {
	Repo *storage.Repository

	// Generate runs the interactive sign-in of the connection dialog
	// (Generate...). It shows its own waiting dialog and errors, and on
	// success calls req.Done with the refresh token and its description.
	Generate func(req GenerateRequest)

	// TestConnection gets a token for c and reads one page of users,
	// reporting what works and which permission is missing. c is saved:
	// the window saves pending changes first, so secrets are in the keyring.
	TestConnection func(parent fyne.Window, c storage.Connection)

	// ExecuteNow imports from c, with progress and Cancel: incremental
	// when it can be, or a full import when req.Full ("Execute Now (full
	// import)"). c is saved, as for TestConnection.
	ExecuteNow func(parent fyne.Window, c storage.Connection, req ImportRequest)

	// Schedule shows "Select Schedule" for c and calls done with the chosen
	// schedule ID ("" for Not scheduled) if the administrator clicks OK.
	// The window records the choice as a pending change. Nil means the
	// built-in Select Schedule dialog (NewSelectSchedule).
	Schedule func(parent fyne.Window, cfg *storage.Config, c storage.Connection, done func(scheduleID string))

	// Status reports the run state shown in the Inventory Systems table.
	// Call (*MainWindow).RefreshStatus when it changes. A zero NextRun
	// lets the window compute it from its own configuration, pending
	// changes included (the usual case); a non-zero one is shown as is.
	Status func(connID string) ConnectionStatus

	// Pages replaces the placeholder of a navigation page (keyed by its
	// title, e.g. PageUsers) with a real screen. A page given here wins
	// over the built-in one.
	Pages map[string]func(parent fyne.Window) fyne.CanvasObject

	// Inventory is the database of imported data. With it the window shows
	// the built-in data pages (Users, Licenses, Applications, Usage, Import
	// history) and fills Last run / Last result from the import history
	// (NextRun still comes from Status, when given).
	Inventory *inventory.Store

	// Execute runs one import of a saved connection, passing
	// ImportRequest.Full on to the importer. When ExecuteNow is nil and
	// Execute is set, Execute Now shows the built-in progress
	// dialog (a bar per stage, Cancel) around it, and the window refreshes
	// Last run / Last result and the data pages when it ends.
	Execute ExecuteFunc

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

	// StartDemo starts the built-in simulated tenant and commits its
	// "Demo tenant" connection to Repo ("Try with a demo tenant" on the
	// welcome panel). Unlike the other hooks it is called off the Fyne
	// goroutine, since it starts a server and writes the configuration;
	// the window reloads the configuration when it returns.
	StartDemo func() ([]DemoAccount, error)

	// DemoAccounts are the sign-in accounts of a demo tenant started
	// before the window (beacon --demo); the window lists them once when
	// it opens.
	DemoAccounts []DemoAccount

	// ScreenSize is the size of the screen the window opens on, so a
	// remembered window size never exceeds it. Nil or zero: unknown, and
	// only the minimum size is enforced.
	ScreenSize func() fyne.Size
}

// DemoAccount is a sign-in account of the demo tenant and what signing in
// with it shows.
type DemoAccount struct {
	UPN  string
	Role string
}

// GenerateRequest is what the connection dialog hands to Deps.Generate.
type GenerateRequest struct {
	Parent fyne.Window
	// Connection is the connection as currently typed in the dialog, not
	// necessarily saved.
	Connection storage.Connection
	// ProxyPassword is a proxy password typed in the dialog and not saved
	// yet; empty means use the keyring's, if Connection.Proxy.HasPassword.
	ProxyPassword string
	// Done records the result in the dialog as a pending change (the token
	// reaches the keyring on Save). Call it on the Fyne goroutine.
	Done func(refreshToken string, info storage.TokenInfo)
}

// ConnectionStatus is a connection's run state for the table. Zero times
// mean never / not scheduled.
type ConnectionStatus struct {
	NextRun    time.Time
	LastRun    time.Time
	LastResult string // e.g. "Succeeded", "Completed with warnings", "Failed: ..."
}

// Navigation page titles.
const (
	GroupDataCollection = "Data collection"
	GroupImportedData   = "Imported data"

	PageInventorySystems = "Inventory Systems"
	PageScheduling       = "Scheduling"
	PageUsers            = "Users"
	PageLicenses         = "Licenses"
	PageApplications     = "Applications"
	PageUsage            = "Usage"
	PageImportHistory    = "Import history"
)
