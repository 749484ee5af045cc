package ui

import (
	"context"
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
)

// The bottom bar follows the demo's licence history made in the
// background: how far it is, then that it is ready or why it stopped; a
// history stopped by the window closing says nothing. The text outlives a
// rebuild of the bar (the configuration reloaded).
func TestShowDemoHistory(t *testing.T) {
	a := test.NewTempApp(t)
	var m *MainWindow
	onUI(func() { m = NewMainWindow(a, Deps{Repo: testRepo(t)}) })
	t.Cleanup(func() { onUI(m.win.Close) })
	text := func() (string, bool) {
		var s string
		var shown bool
		onUI(func() { s, shown = m.demoHistory.Text, m.demoHistory.Visible() })
		return s, shown
	}
	if s, shown := text(); shown {
		t.Fatalf("the bottom bar shows %q before any demo history", s)
	}
	for _, c := range []struct {
		done, total int
		err         error
		want        string
	}{
		{1, 104, nil, "Building the demo's licence history: import 1 of 104"},
		{50, 104, nil, "import 50 of 104"},
		{50, 104, context.Canceled, "import 50 of 104"},
		{60, 104, errors.New("disk full"), "stopped after 60 of 104 imports: disk full"},
		{104, 104, nil, "licence history is ready"},
	} {
		m.ShowDemoHistory(c.done, c.total, c.err)
		if s, shown := text(); !shown || !strings.Contains(s, c.want) {
			t.Errorf("after %d of %d (%v) the bottom bar shows %q (shown %v), want %q", c.done, c.total, c.err, s, shown, c.want)
		}
	}
	onUI(m.buildMain)
	if s, _ := text(); !strings.Contains(s, "ready") {
		t.Errorf("after a rebuild the bottom bar shows %q", s)
	}
}
