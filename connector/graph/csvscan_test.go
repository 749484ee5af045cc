package graph

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/inventorybeacon/beacon/m365sim/accesstoken"
	simgraph "github.com/inventorybeacon/beacon/m365sim/graph"
	"github.com/inventorybeacon/beacon/m365sim/tenant"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

var (
	simReportMu    sync.Mutex
	simReportCache = map[int]map[inventory.ReportKind][]byte{}
)

// simReports returns the simulator's three report CSVs for a tenant of n
// users (seed 1), generated in-process and cached per size.
func simReports(tb testing.TB, n int) map[inventory.ReportKind][]byte {
	tb.Helper()
	simReportMu.Lock()
	defer simReportMu.Unlock()
	if m := simReportCache[n]; m != nil {
		return m
	}
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	key := []byte("0123456789abcdef0123456789abcdef")
	ten := tenant.GenerateAt(1, n, now)
	ten.Clock = clock
	h := simgraph.New(simgraph.Options{Tenant: ten, SigningKey: key, Now: clock})
	tok := accesstoken.Mint(key, accesstoken.Claims{
		Audience: simgraph.GraphResource, TenantID: ten.ID, AppID: tenant.ConfidentialClientID,
		IssuedAt: now.Unix(), NotBefore: now.Unix(), Expiry: now.Add(time.Hour).Unix(),
		ObjectID: "sp", Roles: []string{"Reports.Read.All"}, ID: "csvscan",
	})
	m := map[inventory.ReportKind][]byte{}
	for _, kind := range inventory.ReportKinds {
		req := httptest.NewRequest("GET", "http://graph.test/v1.0/reports/"+testSpec(kind).Function, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		loc := rec.Header().Get("Location")
		if rec.Code != http.StatusFound || loc == "" {
			tb.Fatalf("%s: %d %s", kind, rec.Code, rec.Body)
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", loc, nil))
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			tb.Fatalf("%s download: %d %s", kind, rec.Code, rec.Body)
		}
		m[kind] = rec.Body.Bytes()
	}
	simReportCache[n] = m
	return m
}

// parseReportReference is ParseReport as it was before csvScanner: all
// encoding/csv. The tests compare the two.
func parseReportReference(r io.Reader, spec ReportSpec, fn Sink[ReportRow]) error {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil // an empty report: no rows
	}
	if err != nil {
		return fmt.Errorf("read the CSV header: %w", err)
	}
	header = append([]string(nil), header...)
	idx := make([]int, len(header)) // CSV column -> spec column, -1 unknown
	for i, h := range header {
		h = strings.TrimSpace(h)
		header[i] = h
		idx[i] = spec.Column(h)
	}
	if spec.Column("User Principal Name") >= 0 && !contains(idx, spec.Column("User Principal Name")) {
		return fmt.Errorf("the CSV has no User Principal Name column (header: %s)", strings.Join(header, ", "))
	}
	rows := make([]ReportRow, 0, reportChunk)
	var slab []string
	line := 1
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line++
		if err != nil {
			return fmt.Errorf("CSV line %d: %w", line, err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(slab) < len(spec.Columns) {
			slab = make([]string, reportChunk*len(spec.Columns))
		}
		row := ReportRow{Cells: slab[:len(spec.Columns):len(spec.Columns)]}
		slab = slab[len(spec.Columns):]
		for i, v := range rec {
			if i >= len(header) {
				break // a stray trailing field without a header
			}
			j := idx[i]
			if j < 0 {
				if v != "" {
					if row.Extras == nil {
						row.Extras = map[string]string{}
					}
					row.Extras[header[i]] = v
				}
				continue
			}
			norm, ok := ParseCell(spec.Columns[j].Type, v)
			if !ok {
				if row.Extras == nil {
					row.Extras = map[string]string{}
				}
				row.Extras[header[i]] = v
				norm = ""
			}
			row.Cells[j] = norm
		}
		rows = append(rows, row)
		if len(rows) == reportChunk {
			if err := fn(rows); err != nil {
				return err
			}
			rows = rows[:0]
		}
	}
	if len(rows) > 0 {
		return fn(rows)
	}
	return nil
}

// parseResult is what a parse handed over and returned.
type parseResult struct {
	rows   []ReportRow
	chunks []int
	err    error
}

type parseFunc func(io.Reader, ReportSpec, Sink[ReportRow]) error

// runParse parses with parse; stopAfter > 0 makes fn fail on that chunk.
func runParse(parse parseFunc, r io.Reader, spec ReportSpec, stopAfter int) parseResult {
	var res parseResult
	res.err = parse(r, spec, func(rows []ReportRow) error {
		res.chunks = append(res.chunks, len(rows))
		res.rows = append(res.rows, rows...) // the rows' cells are retained, as the store does
		if len(res.chunks) == stopAfter {
			return errStopParse
		}
		return nil
	})
	return res
}

var errStopParse = errors.New("stop here")

func fastParse(block int) parseFunc {
	return func(r io.Reader, spec ReportSpec, fn Sink[ReportRow]) error {
		return parseReport(r, spec, func(rows []ReportRow, _ func()) error { return fn(rows) }, block, nil)
	}
}

// recycledParse parses with each chunk's memory given back as soon as its
// rows are copied (as ReportFile.Chunks does once they are stored), so
// the next chunks reuse it: a chunk whose cells or text came from memory
// still in use, or a cell left over from an earlier chunk, shows as a
// difference from the reference.
func recycledParse(block int) parseFunc {
	return func(r io.Reader, spec ReportSpec, fn Sink[ReportRow]) error {
		return parseReport(r, spec, func(rows []ReportRow, done func()) error {
			own := make([]ReportRow, len(rows))
			for i, row := range rows {
				own[i].Cells = make([]string, len(row.Cells))
				for j, c := range row.Cells {
					own[i].Cells[j] = strings.Clone(c)
				}
				if row.Extras != nil {
					own[i].Extras = map[string]string{}
					for k, v := range row.Extras {
						own[i].Extras[strings.Clone(k)] = strings.Clone(v)
					}
				}
			}
			done()
			done() // twice: harmless
			return fn(own)
		}, block, make(chan *reportMem, reportMemsKept))
	}
}

// diffParse compares the reference and the fast parse of data, read
// through readers of several kinds and with several block sizes.
func diffParse(t testing.TB, name string, data []byte, spec ReportSpec, blocks ...int) {
	t.Helper()
	readers := []struct {
		name string
		r    func() io.Reader
	}{
		{"bytes", func() io.Reader { return bytes.NewReader(data) }},
		{"onebyte", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) }},
		{"half", func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) }},
		{"dataerr", func() io.Reader { return iotest.DataErrReader(bytes.NewReader(data)) }},
		{"readerr", func() io.Reader {
			return io.MultiReader(bytes.NewReader(data[:len(data)*2/3]), csvErrReader{errBrokenRead})
		}},
	}
	if len(blocks) == 0 {
		blocks = []int{csvBlock, 1, 5, 64}
	}
	for _, stop := range []int{0, 1} {
		want := runParse(parseReportReference, bytes.NewReader(data), spec, stop)
		for _, rd := range readers {
			if rd.name != "bytes" {
				want = runParse(parseReportReference, rd.r(), spec, stop)
			}
			for _, block := range blocks {
				got := runParse(fastParse(block), rd.r(), spec, stop)
				where := fmt.Sprintf("%s (reader %s, block %d, stop %d)", name, rd.name, block, stop)
				compareResults(t, where, got, want)
				got = runParse(recycledParse(block), rd.r(), spec, stop)
				compareResults(t, where+" recycled", got, want)
			}
		}
	}
}

