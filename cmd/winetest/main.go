// Command winetest is the Go half of the Windows stage of `make test`
// (make test-windows, scripts/test-windows.sh), which runs the Windows
// builds of Inventory Beacon under Wine:
//
//	winetest verdict [--dir DIR] PACKAGE < events
//	                                    (on Linux) judges one Windows test
//	                                    binary's run from its test2json events
//	winetest connect --ready FILE       (under Wine) adds a connection to the
//	                                    simulator, its secret to Credential Manager
//
// verdict exists because Go 1.26's t.TempDir cleanup fails under Wine 8.0:
// os.RemoveAll deletes with POSIX semantics
// (FILE_DISPOSITION_POSIX_SEMANTICS), which Wine 8.0 does not implement,
// and every test that made a temporary folder then fails with exactly
//
//	testing.go:NNNN: TempDir RemoveAll cleanup: unlinkat PATH: Invalid function.
//
// after its own checks have passed. A test whose only complaint is that
// line is reported as a known Wine limitation. t.Log and t.Error print
// alike, so a message's file and line are looked up in the package's
// folder: a Log or Logf call there is information. Any other message, a test
// failing without one, a package that crashes, times out or runs no test
// fails the stage. A cleanup that fails otherwise ("Sharing violation": a
// file the test left open) is a real failure.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/inventorybeacon/beacon/cmd/internal/simconn"
	"github.com/inventorybeacon/beacon/m365sim"
	"github.com/inventorybeacon/beacon/storage"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: winetest verdict [--dir DIR] PACKAGE < test2json events | winetest connect --ready FILE [--name NAME]")
		return 2
	}
	switch args[0] {
	case "verdict":
		fs := flag.NewFlagSet("winetest verdict", flag.ContinueOnError)
		fs.SetOutput(stderr)
		dir := fs.String("dir", "", "the package's folder, where a message's file and line tell a t.Log from a failure")
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 1 {
			fmt.Fprintln(stderr, "usage: winetest verdict [--dir DIR] PACKAGE < test2json events")
			return 2
		}
		pkg := fs.Arg(0)
		v, err := judge(stdin, *dir)
		if err != nil {
			fmt.Fprintf(stderr, "winetest: %s: %v\n", pkg, err)
			return 1
		}
		v.report(stdout, pkg)
		if !v.ok() {
			return 1
		}
		return 0
	case "connect":
		fs := flag.NewFlagSet("winetest connect", flag.ContinueOnError)
		fs.SetOutput(stderr)
		ready := fs.String("ready", "", "file with the simulator's --ready-json object")
		name := fs.String("name", "Simulator", "name of the connection")
		dir := fs.String("config-dir", "", "configuration folder (default: the user's, as beacon uses)")
		if err := fs.Parse(args[1:]); err != nil || *ready == "" {
			fmt.Fprintln(stderr, "usage: winetest connect --ready FILE [--name NAME] [--config-dir DIR]")
			return 2
		}
		if err := connect(*ready, *name, *dir); err != nil {
			fmt.Fprintln(stderr, "winetest connect:", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "winetest: unknown command %q\n", args[0])
	return 2
}

// connect writes the connection where `beacon` (run without --config-dir)
// will look for it: under Wine that is %AppData%, and the secret lands in
// Wine's Credential Manager, which the next process reads back.
func connect(readyFile, name, dir string) error {
	b, err := os.ReadFile(readyFile)
	if err != nil {
		return err
	}
	var info m365sim.ReadyInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return fmt.Errorf("%s: %w", readyFile, err)
	}
	if dir == "" {
		if dir, err = storage.DefaultConfigDir(); err != nil {
			return err
		}
	}
	return simconn.Connect(dir, name, simconn.App{
		TokenEndpoint: info.TokenEndpoint,
		GraphEndpoint: info.GraphEndpoint,
		ClientID:      info.ClientCredentialsID,
		Secret:        info.ClientCredentialsSecret,
	})
}
