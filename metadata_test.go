package beacon

import (
	"os"
	"regexp"
	"testing"
)

func TestAppMetadata(t *testing.T) {
	m := AppMetadata()
	if m.Name != "Inventory Beacon" {
		t.Errorf("Name = %q", m.Name)
	}
	if !regexp.MustCompile(`^[a-z]+(\.[a-z0-9]+){2,}$`).MatchString(m.ID) {
		t.Errorf("ID %q is not a reverse-DNS identifier", m.ID)
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(m.Version) {
		t.Errorf("Version %q is not semantic", m.Version)
	}
	if _, err := os.Stat(m.Icon); err != nil {
		t.Errorf("icon %q named in FyneApp.toml: %v", m.Icon, err)
	}
}