var errBrokenRead = errors.New("read broke off")

func compareResults(t testing.TB, where string, got, want parseResult) {
	t.Helper()
	if (got.err == nil) != (want.err == nil) || got.err != nil && got.err.Error() != want.err.Error() {
		t.Fatalf("%s: error %v, want %v", where, got.err, want.err)
	}
	var gpe, wpe *csv.ParseError
	if errors.As(got.err, &gpe) != errors.As(want.err, &wpe) || gpe != nil && *gpe != *wpe {
		t.Fatalf("%s: ParseError %+v, want %+v", where, gpe, wpe)
	}
	if !slices.Equal(got.chunks, want.chunks) {
		t.Fatalf("%s: chunks %v, want %v", where, got.chunks, want.chunks)
	}
	if len(got.rows) != len(want.rows) {
		t.Fatalf("%s: %d rows, want %d", where, len(got.rows), len(want.rows))
	}
	for i := range got.rows {
		if !reflect.DeepEqual(got.rows[i], want.rows[i]) {
			t.Fatalf("%s: row %d\n got %q %q\nwant %q %q", where, i, got.rows[i].Cells, got.rows[i].Extras, want.rows[i].Cells, want.rows[i].Extras)
		}
	}
}

const csvHead = "Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date,Has Exchange License,Exchange Last Activity Date,Copilot Last Activity Date,Assigned Products\n"

