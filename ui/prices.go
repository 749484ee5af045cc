package ui

import (
	"fmt"
	"io"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	fstorage "fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/inventorybeacon/beacon/service"
	"github.com/inventorybeacon/beacon/storage"
)

// prefLastCurrency is the currency of the last price typed, offered for
// the next one.
const prefLastCurrency = "lastPriceCurrency"

// licensesSource is the Licenses page's source with the names and prices
// in use.
func (m *dataPages) licensesSource() licensesSource {
	return licensesSource{cat: m.lic.catalog(), prices: m.lic.prices(), conns: connectionsOf(m.draft.cfg)}
}

// priceButtons are the Licenses page's price actions.
func (m *dataPages) priceButtons() []fyne.CanvasObject {
	set := widget.NewButton("Set price...", func() {
		p := m.pages[PageLicenses]
		if p == nil || p.selected < 0 || p.selected >= p.total {
			m.ask("No licence selected", "Click a licence in the table, then Set price... again.",
				promptButton{label: "OK", importance: widget.HighImportance})
			return
		}
		m.showPriceDialog(p.cell(p.selected, len(licenseColumns)-1), p.cell(p.selected, licenseSKUCol))
	})
	imp := widget.NewButton("Import prices...", m.onImportPrices)
	exp := widget.NewButton("Export prices...", m.onExportPrices)
	return []fyne.CanvasObject{set, imp, exp}
}

// priceDialog is Set price...: amount, currency and period of one SKU.
type priceDialog struct {
	dlg                 *dialog.CustomDialog
	amount, currency    *dialogEntry
	per                 *dialogSelect
	amountErr, curErr   *widget.Label
	save, remove, close *dialogButton
}

// showPriceDialog asks the price of one SKU; errors are said under the
// field at fault and the dialog stays open.
func (m *dataPages) showPriceDialog(skuID, part string) *priceDialog {
	keys := &dialogKeys{}
	d := &priceDialog{amount: newDialogEntry(keys), currency: newDialogEntry(keys), per: newDialogSelect(keys, []string{"month", "year"}, nil)}
	d.amount.SetPlaceHolder("23.50")
	d.per.SetSelected("month")
	d.currency.SetText(fyne.CurrentApp().Preferences().StringWithFallback(prefLastCurrency, "EUR"))
	old, had := m.lic.prices()[strings.ToLower(skuID)]
	if had {
		d.amount.SetText(service.FormatCents(float64(old.Cents)))
		d.currency.SetText(old.Currency)
		if old.Yearly {
			d.per.SetSelected("year")
		}
	}
	d.amountErr, d.curErr = newNote(widget.DangerImportance), newNote(widget.DangerImportance)
	name := m.lic.catalog().Label(skuID, part)
	form := container.NewVBox(
		widget.NewLabel("Price of one seat of "+name+":"),
		widget.NewLabel("Amount"), d.amount, d.amountErr,
		widget.NewLabel("Currency (three-letter code)"), d.currency, d.curErr,
		widget.NewLabel("Per"), d.per,
	)
	d.save = newDialogButton(keys, "Save", func() {
		amountErr := checkPrice(d.amount.Text, "EUR")
		_, curErr := service.ParsePrice("1", d.currency.Text, "month")
		setShown(d.amountErr, sentence(amountErr))
		setShown(d.curErr, sentence(curErr))
		if amountErr != nil || curErr != nil {
			return
		}
		price, err := service.ParsePrice(d.amount.Text, d.currency.Text, d.per.Selected)
		if err == nil {
			err = m.lic.update(func(cs *storage.ConfigStore) error { return service.SetPrice(cs, skuID, part, price, false) })
		}
		if err != nil {
			setShown(d.amountErr, "The price was not saved: "+err.Error()+".")
			return
		}
		fyne.CurrentApp().Preferences().SetString(prefLastCurrency, price.Currency)
		d.dlg.Hide()
	})
	d.save.Importance = widget.HighImportance
	d.remove = newDialogButton(keys, "Remove price", func() {
		if err := m.lic.update(func(cs *storage.ConfigStore) error {
			return service.SetPrice(cs, skuID, part, storage.Price{}, true)
		}); err != nil {
			setShown(d.amountErr, "The price was not removed: "+err.Error()+".")
			return
		}
		d.dlg.Hide()
	})
	if !had {
		d.remove.Hide()
	}
	d.close = newDialogButton(keys, "Cancel", func() { d.dlg.Hide() })
	d.dlg = dialog.NewCustomWithoutButtons("Set price", form, m.win)
	d.dlg.SetButtons([]fyne.CanvasObject{d.close, d.remove, d.save})
	d.dlg.Resize(fyne.NewSize(460, 0))
	keys.esc, keys.enter = []*dialogButton{d.close}, []*dialogButton{d.save}
	keys.show(d.dlg, m.win)
	m.priceDlg = d
	return d
}

// checkPrice reads the amount alone, so its error is said under it.
func checkPrice(amount, currency string) error {
	_, err := service.ParsePrice(amount, currency, "month")
	return err
}

