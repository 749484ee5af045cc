package graph

import "github.com/inventorybeacon/beacon/storage/inventory"

// testSpec is the spec the importer builds for a report (its
// reportSpec): the tests read the simulator's reports with the columns
// the inventory stores, without a copy of their lists. Only tests import
// the inventory; the client itself never does.
func testSpec(kind inventory.ReportKind) ReportSpec {
	s := inventory.Report(kind)
	out := ReportSpec{Title: s.Title, Function: s.Function}
	for _, c := range s.Columns {
		out.Columns = append(out.Columns, ReportColumn{Header: c.Header, Type: CellType(c.Type)})
	}
	return out
}
