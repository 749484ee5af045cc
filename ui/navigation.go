package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// navGroups is the navigation bar, grouped like the reference product.
var navGroups = []struct {
	name  string
	pages []string
}{
	{GroupDataCollection, []string{PageInventorySystems, PageScheduling}},
	{GroupImportedData, []string{PageUsers, PageLicenses, PageOptimization, PageApplications, PageUsage, PageImportHistory}},
}

// navTree is the navigation tree. A click on a page gives it the
// keyboard focus, and a focused widget gets the typed keys instead of the
// window: it passes Delete and F5 on (onKey), so the Delete key deletes
// the selected connection after the Inventory Systems page was chosen
// with the mouse (issue 23 item 6: it did nothing in the real window).
type navTree struct {
	widget.Tree
	onKey func(*fyne.KeyEvent)
}

func (t *navTree) TypedKey(ev *fyne.KeyEvent) { passWindowKeys(ev, t.onKey, t.Tree.TypedKey) }

// newNavigation builds the navigation tree; choosing a page calls show.
// Groups are always open: eight pages fit, and a closed group would hide
// where a page is.
func newNavigation(show func(page string)) *navTree {
	children := map[string][]string{"": nil}
	for _, g := range navGroups {
		children[""] = append(children[""], g.name)
		children[g.name] = g.pages
	}
	t := &navTree{}
	t.ChildUIDs = func(id widget.TreeNodeID) []widget.TreeNodeID { return children[id] }
	t.IsBranch = func(id widget.TreeNodeID) bool { _, ok := children[id]; return ok }
	t.CreateNode = func(branch bool) fyne.CanvasObject { return widget.NewLabel("Import history") }
	t.UpdateNode = func(id widget.TreeNodeID, branch bool, o fyne.CanvasObject) {
		l := o.(*widget.Label)
		l.SetText(id)
		l.TextStyle.Bold = branch
		l.Refresh()
	}
	t.ExtendBaseWidget(t)
	t.OnSelected = func(id widget.TreeNodeID) {
		if _, isGroup := children[id]; isGroup {
			return
		}
		show(id)
	}
	t.OpenAllBranches()
	return t
}