// manyRows is a report of n rows in varied shapes, with blank lines and,
// every quoteEvery rows (0: never), a quoted row.
func manyRows(n, quoteEvery int, nl string) []byte {
	var b strings.Builder
	b.WriteString("\ufeff" + strings.ReplaceAll(csvHead, "\n", nl))
	for i := range n {
		switch {
		case i%97 == 5:
			b.WriteString(nl) // an empty line
		case i%89 == 7:
			b.WriteString("  " + nl) // a blank field: skipped by ParseReport
		}
		if quoteEvery > 0 && i%quoteEvery == quoteEvery-1 {
			fmt.Fprintf(&b, "2026-11-23,u%d@contoso.example,\"Vance, \"\"%d\"\"\",False,,True,2026-11-%02d,,\"E3,E5\"%s", i, i, 1+i%30, nl)
			continue
		}
		fmt.Fprintf(&b, "2026-11-23,u%d@contoso.example,User %d%s,%s,,True,2026-11-%02d,x%d,%s%s",
			i, i, strings.Repeat("x", i%41), []string{"False", "True", "maybe"}[i%3], 1+i%30, i%7, strings.Repeat("OFFICE 365 E3+", i%5), nl)
	}
	return []byte(b.String())
}

var handCSVs = []struct{ name, csv string }{
	{"empty", ""},
	{"bom only", "\ufeff"},
	{"bom partial", "\xef\xbb"},
	{"newlines only", "\n\r\n\n"},
	{"cr only", "\r"},
	{"active", activeCSV},
	{"active no bom", strings.TrimPrefix(activeCSV, "\ufeff")},
	{"header only", csvHead},
	{"header only no newline", strings.TrimSuffix(csvHead, "\n")},
	{"header padded", " Report Refresh Date , User Principal Name ,Unknown Thing\n2026-11-23,a@b,c\n"},
	{"no upn", "Report Refresh Date,Display Name\n2026-11-23,Adele\n"},
	{"lf", csvHead + "2026-11-23,a@b,Adele,False,,True,2026-11-20,2026-11-19,E3\n2026-11-23,b@b,Ben,True,,False,,,\n"},
	{"crlf", strings.ReplaceAll(csvHead, "\n", "\r\n") + "2026-11-23,a@b,Adele,False,,True,2026-11-20,2026-11-19,E3\r\n2026-11-23,b@b,Ben,True,,False,,,\r\n"},
	{"no final newline", csvHead + "2026-11-23,a@b,Adele,False,,True"},
	{"final cr", csvHead + "2026-11-23,a@b,Adele,False,,True\r"},
	{"final cr cr", csvHead + "2026-11-23,a@b,Adele,False,,True,,,x\r\r"},
	{"lone cr", csvHead + "2026-11-23,a@b,Ad\rele,False\r,,True\n2026-11-23,b@b\r\r\n\r\r\n\r\n"},
	{"cr lines", csvHead + "2026-11-23,a@b,Adele\r2026-11-23,b@b,Ben\r\n"},
	{"trailing comma", csvHead + "2026-11-23,a@b,Adele,\n2026-11-23,b@b,\"Ben\",\n"},
	{"blank lines", csvHead + "\n\n2026-11-23,a@b,Adele\n\n   \n,\n\t\n2026-11-23,b@b,Ben\n\n"},
	{"missing and extra fields", csvHead + "2026-11-23\n2026-11-23,a@b,Adele,False,,True,2026-11-20,2026-11-19,E3,extra,more\n,,,,,,,,,,,,\n"},
	{"unknown columns", "User Principal Name,Colour,Is Deleted,Shoe Size\na@b,red,False,\nb@b,,nope,42\n"},
	{"duplicate columns", "User Principal Name,Display Name,Display Name\na@b,One,Two\n"},
	{"quoted", csvHead + "2026-11-23,\"a@b\",\"Vance, Adele\",\"False\",\"\",\"True\",,\"\",\"E3,E5\"\n\"2026-11-23\",b@b,\"q\"\"uoted\"\"\",\"\"\"\",x\n"},
	{"quoted header", "\"Report Refresh Date\",\"User Principal Name\",\"Display, Name\"\n2026-11-23,a@b,c\n"},
	{"quoted crlf", csvHead + "2026-11-23,a@b,\"Vance, Adele\"\r\n2026-11-23,b@b,\"Ben\"\r\n"},
	{"quoted at eof", csvHead + "2026-11-23,a@b,\"Vance, Adele\""},
	{"quoted at eof cr", csvHead + "2026-11-23,a@b,\"Vance, Adele\"\r"},
	{"quoted newline", csvHead + "2026-11-23,a@b,Adele\n2026-11-23,b@b,\"two\nlines\",True\n2026-11-23,c@b,Cy\n\n2026-11-23,d@b,\"x\"\n"},
	{"quoted crlf inside", csvHead + "2026-11-23,a@b,\"two\r\nlines\"\r\n2026-11-23,c@b,Cy\r\n"},
	{"quoted cr inside", csvHead + "2026-11-23,a@b,\"one\rline\"\n"},
	{"quoted empty line inside", csvHead + "2026-11-23,a@b,\"two\n\nlines\"\n2026-11-23,c@b,Cy\n"},
	{"bare quote", csvHead + "2026-11-23,a@b,Adele\n\n2026-11-23,b@b,Ad\"ele\n2026-11-23,c@b,Cy\n"},
	{"bare quote header", "Report Refresh Date,User \"Principal\" Name\n"},
	{"extraneous quote", csvHead + "2026-11-23,a@b,Adele\n2026-11-23,b@b,\"Ad\"ele\"\n"},
	{"quote then cr", csvHead + "2026-11-23,a@b,\"Adele\"\r\r\n"},
	{"missing quote", csvHead + "2026-11-23,a@b,Adele\n2026-11-23,b@b,\"Adele\n"},
	{"missing quote later line", csvHead + "2026-11-23,a@b,\"Ad\nele\nx\"y\n"},
	{"missing quote eof", csvHead + "2026-11-23,b@b,\"Adele"},
	{"dash after comma", csvHead + "2026-11-23,a@b,-1,--,,-,.,-\n-,-\n"},
	{"nul and invalid utf8", csvHead + "2026-11-23,a@b,\x00\xff\xfe,\"\xff\"\n"},
	{"long line", csvHead + "2026-11-23,a@b," + strings.Repeat("Adele ", 100000) + ",False\n2026-11-23,b@b,Ben\n"},
	{"long quoted line", csvHead + "2026-11-23,a@b,\"" + strings.Repeat("Adele, ", 100000) + "\",False\n2026-11-23,b@b,Ben\n"},
	{"long line no newline", csvHead + "2026-11-23,a@b," + strings.Repeat("Adele ", 100000)},
	{"long line then bad quote", csvHead + strings.Repeat("2026-11-23,a@b,"+strings.Repeat("Adele ", 3000)+"\n", 40) + "x,\"y\"z\n"},
}

