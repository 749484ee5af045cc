package catalog

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const (
	o365E3 = "6fd2c87f-b296-42f0-b197-1e91e994b900" // ENTERPRISEPACK
	m365E5 = "06ebc4ee-1bb5-47dd-8120-11324bc54e06" // SPE_E5
	m365E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965" // SPE_E3
	emsE3  = "efccb6f7-5641-4e0e-bd10-b4976e1bf68e" // EMS
	biPro  = "f8a1db68-be16-40ed-86d5-cb42ce701560" // POWER_BI_PRO
	visio2 = "c5928f49-12ba-48f7-ada3-0d743a3601d5" // VISIOCLIENT
	o365E1 = "18181a46-0d4e-45cd-891e-60aabd171b4e" // STANDARDPACK
	proj3  = "53818b1b-4a27-454b-8896-0dba576410e6" // PROJECTPROFESSIONAL
)

func TestBuiltinCatalogue(t *testing.T) {
	c := Builtin()
	// shared/data/README.md: 5,457 rows; 569 GUIDs, 723 service plans.
	if c.Len() != 569 || c.PlanCount() != 723 {
		t.Fatalf("built-in catalogue: %d products, %d plans; want 569 and 723", c.Len(), c.PlanCount())
	}
	if !c.Source.Builtin || c.Source.String() != "Microsoft licensing catalogue of December 2025 (built in)" {
		t.Errorf("source = %q", c.Source)
	}
	for _, tc := range []struct{ sku, part, name, label string }{
		{o365E3, "ENTERPRISEPACK", "Office 365 E3", "Office 365 E3 (ENTERPRISEPACK)"},
		{strings.ToUpper(m365E5), "SPE_E5", "Microsoft 365 E5", "Microsoft 365 E5 (SPE_E5)"},
		// A renumbered SKU is still found by its part number.
		{"00000000-0000-4000-8000-000000000000", "EMS", "Enterprise Mobility + Security E3", "Enterprise Mobility + Security E3 (EMS)"},
		// Newer than the table: the part number, never an empty cell.
		{"00000000-0000-4000-8000-000000000001", "CONTOSO_NEW_SKU", "CONTOSO_NEW_SKU", "CONTOSO_NEW_SKU"},
		{"00000000-0000-4000-8000-000000000001", "", "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000001"},
	} {
		if got := c.Name(tc.sku, tc.part); got != tc.name {
			t.Errorf("Name(%s, %s) = %q, want %q", tc.sku, tc.part, got, tc.name)
		}
		if got := c.Label(tc.sku, tc.part); got != tc.label {
			t.Errorf("Label(%s, %s) = %q, want %q", tc.sku, tc.part, got, tc.label)
		}
	}
	if got := c.PlanLabel("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE"); got != "Exchange Online (Plan 2) (EXCHANGE_S_ENTERPRISE)" {
		t.Errorf("PlanLabel = %q", got)
	}
	if got := c.PlanLabel("", "NOT_A_PLAN"); got != "NOT_A_PLAN" {
		t.Errorf("PlanLabel of an unknown plan = %q", got)
	}
	// The table spells Exchange Foundation four ways, one of them the code
	// name and one in capitals: the display name is the usual spelling.
	if p, ok := c.Plan("", "EXCHANGE_S_FOUNDATION"); !ok || p.FriendlyName != "Exchange Foundation" {
		t.Errorf("EXCHANGE_S_FOUNDATION friendly name = %q (found %v)", p.FriendlyName, ok)
	}
	var nilCat *Catalog
	if nilCat.Label(o365E3, "ENTERPRISEPACK") != "ENTERPRISEPACK" {
		t.Error("a nil catalogue must fall back to the part number")
	}
}

