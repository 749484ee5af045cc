package graph

import (
	"bytes"
	"strings"
	"testing"

	"github.com/inventorybeacon/beacon/storage/inventory"
)

// FuzzParseReport: any bytes as a report CSV must parse or fail cleanly,
// and every row must have exactly one cell per known column.
func FuzzParseReport(f *testing.F) {
	f.Add([]byte(activeCSV))
	f.Add([]byte("\ufeffUser Principal Name\r\n"))
	f.Add([]byte("User Principal Name,Is Deleted,X\nadele@x,maybe,\"q\"\"uoted\"\n,,,,\n"))
	f.Add([]byte("Report Refresh Date,User Principal Name\n\"unterminated\n"))
	f.Add([]byte{})
	spec := testSpec(inventory.ReportActiveUsers)
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = ParseReport(bytes.NewReader(data), spec, func(rows []ReportRow) error {
			for _, r := range rows {
				if len(r.Cells) != len(spec.Columns) {
					t.Fatalf("%d cells, want %d", len(r.Cells), len(spec.Columns))
				}
			}
			return nil
		})
	})
}

// FuzzDecodePage: any bytes as a Graph page must decode or fail cleanly;
// a nextLink is only ever a string from the page.
func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(strings.ReplaceAll(userPage1, "%s", "https://graph.microsoft.com")))
	f.Add([]byte(userPage2))
	f.Add([]byte(`{"value":[{"assignedPlans":[{"assignedDateTime":"bad"}]}]}`))
	f.Add([]byte(`{"value":[{"assignedLicenses":[{"skuId":"a\u0041","disabledPlans":null}]}],"@odata.nextLink":null}`))
	f.Add([]byte(`{"value":[`))
	c, err := New(nil, "https://graph.microsoft.com", &tokens{}, Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var buf []User
		_, _, _, _ = decodePage(c, bytes.NewReader(data), buf)
	})
}
