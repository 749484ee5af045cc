package ui

import (
	"context"
	"errors"
	"fmt"
)

// ShowDemoHistory follows the demo's licence history as it is made in the
// background, after the window opened (cmd/beacon/demo BuildHistory calls
// it after each import, done of total, then with the outcome): the bottom
// bar says how far it is, and the data pages (the Licenses Trend tab, the
// user timelines) are reloaded every tenth import and when it ends, so the
// trend grows while the newcomer looks around. A history stopped because
// the window closes says nothing: the next start finishes it. It is safe
// to call from any goroutine.
func (m *MainWindow) ShowDemoHistory(done, total int, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	doUI(func() {
		switch {
		case err != nil:
			m.demoText = fmt.Sprintf("The demo's licence history stopped after %d of %d imports: %v. Start the demo again to finish it.", done, total, err)
		case done >= total:
			m.demoText = "The demo's licence history is ready: see Licenses, Trend."
		default:
			m.demoText = fmt.Sprintf("Building the demo's licence history: import %d of %d…", done, total)
		}
		if m.demoHistory != nil {
			m.demoHistory.SetText(m.demoText)
			m.demoHistory.Show()
		}
		if err != nil || done >= total || done%10 == 1 {
			m.data.refresh()
		}
	})
}
