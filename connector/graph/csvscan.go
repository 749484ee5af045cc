package graph

import (
	"bytes"
	"encoding/csv"
	"io"
	"math/bits"
	"strings"
)

// csvScanner reads a report CSV as encoding/csv does with FieldsPerRecord
// -1 and ReuseRecord (same records, same errors), but cheaper: it reads
// the input in large blocks, converts a batch of lines (about a chunk of
// report rows) to ONE string and cuts every field out of it, instead of
// one string per record. The rows handed over keep their batch's string
// alive; a new string is made per batch, none is ever reused.
//
// The fast path takes the lines that are a complete record on their own:
// fields separated by ',', the line ended by "\n", "\r\n" or the end of
// the input (a last '\r' before the end of input dropped, as encoding/csv
// does), other '\r' kept as data, empty lines skipped, and quoted fields
// that close on the same line (with "" escapes). At the first line it
// cannot take — a quoted field running on to the next line, a quote in an
// unquoted field, a stray quote after a quoted field, a read error — it
// hands the rest of the input, from the start of that line, over to
// encoding/csv, and shifts the line numbers of its errors by the lines
// already read, so errors read as if encoding/csv had read it all.
type csvScanner struct {
	r     io.Reader
	buf   []byte
	pos   int   // buf[pos:end] is the input read but not yet batched
	end   int   //
	eof   bool  // r is exhausted
	rerr  error // r failed (after buf[:end])
	stop  bool  // buf[pos:] starts with a line for encoding/csv
	lines int   // physical lines consumed (for encoding/csv's line numbers)

	maxBatch int // a batch of this many bytes ends rather than wait for more input

	// want is how many lines the next batch may take: the caller sets it
	// to the rows its chunk still lacks.
	want int

	batch string
	ends  []int // line ends in batch, after the '\n'; ^end for a line with a '"'
	next  int   // index in ends of the next line
	start int   // where that line starts in batch
	rec   []string

	cr *csv.Reader // after the hand-over

	// arena, when set, holds the batches' text instead of a new string
	// each (a recycled chunk's memory; see ReportFile.Chunks).
	arena *reportMem
}

// csvBlock is the read size and initial buffer size. The buffer grows to
// hold a batch (cut at 8 blocks), or a line of any length.
const csvBlock = 512 << 10

// newCSVScanner returns a scanner reading block bytes at a time (tests
// use small blocks).
func newCSVScanner(r io.Reader, block int) *csvScanner {
	s := &csvScanner{r: r, buf: make([]byte, block), maxBatch: 8 * block, want: 1}
	for s.end < 3 && !s.eof && s.rerr == nil {
		s.fill()
	}
	if s.end >= 3 && string(s.buf[:3]) == "\ufeff" {
		s.pos = 3
	}
	return s
}

