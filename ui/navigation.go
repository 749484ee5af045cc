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

// newNavigation builds the navigation tree; choosing a page calls show.
// Groups are always open: eight pages fit, and a closed group would hide
// where a page is.
func newNavigation(show func(page string)) *widget.Tree {
	children := map[string][]string{"": nil}
	for _, g := range navGroups {
		children[""] = append(children[""], g.name)
		children[g.name] = g.pages
	}
	t := widget.NewTree(
		func(id widget.TreeNodeID) []widget.TreeNodeID { return children[id] },
		func(id widget.TreeNodeID) bool { _, ok := children[id]; return ok },
		func(branch bool) fyne.CanvasObject { return widget.NewLabel("Import history") },
		func(id widget.TreeNodeID, branch bool, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			l.SetText(id)
			l.TextStyle.Bold = branch
			l.Refresh()
		},
	)
	t.OnSelected = func(id widget.TreeNodeID) {
		if _, isGroup := children[id]; isGroup {
			return
		}
		show(id)
	}
	t.OpenAllBranches()
	return t
}