// TestParseReportFastHand compares ParseReport with the encoding/csv
// reference on hand-written CSVs, through several readers and blocks.
func TestParseReportFastHand(t *testing.T) {
	spec := testSpec(inventory.ReportActiveUsers)
	for _, c := range handCSVs {
		diffParse(t, c.name, []byte(c.csv), spec)
	}
}

// TestParseReportFastMany compares them on reports of several chunks,
// with rows straddling block boundaries, empty and blank lines, quotes,
// and a bad quote or a multi-line record near the end.
func TestParseReportFastMany(t *testing.T) {
	spec := testSpec(inventory.ReportActiveUsers)
	for _, nl := range []string{"\n", "\r\n"} {
		for _, q := range []int{0, 1, 250} {
			data := manyRows(2600, q, nl)
			name := fmt.Sprintf("many(q=%d,nl=%q)", q, nl)
			diffParse(t, name, data, spec, csvBlock, 1000, 4096, 100000)
			bad := append(slices.Clip(data), "2026-11-23,z@b,\"multi\nline\"\n2026-11-23,a@b,Ad\"ele\n"...)
			diffParse(t, name+"+bad", bad, spec, csvBlock, 4096)
		}
	}
	// Rows straddling the default block boundary.
	data := manyRows(12000, 0, "\n")
	if len(data) < 2*csvBlock {
		t.Fatalf("%d bytes: not past two blocks", len(data))
	}
	diffParse(t, "many(12000)", data, spec, csvBlock)
}

