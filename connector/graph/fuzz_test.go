package graph

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

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
	// Issue 19: escaped names, lone surrogates, an object that does not fit.
	f.Add([]byte(`{"v\u0061lue":[{"\u0069d":"a","assignedLicenses":[{"sku\u0049d":"s"}],"assignedPlans":[{"\u0073ervice":"x"}],"licenseAssignment\u0053tates":[{"st\u0061te":"Active"}]}]}`))
	f.Add([]byte(`{"value":[{"id":"a","displayName":"\ud83c"},{"id":"b","displayName":"\ud83c\u0041\udf89"}]}`))
	f.Add([]byte(`{"value":[{"id":"a","accountEnabled":"true"},{"id":"b"},7]}`))
	c, err := New(nil, "https://graph.microsoft.com", &tokens{}, Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var buf []User
		out, _, _, skipped, err := decodePage(c, bytes.NewReader(data), buf)
		if err == nil {
			var all []any
			if jsonv2.Unmarshal(data, &struct {
				Value *[]any `json:"value"`
			}{&all}, jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true)) == nil && len(out)+len(skipped) != len(all) {
				t.Fatalf("%d users and %d left out of %d", len(out), len(skipped), len(all))
			}
		}
	})
}

// FuzzParseError: an error body reads the same with a UTF-8 byte order
// mark before it as without (issue 19).
func FuzzParseError(f *testing.F) {
	f.Add([]byte(`{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges","innerError":{"date":"2026-11-25T19:00:00","request-id":"r","client-request-id":"c"}}}`))
	f.Add([]byte(`{"error":{"code":"x"}}`))
	f.Add([]byte("\ufeff{}"))
	f.Add([]byte(`not json`))
	resp := &http.Response{StatusCode: 403, Header: http.Header{}}
	f.Fuzz(func(t *testing.T, body []byte) {
		if bytes.HasPrefix(body, []byte("\ufeff")) {
			return // one mark is stripped, not two
		}
		plain := parseError(resp, body, "crid")
		bom := parseError(resp, append([]byte("\ufeff"), body...), "crid")
		if *plain != *bom {
			t.Fatalf("%q: %+v without a BOM, %+v with one", body, plain, bom)
		}
	})
}