func TestOverlaps(t *testing.T) {
	c := Builtin()
	for _, tc := range []struct {
		a, b            string
		overlap, incl   bool
		smaller, larger string
	}{
		{emsE3, m365E3, true, true, "Enterprise Mobility + Security E3", "Microsoft 365 E3"},
		{m365E3, emsE3, true, true, "Enterprise Mobility + Security E3", "Microsoft 365 E3"},
		{o365E3, m365E3, true, true, "Office 365 E3", "Microsoft 365 E3"},
		{o365E3, m365E5, true, false, "Office 365 E3", "Microsoft 365 E5"},
		{biPro, m365E5, true, true, "Power BI Pro", "Microsoft 365 E5"},
		{o365E1, o365E3, true, false, "Office 365 E1", "Office 365 E3"},
		{o365E3, visio2, false, false, "", ""},
		{o365E3, emsE3, false, false, "", ""},
		{proj3, m365E5, false, false, "", ""},
		{o365E3, o365E3, false, false, "", ""},
		{o365E3, "00000000-0000-4000-8000-000000000001", false, false, "", ""},
	} {
		o, ok := c.Overlaps(tc.a, tc.b)
		if ok != tc.overlap {
			t.Errorf("Overlaps(%s, %s) = %v, want %v (%s)", tc.a, tc.b, ok, tc.overlap, o.Describe())
			continue
		}
		if !ok {
			continue
		}
		if o.Included != tc.incl || o.Smaller.Name != tc.smaller || o.Larger.Name != tc.larger {
			t.Errorf("Overlaps(%s, %s) = %s ⊂ %s included=%v; want %s ⊂ %s included=%v",
				tc.a, tc.b, o.Smaller.Name, o.Larger.Name, o.Included, tc.smaller, tc.larger, tc.incl)
		}
		for _, p := range o.Shared {
			if p.Name == "EXCHANGE_S_FOUNDATION" {
				t.Errorf("Overlaps(%s, %s) counts the foundation plan every SKU has", tc.a, tc.b)
			}
		}
	}
	o, _ := c.Overlaps(emsE3, m365E3)
	if d := o.Describe(); !strings.HasPrefix(d, "Enterprise Mobility + Security E3 is included in Microsoft 365 E3 (") {
		t.Errorf("Describe = %q", d)
	}
	o, _ = c.Overlaps(o365E3, m365E5)
	if d := o.Describe(); !strings.Contains(d, "Office 365 E3 overlaps Microsoft 365 E5 in ") || !strings.Contains(d, "more)") {
		t.Errorf("Describe = %q", d)
	}
}

const header = "\ufeffProduct_Display_Name,String_Id,GUID,Service_Plan_Name,Service_Plan_Id,Service_Plans_Included_Friendly_Names\n"

func TestParseAcceptsTheShape(t *testing.T) {
	// Columns in another order, CRLF line ends, a blank line, quoted
	// names with commas.
	in := "Service_Plan_Id,GUID,String_Id,Product_Display_Name,Service_Plan_Name,Service_Plans_Included_Friendly_Names\r\n" +
		"11111111-1111-4111-8111-111111111111,aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa,NEW_SUITE,\"Suite, 2026 edition\",PLAN_A,Plan A\r\n" +
		"\r\n" +
		"22222222-2222-4222-8222-222222222222,AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA,NEW_SUITE,\"Suite, 2026 edition\",PLAN_B,PLAN_B\r\n" +
		"11111111-1111-4111-8111-111111111111,bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb,ADDON_A,Add-on A,PLAN_A,Plan A\r\n"
	c, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 2 || c.PlanCount() != 2 {
		t.Fatalf("%d products, %d plans; want 2 and 2", c.Len(), c.PlanCount())
	}
	if got := c.Label("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "NEW_SUITE"); got != "Suite, 2026 edition (NEW_SUITE)" {
		t.Errorf("Label = %q", got)
	}
	p, _ := c.Lookup("AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA", "")
	if len(p.Plans) != 2 {
		t.Errorf("NEW_SUITE plans = %v, want both rows' plans", p.Plans)
	}
	if got := c.PlanLabel("22222222-2222-4222-8222-222222222222", "PLAN_B"); got != "PLAN_B" {
		t.Errorf("a plan whose only friendly name is its code name: %q", got)
	}
	c.Source = Source{File: "products.csv", Published: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Loaded: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)}
	if got := c.Source.String(); got != "Microsoft licensing catalogue from products.csv, dated 2 March 2026, loaded 5 March 2026" {
		t.Errorf("Source = %q", got)
	}
}

func TestParseRefusesOtherFiles(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "the file is empty"},
		{"header only", header, "no products"},
		{"another CSV", "UPN,Display name\nadele@contoso.com,Adele\n", `no column "Product_Display_Name"`},
		{"bad GUID", header + "Office 365 E3,ENTERPRISEPACK,6fd2c87f-b296-42f0-b197-1e91e994b900,EXCHANGE_S_ENTERPRISE,efb87545-963c-4e0d-99df-69c6916d9eb0,Exchange\n" +
			"Broken,BROKEN,not-a-guid,X,efb87545-963c-4e0d-99df-69c6916d9eb0,X\n", "line 3: GUID \"not-a-guid\" is not a GUID"},
		{"bad plan", header + "Broken,BROKEN,6fd2c87f-b296-42f0-b197-1e91e994b900,X,zzz,X\n", "line 2: Service_Plan_Id \"zzz\""},
		{"no part number", header + "Broken,,6fd2c87f-b296-42f0-b197-1e91e994b900,X,efb87545-963c-4e0d-99df-69c6916d9eb0,X\n", "line 2: String_Id is empty"},
		{"binary", "\x00\x01\x02PK\x03\x04", "no column"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.in))
			if err == nil || !errors.Is(err, ErrNotCatalogue) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v; want ErrNotCatalogue saying %q", err, tc.want)
			}
		})
	}
}

func BenchmarkBuiltinParse(b *testing.B) {
	for b.Loop() {
		builtinParse()
	}
}