// TestParseReportFastErrorLines: an error late in the report names the
// same line as before, as text and as a csv.ParseError.
func TestParseReportFastErrorLines(t *testing.T) {
	spec := testSpec(inventory.ReportActiveUsers)
	data := string(manyRows(1500, 0, "\r\n")) + "2026-11-23,a@b,\"two\nlines\",\n\n2026-11-23,b@b,\"Ad\"ele\n"
	err := ParseReport(strings.NewReader(data), spec, func([]ReportRow) error { return nil })
	var pe *csv.ParseError
	if err == nil || !errors.As(err, &pe) || !errors.Is(err, csv.ErrQuote) || pe.Line != strings.Count(data, "\n") || pe.Column != 19 {
		t.Fatalf("err = %v (%+v), want ErrQuote on line %d, column 19", err, pe, strings.Count(data, "\n"))
	}
	want := parseReportReference(strings.NewReader(data), spec, func([]ReportRow) error { return nil })
	if err.Error() != want.Error() {
		t.Fatalf("err = %q, want %q", err, want)
	}
}

// TestParseReportFastSimulator compares them on the simulator's reports.
func TestParseReportFastSimulator(t *testing.T) {
	for _, kind := range inventory.ReportKinds {
		data := simReports(t, 5000)[kind]
		spec := testSpec(kind)
		want := runParse(parseReportReference, bytes.NewReader(data), spec, 0)
		if want.err != nil || len(want.rows) < 3000 {
			t.Fatalf("%s: %d rows, %v", kind, len(want.rows), want.err)
		}
		for _, block := range []int{csvBlock, 4096, 100} {
			got := runParse(fastParse(block), bytes.NewReader(data), spec, 0)
			compareResults(t, fmt.Sprintf("%s (block %d)", kind, block), got, want)
		}
		// And through the spooled file, as the importer reads it.
		f, err := os.CreateTemp(t.TempDir(), "report-*.csv")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(data); err != nil {
			t.Fatal(err)
		}
		rf := &ReportFile{spec: spec, f: f}
		got := runParse(func(_ io.Reader, _ ReportSpec, fn Sink[ReportRow]) error {
			return rf.Rows(fn)
		}, nil, spec, 0)
		compareResults(t, string(kind)+" (file)", got, want)
		f.Close()
		// CRLF line ends and a quoted field in the middle.
		crlf := bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
		compareResults(t, string(kind)+" (crlf)", runParse(ParseReport, bytes.NewReader(crlf), spec, 0),
			runParse(parseReportReference, bytes.NewReader(crlf), spec, 0))
		i := bytes.Index(data[len(data)/2:], []byte(",")) + len(data)/2
		quoted := slices.Concat(data[:i], []byte(",\"a, \"\"b\"\"\nc\""), data[i:])
		compareResults(t, string(kind)+" (quoted)", runParse(ParseReport, bytes.NewReader(quoted), spec, 0),
			runParse(parseReportReference, bytes.NewReader(quoted), spec, 0))
	}
}

