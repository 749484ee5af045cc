package cli

import (
	"context"
	"fmt"

	"github.com/inventorybeacon/beacon/connector/catalog"
	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage"
)

func init() {
	registerVerbs("catalog", "the licensing catalogue that names SKUs: show the one in use, load a newer one from Microsoft, or reset to the built-in one", []verb{
		{"show", "", "say which licensing catalogue is in use", runCatalogShow},
		{"load", "FILE", "use a newer download of Microsoft's \"Product names and service plan identifiers for licensing\" (CSV)", runCatalogLoad},
		{"reset", "", "go back to the licensing catalogue built into beacon", runCatalogReset},
	})
}

// runCatalogShow says which catalogue names the SKUs. A loaded one that no
// longer reads is reported with ExitWarnings: the built-in one is used
// meanwhile, and a script should notice.
func runCatalogShow(ctx context.Context, env *Env, fs *verbFlags, args []string) int {
	if code, ok := fs.parse(args, 0, 0); !ok {
		return code
	}
	_, cat, problem, err := catalogInUse(env, "")
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon catalog show: %v\n", err)
		return ExitFailed
	}
	fmt.Fprintf(env.Stdout, "%s\n%d products, %d service plans\n", cat.Source, cat.Len(), cat.PlanCount())
	if problem != "" {
		fmt.Fprintf(env.Stdout, "Problem: %s\n", problem)
		return ExitWarnings
	}
	return ExitOK
}

func runCatalogLoad(ctx context.Context, env *Env, fs *verbFlags, args []string) int {
	if code, ok := fs.parse(args, 1, 1); !ok {
		return code
	}
	cat, err := service.LoadCatalog(storage.NewConfigStore(env.ConfigDir), fs.Arg(0))
	if err != nil {
		fmt.Fprintf(env.Stderr, "beacon catalog load: %v; the catalogue in use is unchanged\n", err)
		return ExitFailed
	}
	fmt.Fprintf(env.Stdout, "Now using the %s (%d products)\n", cat.Source, cat.Len())
	return ExitOK
}

func runCatalogReset(ctx context.Context, env *Env, fs *verbFlags, args []string) int {
	if code, ok := fs.parse(args, 0, 0); !ok {
		return code
	}
	if err := service.UseBuiltinCatalog(storage.NewConfigStore(env.ConfigDir)); err != nil {
		fmt.Fprintf(env.Stderr, "beacon catalog reset: %v\n", err)
		return ExitFailed
	}
	cat := catalog.Builtin()
	fmt.Fprintf(env.Stdout, "Now using the %s (%d products)\n", cat.Source, cat.Len())
	return ExitOK
}
