// Command fill writes the UI tests' inventory database into a folder:
//
//	go run ./ui/internal/testinventory/fill DIR
//
// The UI tests run it when they are built with -race, so the 100,000
// users are written at full speed (see package testinventory).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/inventorybeacon/beacon/storage/inventory"
	"github.com/inventorybeacon/beacon/ui/internal/testinventory"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: fill DIR")
		os.Exit(2)
	}
	ctx := context.Background()
	s, err := inventory.OpenDir(ctx, os.Args[1], inventory.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "fill:", err)
		os.Exit(1)
	}
	err = testinventory.Fill(ctx, s)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fill:", err)
		os.Exit(1)
	}
}
