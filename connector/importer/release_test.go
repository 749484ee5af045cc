package importer

import (
	"context"
	"testing"

	"github.com/inventorybeacon/beacon/connector/graph"
	"github.com/inventorybeacon/beacon/m365sim"
)

// TestImportReleasesUsersMemory: once the users are listed, an import
// gives back the client's users page buffers and plan cache (at 1,000,000
// users some 40 MB otherwise held through the reports and Finish), in
// each way it reads the users. The client first lists the users itself,
// so it holds some, and the import must leave it holding none.
func TestImportReleasesUsersMemory(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name        string
		sequential  bool
		incremental bool
		mode        string
	}{
		{"sharded", false, false, ModeSharded},
		{"sequential", true, false, ModeSequential},
		{"incremental", false, true, ModeDelta},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, m365sim.Options{Users: 600})
			e.opts.PageSize = 100
			e.sequential, e.incremental = c.sequential, c.incremental
			if c.incremental {
				e.mustRun() // the full run the incremental one follows
			}
			client := e.client()
			if err := client.Users(ctx, func([]graph.User) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if pages, plans := client.UsersMemoryKept(); pages == 0 || plans == 0 {
				t.Fatalf("listing the users kept %d page buffers and %d cached plan arrays; the test needs some of each", pages, plans)
			}
			res, err := e.runClient(ctx, client, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Mode != c.mode {
				t.Fatalf("the import read the users as %q, want %q", res.Mode, c.mode)
			}
			if pages, plans := client.UsersMemoryKept(); pages != 0 || plans != 0 {
				t.Errorf("after the import the client still keeps %d users page buffers and %d cached plan arrays", pages, plans)
			}
		})
	}
}
