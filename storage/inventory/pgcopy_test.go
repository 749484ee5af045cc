package inventory

import (
	"errors"
	"io"
	"testing"
)

// TestCopyStreamEndedReadsNothing: pgx's CopyFrom returns without
// waiting for the goroutine that reads the COPY's data when the
// connection fails, and the writer then reuses the rows' buffers. A Read
// after end must neither fill a row nor touch the encoding buffer, which
// went back to copyBufs.
func TestCopyStreamEndedReadsNothing(t *testing.T) {
	filled := 0
	r := &copyStream{n: 1000, row: make([]any, 2), buf: []byte(copyHeader), fill: func(i int, row []any) {
		filled++
		row[0], row[1] = int64(i), "a value"
	}}
	p := make([]byte, 64)
	if n, err := r.Read(p); err != nil || n != len(p) {
		t.Fatalf("first Read: %d bytes, %v", n, err)
	}
	if filled == 0 {
		t.Fatal("the first Read filled no row")
	}
	before, buf := filled, r.buf
	if err := r.end(); err != nil {
		t.Fatalf("end: %v", err)
	}
	n, err := r.Read(make([]byte, 1<<16))
	if !errors.Is(err, errCopyEnded) || n != 0 {
		t.Fatalf("Read after end: %d bytes, %v; want 0 and errCopyEnded", n, err)
	}
	if filled != before {
		t.Errorf("Read after end filled %d more rows", filled-before)
	}
	if len(r.buf) != len(buf) || &r.buf[0] != &buf[0] {
		t.Error("Read after end changed the encoding buffer")
	}
}

// TestCopyStreamWholeData: the stream's bytes are the header, each row
// (field count, then each field's length and bytes), and the trailer,
// however small the reads.
func TestCopyStreamWholeData(t *testing.T) {
	r := &copyStream{n: 2, row: make([]any, 3), buf: []byte(copyHeader), fill: func(i int, row []any) {
		row[0], row[1], row[2] = int64(i), i == 1, nil
	}}
	var got []byte
	p := make([]byte, 7)
	for {
		n, err := r.Read(p)
		got = append(got, p[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	row := func(i, b byte) string {
		return "\x00\x03" + "\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00" + string(rune(i)) +
			"\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00" + string(rune(b)) + "\xff\xff\xff\xff"
	}
	want := copyHeader + row(0, 0) + row(1, 1) + "\xff\xff"
	if string(got) != want {
		t.Errorf("stream\n%q\nwant\n%q", got, want)
	}
	if err := r.end(); err != nil {
		t.Errorf("end: %v", err)
	}
}
