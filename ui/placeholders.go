package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// placeholderText says what each page not built yet will hold, so the
// administrator knows what to expect instead of an empty area.
var placeholderText = map[string]string{
	PageUsers: "The users imported from Microsoft 365: name, user principal name, department, job title, " +
		"whether the account is enabled, and the licenses each holds. Searchable, sortable, exportable to CSV.",
	PageLicenses: "The subscribed license SKUs: purchased, assigned and actively used, per SKU, " +
		"with a chart and CSV export.",
	PageOptimization: "Licences to reclaim: users inactive for the days you choose, never active, disabled or guests, " +
		"overlapping licences and failed group assignments, with the seats and money you would recover.",
	PageApplications: "The applications (service principals) of the tenant, with their publisher " +
		"and whether Microsoft owns them.",
	PageUsage: "Microsoft 365 usage per user: last activity in Exchange, OneDrive, SharePoint and Teams, " +
		"use of the Microsoft 365 apps, and app activations.",
	PageImportHistory: "Every import run: when it started, how long it took, how many records it read, " +
		"and its warnings and errors.",
}

// placeholderPage is a page that is not in this version yet.
func placeholderPage(name string) fyne.CanvasObject {
	title := widget.NewLabelWithStyle(name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	text := widget.NewLabel(placeholderText[name])
	text.Wrapping = fyne.TextWrapWord
	note := widget.NewLabel("This page is not available in this version of Inventory Beacon yet.")
	note.Importance = widget.LowImportance
	note.Wrapping = fyne.TextWrapWord
	return container.NewVBox(title, text, note)
}
