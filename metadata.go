// Package beacon exposes the application's metadata from FyneApp.toml, so
// that the name, ID and version shown by the window, `beacon --version` and
// the packaged bundle all come from one file.
package beacon

import (
	_ "embed"
	"fmt"

	"github.com/BurntSushi/toml"
)

//go:embed FyneApp.toml
var fyneAppTOML []byte

// Metadata is the [Details] table of FyneApp.toml.
type Metadata struct {
	Name    string
	ID      string
	Version string
	Build   int
	Icon    string
}

// AppMetadata parses the embedded FyneApp.toml.
func AppMetadata() Metadata {
	var f struct{ Details Metadata }
	if _, err := toml.Decode(string(fyneAppTOML), &f); err != nil {
		// The file is embedded at build time and covered by a test, so a
		// failure here is a build defect, not a user error.
		panic(fmt.Sprintf("FyneApp.toml: %v", err))
	}
	return f.Details
}