// fill reads once into the buffer, first moving the unconsumed input to
// its start, or growing it, when less than a quarter of it is free.
func (s *csvScanner) fill() {
	if len(s.buf)-s.end <= len(s.buf)/4 && s.pos > 0 {
		s.end = copy(s.buf, s.buf[s.pos:s.end])
		s.pos = 0
	}
	if len(s.buf)-s.end <= len(s.buf)/4 {
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for range 100 {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err == io.EOF {
			s.eof = true
			return
		}
		if err != nil {
			s.rerr = err
			return
		}
		if n > 0 {
			return
		}
	}
	s.rerr = io.ErrNoProgress // as bufio.Reader gives up
}

// Read returns the next record, as csv.Reader.Read; the slice is reused
// by the next call, the strings are not.
func (s *csvScanner) Read() ([]string, error) {
	for s.cr == nil {
		if s.next < len(s.ends) {
			e, quoted := s.ends[s.next], false
			if e < 0 {
				e, quoted = ^e, true
			}
			ln := s.batch[s.start:e]
			s.next++
			s.start = e
			if n := len(ln); n > 0 && ln[n-1] == '\n' {
				ln = ln[:n-1]
			}
			if n := len(ln); n > 0 && ln[n-1] == '\r' {
				ln = ln[:n-1]
			}
			if ln == "" {
				continue // encoding/csv skips empty lines
			}
			if quoted {
				s.rec = csvSplitQuoted(s.rec[:0], ln)
			} else {
				s.rec = csvSplitPlain(s.rec[:0], ln)
			}
			return s.rec, nil
		}
		if !s.nextBatch() {
			if s.pos == s.end && s.eof {
				return nil, io.EOF
			}
			s.handOver()
		}
	}
	rec, err := s.cr.Read()
	if pe, ok := err.(*csv.ParseError); ok {
		c := *pe
		c.StartLine += s.lines
		c.Line += s.lines
		err = &c
	}
	return rec, err
}

// nextBatch takes up to want lines the fast path can parse into a new
// batch string; false when there is none.
func (s *csvScanner) nextBatch() bool {
	if s.stop {
		return false
	}
	want := max(s.want, 1)
	s.ends = s.ends[:0]
	p := 0    // offset from s.pos of the next line
	from := 0 // offset from there of the bytes not yet searched for '\n'
	for len(s.ends) < want {
		rest := s.buf[s.pos+p : s.end]
		i := bytes.IndexByte(rest[from:], '\n')
		if i >= 0 {
			i += from
		} else if !s.eof && s.rerr == nil {
			if len(s.ends) > 0 && p >= s.maxBatch {
				break // a batch this big is big enough
			}
			from = len(rest)
			s.fill()
			continue
		}
		if i < 0 {
			if len(rest) == 0 || s.rerr != nil {
				break // the end, or a broken-off line for encoding/csv
			}
			i = len(rest) - 1 // the last line, without a '\n'
		}
		ln := rest[:i+1]
		e := p + len(ln)
		if bytes.IndexByte(ln, '"') >= 0 {
			if !csvLineOK(ln) {
				s.stop = true
				break
			}
			e = ^e
		}
		s.ends = append(s.ends, e)
		p += len(ln)
		from = 0
	}
	if p == 0 {
		return false
	}
	if s.arena != nil {
		s.batch = s.arena.text(s.buf[s.pos : s.pos+p])
	} else {
		s.batch = string(s.buf[s.pos : s.pos+p])
	}
	s.pos += p
	s.lines += len(s.ends)
	s.next, s.start = 0, 0
	return true
}

// handOver gives the rest of the input, from s.pos, to encoding/csv.
func (s *csvScanner) handOver() {
	rest := io.Reader(bytes.NewReader(s.buf[s.pos:s.end]))
	switch {
	case s.rerr != nil:
		rest = io.MultiReader(rest, csvErrReader{s.rerr})
	case !s.eof:
		rest = io.MultiReader(rest, s.r)
	}
	s.cr = csv.NewReader(rest)
	s.cr.FieldsPerRecord = -1
	s.cr.ReuseRecord = true
	s.buf, s.batch, s.ends = nil, "", nil
}

type csvErrReader struct{ err error }

func (e csvErrReader) Read([]byte) (int, error) { return 0, e.err }

// csvLineOK says whether a line with a '"' (with its "\n", if any) is
// a record on its own that encoding/csv parses without error.
func csvLineOK(b []byte) bool {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	for {
		if len(b) == 0 || b[0] != '"' {
			f := b
			i := bytes.IndexByte(b, ',')
			if i >= 0 {
				f = b[:i]
			}
			if bytes.IndexByte(f, '"') >= 0 {
				return false // a bare quote
			}
			if i < 0 {
				return true
			}
			b = b[i+1:]
			continue
		}
		b = b[1:]
		for {
			i := bytes.IndexByte(b, '"')
			if i < 0 {
				return false // runs on to the next line, or never closes
			}
			b = b[i+1:]
			switch {
			case len(b) == 0:
				return true
			case b[0] == '"':
				b = b[1:]
				continue
			case b[0] == ',':
				b = b[1:]
			default:
				return false // a stray quote
			}
			break
		}
	}
}

// csvSplitPlain cuts a line with no '"' (and no line end) into its fields.
// It looks for commas eight bytes at a time: the fields are short (True,
// False, dates), too short for a call to strings.IndexByte per field.
func csvSplitPlain(rec []string, ln string) []string {
	const ones, highs, commas = 0x0101010101010101, 0x8080808080808080, ',' * 0x0101010101010101
	start, i := 0, 0
	for ; i+8 <= len(ln); i += 8 {
		w := uint64(ln[i]) | uint64(ln[i+1])<<8 | uint64(ln[i+2])<<16 | uint64(ln[i+3])<<24 |
			uint64(ln[i+4])<<32 | uint64(ln[i+5])<<40 | uint64(ln[i+6])<<48 | uint64(ln[i+7])<<56
		x := w ^ commas // a zero byte for each ','
		// The high bit of each byte that is zero, exactly (no borrow
		// from one byte into the next).
		m := ^((x&^highs + (highs - ones)) | x | (highs - ones))
		for m != 0 {
			j := i + bits.TrailingZeros64(m)>>3
			rec = append(rec, ln[start:j])
			start = j + 1
			m &= m - 1
		}
	}
	for ; i < len(ln); i++ {
		if ln[i] == ',' {
			rec = append(rec, ln[start:i])
			start = i + 1
		}
	}
	return append(rec, ln[start:])
}

// csvSplitQuoted cuts a line that csvLineOK accepted into its fields; a
// quoted field is cut from the line unless it has "" escapes.
func csvSplitQuoted(rec []string, ln string) []string {
	for {
		if len(ln) == 0 || ln[0] != '"' {
			i := strings.IndexByte(ln, ',')
			if i < 0 {
				return append(rec, ln)
			}
			rec = append(rec, ln[:i])
			ln = ln[i+1:]
			continue
		}
		ln = ln[1:]
		var sb strings.Builder
		for {
			i := strings.IndexByte(ln, '"')
			if i+1 < len(ln) && ln[i+1] == '"' {
				sb.WriteString(ln[:i+1])
				ln = ln[i+2:]
				continue
			}
			f := ln[:i]
			if sb.Len() > 0 {
				sb.WriteString(f)
				f = sb.String()
			}
			rec = append(rec, f)
			ln = ln[i+1:]
			break
		}
		if len(ln) == 0 {
			return rec
		}
		ln = ln[1:] // the ','
	}
}
