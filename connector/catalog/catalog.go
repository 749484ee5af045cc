// Package catalog is Microsoft's licensing catalogue: the table "Product
// names and service plan identifiers for licensing" that turns a SKU part
// number (ENTERPRISEPACK) into the product name administrators know
// (Office 365 E3), lists the service plans each product includes, and so
// tells which of a user's licences overlap.
//
// The product ships the December 2025 table (assets.LicensingProductsCSVGz);
// Microsoft updates it every few months, so an administrator can load a
// newer download of the same shape (Parse checks it). A Catalog is
// immutable once built: the window, the CLI and the exports may share one.
package catalog

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/inventorybeacon/beacon/assets"
	"github.com/inventorybeacon/beacon/internal/csvsafe"
)

// Product is one licensable product (a subscribedSku's skuId).
type Product struct {
	SkuID      string // GUID, lower case
	PartNumber string // String_Id = subscribedSku.skuPartNumber
	Name       string // Product_Display_Name, e.g. "Office 365 E3"
	// Plans are the IDs (lower case) of the service plans the product
	// includes, in the table's order.
	Plans []string
}

// Plan is one service plan.
type Plan struct {
	ID   string // GUID, lower case
	Name string // Service_Plan_Name, e.g. EXCHANGE_S_ENTERPRISE
	// FriendlyName is the name the table gives most often for the plan
	// (it varies by product row: "Exchange Online (Plan 2)"), or Name.
	FriendlyName string
	// Products counts the products that include the plan. Plans found in
	// many products ("Exchange Foundation") say nothing about overlap.
	Products int
}

// Source says which table a Catalog was built from.
type Source struct {
	// Builtin is the table shipped in the binary.
	Builtin bool
	// File is the name of a loaded table (base name only, no directory).
	File string
	// Published is when Microsoft published the table, as far as known:
	// the month for the built-in table, the file's modification date for a
	// loaded one (the day it was downloaded, at the latest).
	Published time.Time
	// Loaded is when the administrator loaded the file (zero for built-in).
	Loaded time.Time
}

// String says which catalogue is in use, for the window and the CLI.
func (s Source) String() string {
	if s.Builtin {
		return "Microsoft licensing catalogue of " + s.Published.Format("January 2006") + " (built in)"
	}
	out := "Microsoft licensing catalogue from " + s.File
	if !s.Published.IsZero() {
		out += ", dated " + s.Published.Format("2 January 2006")
	}
	if !s.Loaded.IsZero() {
		out += ", loaded " + s.Loaded.Format("2 January 2006")
	}
	return out
}

// Catalog is a parsed table.
type Catalog struct {
	Source   Source
	products []*Product
	bySkuID  map[string]*Product
	byPart   map[string]*Product // upper-case part number
	plans    map[string]*Plan    // by lower-case ID
	planName map[string]*Plan    // by upper-case name
}

// Products returns the products sorted by name.
func (c *Catalog) Products() []Product {
	out := make([]Product, len(c.products))
	for i, p := range c.products {
		out[i] = *p
	}
	return out
}

// Len is the number of products.
func (c *Catalog) Len() int { return len(c.products) }

// PlanCount is the number of distinct service plans.
func (c *Catalog) PlanCount() int { return len(c.plans) }

// Lookup finds a product by skuId, or by part number when the skuId is
// unknown (a SKU Microsoft renumbered keeps its part number).
func (c *Catalog) Lookup(skuID, partNumber string) (Product, bool) {
	if c == nil {
		return Product{}, false
	}
	if p, ok := c.bySkuID[strings.ToLower(strings.TrimSpace(skuID))]; ok {
		return *p, true
	}
	if p, ok := c.byPart[strings.ToUpper(strings.TrimSpace(partNumber))]; ok {
		return *p, true
	}
	return Product{}, false
}

// Name is the product name of a SKU, or its part number when the
// catalogue does not know it (a SKU newer than the table), or the skuId
// when even that is unknown.
func (c *Catalog) Name(skuID, partNumber string) string {
	if p, ok := c.Lookup(skuID, partNumber); ok && p.Name != "" {
		return p.Name
	}
	if partNumber != "" {
		return partNumber
	}
	return skuID
}

// Label is how a SKU is shown everywhere: "Office 365 E3 (ENTERPRISEPACK)",
// or the bare part number when the catalogue does not know it.
func (c *Catalog) Label(skuID, partNumber string) string {
	name := c.Name(skuID, partNumber)
	if partNumber == "" || strings.EqualFold(name, partNumber) {
		return name
	}
	return name + " (" + partNumber + ")"
}

// Plan finds a service plan by ID, or by name when the ID is unknown.
func (c *Catalog) Plan(id, name string) (Plan, bool) {
	if c == nil {
		return Plan{}, false
	}
	if p, ok := c.plans[strings.ToLower(strings.TrimSpace(id))]; ok {
		return *p, true
	}
	if p, ok := c.planName[strings.ToUpper(strings.TrimSpace(name))]; ok {
		return *p, true
	}
	return Plan{}, false
}

// PlanLabel is how a service plan is shown: "Exchange Online (Plan 2)
// (EXCHANGE_S_ENTERPRISE)", or the bare name when unknown.
func (c *Catalog) PlanLabel(id, name string) string {
	p, ok := c.Plan(id, name)
	if !ok || p.FriendlyName == "" || strings.EqualFold(p.FriendlyName, name) {
		if name == "" {
			return id
		}
		return name
	}
	if name == "" {
		name = p.Name
	}
	return p.FriendlyName + " (" + name + ")"
}