// TestParseReportFastAllocs: a chunk of rows costs a few allocations,
// not one per row.
func TestParseReportFastAllocs(t *testing.T) {
	data := simReports(t, 5000)[inventory.ReportActiveUsers]
	spec := testSpec(inventory.ReportActiveUsers)
	var rows int
	allocs := testing.AllocsPerRun(2, func() {
		rows = 0
		err := ParseReport(bytes.NewReader(data), spec, func(p []ReportRow) error { rows += len(p); return nil })
		if err != nil {
			t.Fatal(err)
		}
	})
	if perRow := allocs / float64(rows); perRow > 0.1 {
		t.Fatalf("%.0f allocations for %d rows (%.2f a row)", allocs, rows, perRow)
	}
}

// BenchmarkParseReport parses the simulator's reports for 20,000 users,
// with the encoding/csv reference (read through a 64 KiB bufio.Reader, as
// ReportFile.Rows did) and with ParseReport.
func BenchmarkParseReport(b *testing.B) {
	reports := simReports(b, 20000)
	for _, kind := range inventory.ReportKinds {
		data := reports[kind]
		spec := testSpec(kind)
		for _, impl := range []struct {
			name  string
			parse func() error
		}{
			{"ref", func() error {
				return parseReportReference(bufio.NewReaderSize(bytes.NewReader(data), 64<<10), spec, func([]ReportRow) error { return nil })
			}},
			{"fast", func() error {
				return ParseReport(bytes.NewReader(data), spec, func([]ReportRow) error { return nil })
			}},
		} {
			b.Run(string(kind)+"/"+impl.name, func(b *testing.B) {
				rows := bytes.Count(data, []byte("\n")) - 1
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					if err := impl.parse(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
			})
		}
	}
}

// BenchmarkCSVRead reads the records of the simulator's reports for
// 20,000 users, without ParseReport's mapping: encoding/csv (as the
// reference reads) against csvScanner.
func BenchmarkCSVRead(b *testing.B) {
	reports := simReports(b, 20000)
	for _, kind := range inventory.ReportKinds {
		data := reports[kind]
		rows := bytes.Count(data, []byte("\n"))
		b.Run(string(kind)+"/ref", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				cr := csv.NewReader(bufio.NewReaderSize(bytes.NewReader(data), 64<<10))
				cr.FieldsPerRecord = -1
				cr.ReuseRecord = true
				for {
					if _, err := cr.Read(); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
		b.Run(string(kind)+"/fast", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				s := newCSVScanner(bytes.NewReader(data), csvBlock)
				s.want = reportChunk
				for {
					if _, err := s.Read(); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
	}
}

// TestCSVSplitPlain: the eight-bytes-at-a-time comma search finds exactly
// the commas, also next to bytes one bit off a comma ('-', '.', ...).
func TestCSVSplitPlain(t *testing.T) {
	const alpha = ",-.+ab\x00\x80\xff\xac\xad\x7f\x01\r"
	r := rand.New(rand.NewPCG(1, 2))
	var rec []string
	for range 200000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha))]
		}
		ln := string(b)
		if rec = csvSplitPlain(rec[:0], ln); !slices.Equal(rec, strings.Split(ln, ",")) {
			t.Fatalf("%q: %q, want %q", ln, rec, strings.Split(ln, ","))
		}
	}
}
