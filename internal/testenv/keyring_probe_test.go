package testenv

import (
	"fmt"
	"testing"
)

// Regression (issue 8): probes running at once must not disturb each
// other. With one shared probe entry, a parallel test's Delete removed
// another's entry between its Set and Delete, failing it at random.
func TestKeyringProbesInParallel(t *testing.T) {
	if !Required() {
		t.Skip("needs the session keyring (scripts/session.sh)")
	}
	for i := 0; i < 8; i++ {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			for j := 0; j < 5; j++ {
				Keyring(t)
			}
		})
	}
}