// sentence is an error as a sentence under a field: capitalised, unless
// it starts with a file name, and ending with a full stop.
func sentence(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if first, _, _ := strings.Cut(s, " "); !strings.ContainsAny(first, "./\\") {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// onImportPrices reads a price list (SKU, Price, Currency, Per): every
// line or none, the line at fault named.
func (m *dataPages) onImportPrices() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		defer r.Close()
		m.importPrices(r, r.URI().Name())
	}, m.win)
	d.SetFilter(fstorage.NewExtensionFileFilter([]string{".csv"}))
	showFileDialog(d, m.win)
}

// importPrices records the prices of a list read from r (named name).
func (m *dataPages) importPrices(r io.Reader, name string) {
	var n int
	err := m.lic.update(func(cs *storage.ConfigStore) error {
		var err error
		n, err = service.ImportPrices(cs, r, service.Resolver(m.licenses, m.lic.catalog()))
		return err
	})
	if err != nil {
		m.ask("Prices not imported", fmt.Sprintf("%s: %s\n\nNo price was changed. Correct the file and import it again.", name, sentence(err)),
			promptButton{label: "OK", importance: widget.HighImportance})
		return
	}
	m.ask("Prices imported", fmt.Sprintf("Imported %s from %s.", plural(n, "price"), name),
		promptButton{label: "OK", importance: widget.HighImportance})
}

// onExportPrices saves the prices as a list Import prices... reads back.
func (m *dataPages) onExportPrices() {
	prices := append([]storage.Price(nil), m.draft.cfg.Prices...)
	if len(prices) == 0 {
		m.ask("No prices", "No price is set yet. Select a licence and click Set price..., or import a price list.",
			promptButton{label: "OK", importance: widget.HighImportance})
		return
	}
	askExportFile(m.screen, "prices.csv", func(path string, w io.WriteCloser) {
		n, err := writeExport(path, w, func(out io.Writer) (int, error) { return writePrices(out, prices) })
		reportExport(m.screen, path, n, "prices", err)
	})
}

// writePrices writes prices in the columns of service.PriceColumns.
func writePrices(out io.Writer, prices []storage.Price) (int, error) {
	return writeCSV(out, service.PriceColumns, func(row func([]string) error) error {
		for _, p := range prices {
			sku, per := p.PartNumber, "month"
			if sku == "" {
				sku = p.SkuID
			}
			if p.Yearly {
				per = "year"
			}
			if err := row([]string{sku, service.FormatCents(float64(p.Cents)), p.Currency, per}); err != nil {
				return err
			}
		}
		return nil
	})
}

// loadCatalogFile is File → Load licensing catalogue...: a file that is
// not Microsoft's table is refused with the parser's words and changes
// nothing.
func (m *dataPages) loadCatalogFile(path string) error {
	err := m.lic.update(func(cs *storage.ConfigStore) error {
		_, err := service.LoadCatalog(cs, path)
		return err
	})
	if err != nil {
		m.ask("Catalogue not loaded", sentence(err)+"\n\nThe product names in use are unchanged.",
			promptButton{label: "OK", importance: widget.HighImportance})
		return err
	}
	m.ask("Catalogue loaded", m.lic.sourceText(), promptButton{label: "OK", importance: widget.HighImportance})
	return nil
}

// onLoadCatalog asks for the catalogue file.
func (m *dataPages) onLoadCatalog() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		r.Close()
		if r.URI().Scheme() != "file" {
			m.ask("Catalogue not loaded", "Choose a file on this computer.", promptButton{label: "OK", importance: widget.HighImportance})
			return
		}
		m.loadCatalogFile(r.URI().Path())
	}, m.win)
	d.SetFilter(fstorage.NewExtensionFileFilter([]string{".csv"}))
	showFileDialog(d, m.win)
}

// onBuiltinCatalog is File → Use built-in catalogue.
func (m *dataPages) onBuiltinCatalog() {
	if err := m.lic.update(service.UseBuiltinCatalog); err != nil {
		m.ask("Catalogue not changed", sentence(err), promptButton{label: "OK", importance: widget.HighImportance})
		return
	}
	m.ask("Built-in catalogue", m.lic.sourceText(), promptButton{label: "OK", importance: widget.HighImportance})
}

// servicePlans lists the service plans of a SKU by name, for the Licenses
// page's row dialog ("" when the SKU was not read).
func (m *dataPages) servicePlans(skuID string) string {
	cat := m.lic.catalog()
	for _, l := range m.licenses {
		if !strings.EqualFold(l.SkuID, skuID) {
			continue
		}
		var b strings.Builder
		b.WriteString("\n\nService plans:")
		for _, sp := range l.ServicePlans {
			b.WriteString("\n  " + cat.PlanLabel(sp.ServicePlanID, sp.ServicePlanName))
			if sp.ProvisioningStatus != "" && sp.ProvisioningStatus != "Success" {
				b.WriteString(" (" + sp.ProvisioningStatus + ")")
			}
		}
		return b.String()
	}
	return ""
}
