package graph

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"testing/iotest"

	"github.com/inventorybeacon/beacon/storage/inventory"
)

// FuzzParseReportFast: on any bytes, ParseReport and the encoding/csv
// reference must hand over the same rows in the same chunks and fail
// with the same error, whatever the reader and the block size.
func FuzzParseReportFast(f *testing.F) {
	for _, c := range handCSVs {
		if len(c.csv) < 4096 {
			f.Add([]byte(c.csv))
		}
	}
	f.Add([]byte(activeCSV))
	f.Add(manyRows(30, 7, "\r\n"))
	spec := testSpec(inventory.ReportActiveUsers)
	f.Fuzz(func(t *testing.T, data []byte) {
		// Fewer readers and blocks than diffParse, to keep execs quick.
		want := runParse(parseReportReference, bytes.NewReader(data), spec, 0)
		for _, block := range []int{csvBlock, 1, 3, 16} {
			got := runParse(fastParse(block), bytes.NewReader(data), spec, 0)
			compareResults(t, fmt.Sprintf("block %d", block), got, want)
		}
		compareResults(t, "recycled", runParse(recycledParse(3), bytes.NewReader(data), spec, 0), want)
		got := runParse(fastParse(2), iotest.OneByteReader(bytes.NewReader(data)), spec, 0)
		compareResults(t, "one byte reads", got, want)
		broken := func() io.Reader {
			return io.MultiReader(bytes.NewReader(data[:len(data)/2]), csvErrReader{errBrokenRead})
		}
		want = runParse(parseReportReference, broken(), spec, 0)
		for _, block := range []int{csvBlock, 5} {
			got := runParse(fastParse(block), broken(), spec, 0)
			compareResults(t, fmt.Sprintf("read error, block %d", block), got, want)
		}
		want = runParse(parseReportReference, bytes.NewReader(data), spec, 1)
		got = runParse(fastParse(7), bytes.NewReader(data), spec, 1)
		compareResults(t, "fn error", got, want)
	})
}
