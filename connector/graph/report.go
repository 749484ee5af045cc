package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"
	"unsafe"
)

// reportChunk is how many rows Report hands over at a time; the store
// writes a chunk in one transaction. With three reports downloading at
// once, each with chunks queued behind the store, 5,000 rows per chunk
// held about 60 MB. The one writer takes turns between the users' pages
// and the report chunks: at 150 ms and 100,000 users, paired runs gave
// 256 rows 0.05-0.10 s less wall time than 1,000 and 8 MB less peak RSS
// (500: -0.05 s; 128 and 2,000: +0.02 s and +0.14 s). The commits this
// adds cost no measurable CPU.
const reportChunk = 256

// Report fetches a usage report and hands its rows over in chunks: it is
// DownloadReport and then ReportFile.Rows.
func (c *Client) Report(ctx context.Context, spec ReportSpec, sink Sink[ReportRow]) error {
	rf, err := c.DownloadReport(ctx, spec)
	if err != nil {
		return err
	}
	defer rf.Close()
	return rf.Rows(sink)
}

// ReportFile is a downloaded usage report, spooled to a private temporary
// file until Close.
type ReportFile struct {
	spec ReportSpec
	f    *os.File
	mems chan *reportMem // the client's (Chunks)
}

// DownloadReport fetches a usage report into a temporary file.
//
// Graph answers the report call with 302 and a pre-authenticated download
// URL, which must be fetched WITHOUT our Authorization header (it is
// another host; sending the token would leak it and can be refused). The
// CSV is first spooled to a private temporary file, so a download that
// breaks half-way is fetched again from the start without handing over
// any row twice, memory stays flat whatever the tenant's size, and an
// importer can download the reports while the store is busy with others.
func (c *Client) DownloadReport(ctx context.Context, spec ReportSpec) (*ReportFile, error) {
	f, err := os.CreateTemp("", "beacon-report-*.csv")
	if err != nil {
		return nil, fmt.Errorf("create a temporary file for the %s report: %w", spec.Title, err)
	}
	if runtime.GOOS != "windows" {
		// Gone from the folder at once, read and written through f: a
		// beacon killed mid-import (kill -9, a test's timeout) left its
		// beacon-report-*.csv files behind. Windows cannot remove an open
		// file: there Close removes it.
		_ = os.Remove(f.Name())
	}
	rf := &ReportFile{spec: spec, f: f, mems: c.reportMems}
	err = c.get(ctx, c.url("/reports/"+spec.Function), nil, func(resp *http.Response) error {
		if err := f.Truncate(0); err != nil {
			return err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		switch {
		case resp.StatusCode == http.StatusOK:
			// Some gateways answer with the CSV itself.
			return spool(f, resp.Body)
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc, err := resp.Location()
			if err != nil {
				return fmt.Errorf("the %s report redirect has no usable Location: %w", spec.Title, err)
			}
			return c.download(ctx, loc, f)
		}
		return fmt.Errorf("unexpected %s from the %s report", resp.Status, spec.Title)
	})
	if err != nil {
		rf.Close()
		return nil, fmt.Errorf("%s report: %w", spec.Title, err)
	}
	return rf, nil
}

// Rows parses the downloaded report and hands its rows over in chunks.
func (rf *ReportFile) Rows(sink Sink[ReportRow]) error {
	return rf.parse(func(rows []ReportRow, _ func()) error { return sink(rows) }, false)
}

// Chunks is Rows with the chunks' memory recycled: fn gets a done func
// that gives the chunk's memory (its cells and the text they are cut
// from) back for the chunks that follow. Call it once nothing refers to
// the rows' cells or extras any more (they are stored), or never (the
// memory is then left to the garbage collector, as with Rows). A 100,000-
// user import parses about 250,000 rows, whose cells and text were 150 MB
// of garbage, 30% of everything it allocated (issue 7, fourth round). The
// memory given back serves the reports of the same client only.
func (rf *ReportFile) Chunks(fn func(rows []ReportRow, done func()) error) error {
	return rf.parse(fn, true)
}

func (rf *ReportFile) parse(fn func([]ReportRow, func()) error, recycle bool) error {
	if _, err := rf.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	// parseReport reads in large blocks itself: no bufio.Reader.
	var mems chan *reportMem
	if recycle {
		mems = rf.mems
	}
	if err := parseReport(rf.f, rf.spec, fn, csvBlock, mems); err != nil {
		return fmt.Errorf("%s report: %w", rf.spec.Title, err)
	}
	return nil
}

// reportMem is the memory of one chunk of rows when it is recycled
// (ReportFile.Chunks): its cells, and a block its lines' text is copied to
// (a chunk's text is about 300 kB at 1,000 rows; a chunk needing more than
// is left gets a new block, a quarter larger than it needs, the old one
// left to the garbage collector).
type reportMem struct {
	block []byte
	cells []string
}

// reportMemsKept is how many chunks' memories a client keeps once given
// back (done): as many as chunks can be in flight (parsed, queued two
// deep, stored).
const reportMemsKept = 4

func takeReportMem(mems chan *reportMem, cells int) *reportMem {
	var m *reportMem
	select {
	case m = <-mems:
	default:
		m = &reportMem{}
	}
	if len(m.cells) < cells {
		m.cells = make([]string, cells)
	}
	return m
}

// text copies b to the block and returns it as a string, valid until the
// chunk is given back.
func (m *reportMem) text(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(m.block)-len(m.block) < len(b) {
		m.block = make([]byte, 0, len(b)+len(b)/4)
	}
	n := len(m.block)
	m.block = append(m.block, b...)
	return unsafe.String(&m.block[n], len(b))
}

// giveBack makes m reusable: its cells are cleared (a cell a row leaves
// unset must read ""), its block's bytes are overwritten by the next
// chunk.
func (m *reportMem) giveBack(mems chan *reportMem) {
	clear(m.cells)
	m.block = m.block[:0]
	select {
	case mems <- m:
	default:
	}
}

// Close removes the temporary file.
func (rf *ReportFile) Close() error {
	rf.f.Close()
	if err := os.Remove(rf.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func spool(f *os.File, body io.Reader) error {
	if _, err := io.Copy(f, body); err != nil {
		// A reset or a body shorter than its Content-Length.
		return bodyError(fmt.Errorf("the report download broke off: %w", err))
	}
	return nil
}

// download fetches the pre-authenticated URL with no Authorization header.
// Its failures are retried by re-requesting the report (the URL expires
// within minutes anyway).
//
// It is bounded by progress rather than by the attempt's time-out: a large
// report on a slow link may take longer than one attempt, but a download
// that brings no byte for AttemptTimeout is given up. (Issue 20: it ran on
// the import's context, so a stalled download waited as long as the
// network kept the connection open, for ever if it never closed it.)
func (c *Client) download(ctx context.Context, loc *url.URL, f *os.File) error {
	dctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stalled := fmt.Errorf("no data came for %s", c.o.AttemptTimeout)
	watchdog := time.AfterFunc(c.o.AttemptTimeout, func() { cancel(stalled) })
	defer watchdog.Stop()
	req, err := http.NewRequestWithContext(dctx, http.MethodGet, loc.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("client-request-id", newGUID())
	resp, err := c.dl.Do(req)
	if err != nil {
		if context.Cause(dctx) == stalled && ctx.Err() == nil {
			err = stalled
		}
		// The error text would carry the signed URL; say where, not what.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return bodyError(fmt.Errorf("download from %s: %w", loc.Host, err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.CopyN(io.Discard, resp.Body, 4096)
		return bodyError(fmt.Errorf("download from %s answered %s", loc.Host, resp.Status))
	}
	err = spool(f, progressReader{resp.Body, func() { watchdog.Reset(c.o.AttemptTimeout) }})
	if err != nil && context.Cause(dctx) == stalled && ctx.Err() == nil {
		return bodyError(fmt.Errorf("the report download stalled: %w", stalled))
	}
	return err
}

// progressReader calls progress after each read that brought bytes.
type progressReader struct {
	r        io.Reader
	progress func()
}

func (p progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.progress()
	}
	return n, err
}

// ParseReport reads a report CSV (UTF-8, with or without a BOM), maps its
// columns by header name and hands rows over in chunks. Columns we do not
// know are kept in the row's Extras; known columns that are missing stay
// empty; values that do not parse as their type are kept in Extras too.
// It reads r in large blocks itself (a bufio.Reader around it adds
// nothing) and cuts a chunk's cells from one string; see csvScanner.
func ParseReport(r io.Reader, spec ReportSpec, sink Sink[ReportRow]) error {
	return parseReport(r, spec, func(rows []ReportRow, _ func()) error { return sink(rows) }, csvBlock, nil)
}

// parseReport is ParseReport reading block bytes at a time; with mems
// (recycling), each chunk's memory comes from mems and goes back there
// when the consumer calls the chunk's done (see ReportFile.Chunks).
func parseReport(r io.Reader, spec ReportSpec, fn func([]ReportRow, func()) error, block int, mems chan *reportMem) error {
	recycle := mems != nil
	// The records are what encoding/csv (FieldsPerRecord -1) would read,
	// errors included; see csvScanner.
	cr := newCSVScanner(r, block)
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
	// The rows' cells are cut from one slab per chunk: one allocation
	// instead of one per row (250,000 at 100,000 users). A new slab each
	// chunk (or a recycled chunk's, given back by its consumer), since the
	// rows handed to fn may be stored while the next chunk is parsed. The
	// header above was read into memory of its own: its names outlive
	// every chunk.
	var slab []string
	var mem *reportMem
	done := func() {}
	newChunk := func() {
		if !recycle {
			slab = make([]string, reportChunk*len(spec.Columns))
			return
		}
		mem = takeReportMem(mems, reportChunk*len(spec.Columns))
		slab, cr.arena = mem.cells, mem
		m, given := mem, false
		done = func() {
			if !given {
				given = true
				m.giveBack(mems)
			}
		}
	}
	if recycle {
		newChunk()
	}
	line := 1
	for {
		// A batch of lines (one string) per chunk of rows.
		cr.want = reportChunk - len(rows)
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
			newChunk() // only without recycling: a chunk's slab holds all its rows
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
			if err := fn(rows, done); err != nil {
				return err
			}
			rows = rows[:0]
			if recycle {
				newChunk()
			}
		}
	}
	if len(rows) > 0 {
		return fn(rows, done)
	}
	return nil
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
