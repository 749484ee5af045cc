package inventory

import (
	"fmt"
	"strconv"
	"strings"
)

// ReportKind names one of the Microsoft 365 usage reports we import; the
// value is the Graph report function.
type ReportKind string

const (
	ReportActiveUsers ReportKind = "getOffice365ActiveUserDetail"
	ReportActivations ReportKind = "getOffice365ActivationsUserDetail"
	ReportAppUsage    ReportKind = "getM365AppUserDetail"
)

// ReportKinds lists the reports in import order.
var ReportKinds = []ReportKind{ReportActiveUsers, ReportActivations, ReportAppUsage}

// ColumnType is how a report column's text is parsed and stored.
type ColumnType int

const (
	Text ColumnType = iota
	Date            // YYYY-MM-DD or empty; stored as that text so it sorts
	Bool            // True/False (also Yes/No); stored as 0/1
	Int             // a count; stored as an integer
)

// ReportColumn is a column we know by its header.
type ReportColumn struct {
	Header string
	Name   string // SQL column name
	Type   ColumnType
}

// ReportSpec describes one report: its Graph function call and the columns
// we store typed. Columns Microsoft adds later land in the row's extras.
type ReportSpec struct {
	Kind     ReportKind
	Title    string // for the UI and messages
	Function string // the path segment after /reports/, with its parameters
	Table    string
	Columns  []ReportColumn
}

// Column returns the index of the column with the given header, or -1.
func (s ReportSpec) Column(header string) int {
	for i, c := range s.Columns {
		if strings.EqualFold(c.Header, header) {
			return i
		}
	}
	return -1
}

func spec(kind ReportKind, title, fn, table string, cols ...string) ReportSpec {
	s := ReportSpec{Kind: kind, Title: title, Function: fn, Table: table}
	for _, c := range cols {
		typ := Text
		header := c
		if i := strings.IndexByte(c, ':'); i >= 0 {
			header = c[:i]
			switch c[i+1:] {
			case "date":
				typ = Date
			case "bool":
				typ = Bool
			case "int":
				typ = Int
			}
		}
		s.Columns = append(s.Columns, ReportColumn{Header: header, Name: sqlName(header), Type: typ})
	}
	return s
}

// sqlName turns a header into a column name: "Outlook (Windows)" ->
// "outlook_windows".
func sqlName(header string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(header) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = false
			b.WriteRune(r)
		} else {
			under = true
		}
	}
	return b.String()
}

func appUsageColumns() []string {
	cols := []string{"Report Refresh Date:date", "User Principal Name", "Last Activation Date:date",
		"Last Activity Date:date", "Report Period:int", "Windows:bool", "Mac:bool", "Mobile:bool", "Web:bool",
		"Outlook:bool", "Word:bool", "Excel:bool", "PowerPoint:bool", "OneNote:bool", "Teams:bool"}
	for _, app := range []string{"Outlook", "Word", "Excel", "PowerPoint", "OneNote", "Teams"} {
		for _, p := range []string{"Windows", "Mac", "Mobile", "Web"} {
			cols = append(cols, app+" ("+p+"):bool")
		}
	}
	return cols
}

var reportSpecs = []ReportSpec{
	spec(ReportActiveUsers, "Active users", "getOffice365ActiveUserDetail(period='D30')", "report_active_users",
		"Report Refresh Date:date", "User Principal Name", "Display Name", "Is Deleted:bool", "Deleted Date:date",
		"Has Exchange License:bool", "Has OneDrive License:bool", "Has SharePoint License:bool",
		"Has Skype For Business License:bool", "Has Yammer License:bool", "Has Teams License:bool",
		"Exchange Last Activity Date:date", "OneDrive Last Activity Date:date", "SharePoint Last Activity Date:date",
		"Skype For Business Last Activity Date:date", "Yammer Last Activity Date:date", "Teams Last Activity Date:date",
		"Exchange License Assign Date:date", "OneDrive License Assign Date:date", "SharePoint License Assign Date:date",
		"Skype For Business License Assign Date:date", "Yammer License Assign Date:date", "Teams License Assign Date:date",
		"Assigned Products"),
	spec(ReportActivations, "Office activations", "getOffice365ActivationsUserDetail", "report_activations",
		"Report Refresh Date:date", "User Principal Name", "Display Name", "Product Type", "Last Activated Date:date",
		"Windows:int", "Mac:int", "Windows 10 Mobile:int", "iOS:int", "Android:int", "Activated On Shared Computer:bool"),
	spec(ReportAppUsage, "Microsoft 365 apps usage", "getM365AppUserDetail(period='D30')", "report_app_usage",
		appUsageColumns()...),
}

// Report returns the specification of a report kind.
func Report(kind ReportKind) ReportSpec {
	for _, s := range reportSpecs {
		if s.Kind == kind {
			return s
		}
	}
	panic("inventory: unknown report kind " + string(kind))
}

// ReportRow is one row of a usage report. Cells are aligned with the
// spec's Columns and hold normalised text: dates YYYY-MM-DD, booleans
// True/False, counts in decimal, "" for empty or missing columns (the
// Graph client parses them so: graph.ParseCell).
type ReportRow struct {
	Cells []string `json:"cells"`
	// Extras holds columns we do not know (by header) and values of known
	// columns that did not parse, so nothing Microsoft sends is lost.
	Extras map[string]string `json:"extras,omitempty"`
}

// UPN returns the row's User Principal Name cell.
func (s ReportSpec) UPN(r ReportRow) string {
	if i := s.Column("User Principal Name"); i >= 0 && i < len(r.Cells) {
		return r.Cells[i]
	}
	return ""
}

// LooksConcealed reports whether a report's user principal name is one of
// the 32-hex-character stand-ins Microsoft shows when the tenant conceals
// user names in reports: exactly 32 of 0-9 and A-F. (By hand, not with a
// regular expression: it runs once per report row.)
func LooksConcealed(upn string) bool {
	if len(upn) != 32 {
		return false
	}
	for i := 0; i < len(upn); i++ {
		if c := upn[i]; !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// sqlValue converts a normalised cell into what the column stores.
func sqlValue(t ColumnType, cell string) any {
	if cell == "" {
		return nil
	}
	switch t {
	case Bool:
		return cell == "True"
	case Int:
		n, err := strconv.ParseInt(cell, 10, 64)
		if err != nil {
			return nil
		}
		return n
	}
	return cell
}

// cellText converts a stored value back into the normalised cell text.
func cellText(t ColumnType, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case int64:
		if t == Bool {
			if x != 0 {
				return "True"
			}
			return "False"
		}
		return strconv.FormatInt(x, 10)
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return x
	case []byte:
		return string(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
