package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func row(store string, users int, wall, cpu time.Duration) scaleRow {
	return scaleRow{result: result{users: users, latency: 150 * time.Millisecond, wall: wall, cpu: cpu, rssMB: 100}, store: store, dbSize: 139 << 20}
}

// CPU per user is compared with the 100,000-user row's, whatever the order.
func TestRenderGrowthRatio(t *testing.T) {
	out := renderGrowth("head", []scaleRow{
		row("SQLite", 10000, time.Second, 200*time.Millisecond),     // 20 µs
		row("SQLite", 1000000, 50*time.Second, 72*time.Second),      // 72 µs
		row("SQLite", 100000, 5*time.Second, 2800*time.Millisecond), // 28 µs
	})
	for _, want := range []string{
		"| 10000 | 150ms | 1.00 s | 0.20 s | 20.0 µs | 0.71 | 100 MB | 139 MB |",
		"| 1000000 | 150ms | 50.00 s | 72.00 s | 72.0 µs | 2.57 |",
		"| 100000 | 150ms | 5.00 s | 2.80 s | 28.0 µs | 1.00 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
	if out := renderGrowth("head", []scaleRow{row("SQLite", 10000, time.Second, time.Second)}); !strings.Contains(out, "| 100.0 µs | — |") {
		t.Errorf("without a 100,000-user row the ratio should be —:\n%s", out)
	}
}

// The incremental rows get their own table, beside the full import of the
// same size's database, and stay out of the growth table and its ratio.
func TestRenderIncremental(t *testing.T) {
	inc := row("SQLite", 100000, 2*time.Second, 1500*time.Millisecond)
	inc.mode, inc.note, inc.dbSize, inc.rssMB = "incremental", "+30 −20 users, 30 license and 20 attribute changes", 280<<20, 90
	full := row("SQLite", 100000, 5*time.Second, 2800*time.Millisecond)
	full.mode = "full"
	orphan := row("SQLite", 10000, time.Second, time.Second)
	orphan.mode = "incremental"
	rows := []scaleRow{full, inc, orphan}
	out := renderIncremental("head", rows)
	for _, want := range []string{
		"| 100000 | 150ms | +30 −20 users, 30 license and 20 attribute changes | 2.00 s | 1.50 s | 90 MB | 139 MB | 280 MB |",
		"| 10000 | 150ms |  | 1.00 s | 1.00 s | 100 MB | — | 139 MB |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "| 5.00 s |") {
		t.Errorf("the full import is in the incremental table:\n%s", out)
	}
	g := renderGrowth("head", rows)
	if strings.Contains(g, "| 2.00 s |") || strings.Contains(g, "| 1.00 s |") || !strings.Contains(g, "| 100000 | 150ms | 5.00 s | 2.80 s | 28.0 µs | 1.00 |") {
		t.Errorf("the growth table should hold the full import alone, its ratio against it:\n%s", g)
	}
}

// PostgreSQL's wall time is compared with SQLite's at the same size and
// run: the full import with the full import, the incremental with the
// incremental.
func TestRenderStoresRatio(t *testing.T) {
	mode := func(r scaleRow, m, note string) scaleRow { r.mode, r.note = m, note; return r }
	out := renderStores("head", []scaleRow{
		mode(row("SQLite", 100000, 10*time.Second, time.Second), "full", ""),
		mode(row("SQLite", 100000, 2*time.Second, time.Second), "incremental", "+1 −1 users"),
		mode(row("PostgreSQL", 100000, 13*time.Second, time.Second), "full", ""),
		mode(row("PostgreSQL", 100000, 3*time.Second, time.Second), "incremental", "+1 −1 users"),
		mode(row("PostgreSQL", 10000, 2*time.Second, time.Second), "full", ""),
	})
	for _, want := range []string{"| 100000 | 150ms | SQLite | full | 10.00 s | 1.00 |", "| 100000 | 150ms | PostgreSQL | full | 13.00 s | 1.30 |",
		"| 100000 | 150ms | PostgreSQL | incremental (+1 −1 users) | 3.00 s | 1.50 |", "| 10000 | 150ms | PostgreSQL | full | 2.00 s | — |"} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
}

// Each generated section is replaced in place; the text around it and the
// other generated sections stay as they were.
func TestWriteSectionKeepsOthers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	if err := os.WriteFile(path, []byte("# Benchmarks\n\nhand-written\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	steps := []struct{ key, table string }{
		{"issue7", "seven v1\n"}, {"issue21-growth", "growth v1\n"}, {"issue21-store", "store v1\n"}, {"issue21-growth", "growth v2\n"},
	}
	for _, s := range steps {
		if err := writeSection(path, s.key, "make bench", s.table); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(path)
	got := string(b)
	want := "# Benchmarks\n\nhand-written\n" +
		"\n<!-- bench:issue7:begin (written by make bench) -->\n\nseven v1\n\n<!-- bench:issue7:end -->\n" +
		"\n<!-- bench:issue21-growth:begin (written by make bench) -->\n\ngrowth v2\n\n<!-- bench:issue21-growth:end -->\n" +
		"\n<!-- bench:issue21-store:begin (written by make bench) -->\n\nstore v1\n\n<!-- bench:issue21-store:end -->\n"
	if got != want {
		t.Errorf("the file is\n%s\nwant\n%s", got, want)
	}
}
