package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

func init() {
	Register(Command{
		Name:    "store",
		Summary: "where the imported data lives: this computer's database (the default) or a PostgreSQL database shared by several beacons",
		Usage:   "[postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=...] | --default]",
		Run:     runStore,
	})
}

// storeKeyring is the keyring the shared inventory's password is kept in;
// tests may replace it.
var storeKeyring = executeKeyring

// openInventory opens the inventory this run uses: --store, else
// $BEACON_STORE, else the configured store, else the database in the
// configuration folder.
func openInventory(ctx context.Context, env *Env, opts inventory.Options) (*inventory.Store, error) {
	return service.OpenInventory(ctx, env.ConfigDir, env.Store, storeKeyring(), opts)
}

// inventoryExists says whether there is an inventory to read: a shared
// one always is; a file only once an import made it (reading must not
// create one).
func inventoryExists(env *Env) (bool, error) {
	loc, _, err := service.InventoryLocation(env.ConfigDir, env.Store)
	if err != nil {
		return false, err
	}
	if loc != "" {
		return true, nil
	}
	_, err = os.Stat(filepath.Join(env.ConfigDir, inventory.FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

func runStore(ctx context.Context, env *Env, args []string) int {
	c, _ := Lookup("store")
	fset := NewFlagSet(env, c)
	def := fset.Bool("default", false, "go back to the database in the configuration folder")
	if code, ok := ParseFlags(fset, args); !ok {
		return code
	}
	fail := failWith(env, "store")
	switch {
	case *def && fset.NArg() == 0:
		if err := service.SetInventoryStore(env.ConfigDir, "", storeKeyring()); err != nil {
			return fail(err)
		}
		fmt.Fprintf(env.Stdout, "Imported data now goes to %s\n", filepath.Join(env.ConfigDir, inventory.FileName))
		return ExitOK
	case fset.NArg() == 1 && !*def:
		loc := fset.Arg(0)
		if !inventory.IsPostgresURL(loc) {
			fmt.Fprintf(env.Stderr, "beacon store: give a postgres:// address, or --default\n")
			return ExitUsage
		}
		// Opened first: a wrong address or password is said now, not at
		// the next import; the tables are created if the database is new.
		s, err := inventory.OpenURL(ctx, loc, inventory.Options{})
		if err != nil {
			return fail(err)
		}
		s.Close()
		if err := service.SetInventoryStore(env.ConfigDir, loc, storeKeyring()); err != nil {
			return fail(err)
		}
		fmt.Fprintf(env.Stdout, "Imported data now goes to %s (the password, if any, is kept in the keyring)\n", inventory.RedactURL(loc))
		return ExitOK
	case fset.NArg() == 0:
		loc, from, err := service.InventoryLocation(env.ConfigDir, env.Store)
		if err != nil {
			return fail(err)
		}
		if loc == "" {
			fmt.Fprintf(env.Stdout, "%s (this computer's database)\n", filepath.Join(env.ConfigDir, inventory.FileName))
		} else {
			fmt.Fprintf(env.Stdout, "%s (from %s)\n", inventory.RedactURL(loc), from)
		}
		return ExitOK
	}
	fmt.Fprintf(env.Stderr, "beacon store: give one postgres:// address, --default, or nothing to see the current store\n")
	return ExitUsage
}
