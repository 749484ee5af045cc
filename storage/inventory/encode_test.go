package inventory

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestPlanCodecRoundTrip checks the codec's per-position shortcut against
// the dictionary: lists that repeat, shift, differ by one field or grow
// all decode to what was encoded.
func TestPlanCodecRoundTrip(t *testing.T) {
	at := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	p := func(service, id, status string) AssignedPlan {
		// Fresh strings each time, as a decoder without interning
		// would give: the shortcut must compare text, not pointers.
		return AssignedPlan{AssignedDateTime: at, Service: strings.Clone(service), ServicePlanID: strings.Clone(id), CapabilityStatus: strings.Clone(status)}
	}
	a, b, c := p("exchange", "A", "Enabled"), p("SharePoint", "B", "Enabled"), p("exchange", "A", "Suspended")
	lists := [][]AssignedPlan{
		{a, b},
		{a, b},                             // same list again
		{b, a},                             // shifted: each position sees the other plan
		{c, b},                             // same service and id, another status
		{a, b, p("teams", "C", "Deleted")}, // longer
		{},
		{p("exchange", "A", "Enabled"), p("SharePoint", "B", "Enabled")},
	}
	codec := newPlanCodec()
	check := func(ls [][]AssignedPlan) {
		t.Helper()
		for i, l := range ls {
			enc := string(codec.encode(nil, l))
			got := decodePlans(enc, codec.entries)
			want := l
			if len(want) == 0 {
				want = []AssignedPlan{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("list %d: %q decodes to %+v, want %+v", i, enc, got, want)
			}
		}
	}
	check(lists)
}