// Columns of the table, as Microsoft names them.
const (
	colProduct      = "Product_Display_Name"
	colPartNumber   = "String_Id"
	colSkuID        = "GUID"
	colPlanName     = "Service_Plan_Name"
	colPlanID       = "Service_Plan_Id"
	colPlanFriendly = "Service_Plans_Included_Friendly_Names"
)

// MaxFileSize bounds a loaded table: Microsoft's is about 1 MB.
const MaxFileSize = 64 << 20

// ErrNotCatalogue wraps every reason a file is refused.
var ErrNotCatalogue = errors.New("not Microsoft's licensing catalogue")

// Parse reads a table in the shape of Microsoft's CSV download: a header
// naming the six columns (in any order, a UTF-8 BOM allowed), one row per
// product × service plan. It refuses, with the line at fault, a file that
// is not that table, so a wrong download never replaces a good catalogue.
func Parse(r io.Reader) (*Catalog, error) {
	c := &Catalog{bySkuID: map[string]*Product{}, byPart: map[string]*Product{}, plans: map[string]*Plan{}, planName: map[string]*Plan{}}
	friendly := map[string]map[string]int{} // plan ID → friendly name → rows
	rows := 0
	columns := []string{colProduct, colPartNumber, colSkuID, colPlanName, colPlanID, colPlanFriendly}
	err := csvsafe.ReadTable(io.LimitReader(r, MaxFileSize+1), columns, func(_ int, field func(string) string) error {
		name, part, sku := field(colProduct), field(colPartNumber), strings.ToLower(field(colSkuID))
		planName, planID, planFriendly := field(colPlanName), strings.ToLower(field(colPlanID)), field(colPlanFriendly)
		if name == "" && part == "" && sku == "" {
			return nil // a line of plan columns only: nothing to add
		}
		if !isGUID(sku) {
			return fmt.Errorf("GUID %q is not a GUID", field(colSkuID))
		}
		if part == "" {
			return errors.New("String_Id is empty")
		}
		rows++
		p := c.bySkuID[sku]
		if p == nil {
			p = &Product{SkuID: sku, PartNumber: part, Name: name}
			c.bySkuID[sku] = p
			c.products = append(c.products, p)
			if _, dup := c.byPart[strings.ToUpper(part)]; !dup {
				c.byPart[strings.ToUpper(part)] = p
			}
		}
		if planID == "" {
			return nil
		}
		if !isGUID(planID) {
			return fmt.Errorf("Service_Plan_Id %q is not a GUID", field(colPlanID))
		}
		pl := c.plans[planID]
		if pl == nil {
			pl = &Plan{ID: planID, Name: planName}
			c.plans[planID] = pl
			friendly[planID] = map[string]int{}
		}
		if !slices.Contains(p.Plans, planID) {
			p.Plans = append(p.Plans, planID)
			pl.Products++
		}
		if planFriendly != "" {
			friendly[planID][planFriendly]++
		}
		return nil
	})
	var missing *csvsafe.MissingColumnError
	switch {
	case errors.As(err, &missing):
		return nil, fmt.Errorf("%w: the header has no column %q (expected %s)", ErrNotCatalogue, missing.Column, strings.Join(columns, ", "))
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrNotCatalogue, err)
	}
	if rows == 0 {
		return nil, fmt.Errorf("%w: the file has a header but no products", ErrNotCatalogue)
	}
	for id, pl := range c.plans {
		pl.FriendlyName = pickFriendly(pl.Name, friendly[id])
		if _, dup := c.planName[strings.ToUpper(pl.Name)]; !dup {
			c.planName[strings.ToUpper(pl.Name)] = pl
		}
	}
	sort.SliceStable(c.products, func(i, j int) bool {
		return strings.ToLower(c.products[i].Name) < strings.ToLower(c.products[j].Name)
	})
	return c, nil
}

// pickFriendly chooses a plan's display name among the table's spellings:
// the most frequent one that is not the code name or all capitals (the
// table spells some rows "EXCHANGE FOUNDATION"), ties broken by order.
func pickFriendly(code string, names map[string]int) string {
	best, bestScore := "", -1
	for n, count := range names {
		score := count * 4
		if strings.EqualFold(n, code) {
			score = 0
		} else if n == strings.ToUpper(n) {
			score = count
		}
		if score > bestScore || score == bestScore && n < best {
			best, bestScore = n, score
		}
	}
	if best == "" || strings.EqualFold(best, code) {
		return code
	}
	return best
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// BuiltinPublished is the month Microsoft published the shipped table.
var BuiltinPublished = time.Date(2025, time.December, 1, 0, 0, 0, 0, time.UTC)

var builtin = sync.OnceValues(builtinParse)

func builtinParse() (*Catalog, error) {
	zr, err := gzip.NewReader(bytes.NewReader(assets.LicensingProductsCSVGz))
	if err != nil {
		return nil, err
	}
	c, err := Parse(zr)
	if err != nil {
		return nil, err
	}
	c.Source = Source{Builtin: true, Published: BuiltinPublished}
	return c, nil
}

// Builtin is the catalogue shipped in the binary, parsed once on first use
// (about 10 ms). It cannot fail short of a broken build, which the tests
// catch; it panics then rather than show SKU codes silently.
func Builtin() *Catalog {
	c, err := builtin()
	if err != nil {
		panic("catalog: the built-in licensing catalogue does not parse: " + err.Error())
	}
	return c
}
