// Command bench is `make bench` (issue 7): it starts the Microsoft 365
// simulator with 10,000 / 100,000 / 200,000 users at 0 ms and 150 ms per
// request, runs `beacon execute` as a whole process in the sequential
// (reference) mode, the parallel mode, and the incremental mode after 1%
// of the users changed, and reports wall time, CPU time and peak RSS of
// that process (wait4's rusage), with the ratio to sequential.
//
// Run it inside scripts/session.sh: the connection's client secret goes
// to the keyring, as in real use.
//
//	scripts/session.sh go run ./cmd/bench [--quick] [--write BENCHMARKS.md]
//
// Issue 21 (scale.go): --growth imports 10,000 / 100,000 / 1,000,000 users
// (or --users) into SQLite and reports how wall, CPU per user, peak RSS and
// the database grow, then how long an incremental import takes after 0.1%
// of the users changed; --store postgres imports 100,000 users (or --users)
// into SQLite and into a throw-away PostgreSQL server (internal/pgtest),
// each followed by an incremental import after 0.1% change, and compares
// them (printing the PostgreSQL statements of the incremental run that
// take over 50 ms).
// Each writes its own section of the --write file.
//
// The process measured is cmd/bench/beaconcli (cmd/beacon/cli without
// the window, so GLFW need not be compiled); --bin or BEACON_BIN runs another
// binary with the same command line (e.g. bin/beacon). For investigating:
// BENCH_VERBOSE=1 shows each run's output with the stages' times,
// BENCH_SKIP_SEQUENTIAL=1 skips the slow reference runs, and
// BENCH_PROFILE_PARALLEL=file and BENCH_PROFILE_INCREMENTAL=file CPU-profile
// the parallel and incremental runs, BENCH_PROFILE_SIMULATOR=file the
// simulator during the parallel runs.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/cmd/internal/simconn"
	"github.com/inventorybeacon/beacon/connector/importer"
	"github.com/inventorybeacon/beacon/internal/cputime"
	"github.com/inventorybeacon/beacon/m365sim"
)

// concurrency, when set, is passed to the parallel runs.
var concurrency string

type result struct {
	users     int
	latency   time.Duration
	mode      string
	wall, cpu time.Duration
	// simCPU is the harness's own CPU during the run: the simulator
	// serving it, on the same two cores as the importer.
	simCPU time.Duration
	rssMB  float64
	note   string
}

func main() {
	quick := flag.Bool("quick", false, "10,000 users only")
	sizes := flag.String("users", "10000,100000,200000", "tenant sizes, comma separated")
	lats := flag.String("latency", "0ms,150ms", "per-request latencies, comma separated")
	bin := flag.String("bin", os.Getenv("BEACON_BIN"), "beacon binary (default: build cmd/bench/beaconcli, the CLI without the window)")
	write := flag.String("write", "", "update this markdown file's issue-7 section with the results")
	flag.StringVar(&concurrency, "concurrency", "", "--concurrency of the parallel runs (default: the importer's)")
	grow := flag.Bool("growth", false, "issue 21: full imports at --users (default 10000,100000,1000000) into SQLite, each followed by an incremental one after 0.1% change: cost growth with the tenant")
	store := flag.String("store", "", "issue 21: \"postgres\" imports --users (default 100000) into SQLite and into a throw-away PostgreSQL server, each followed by an incremental import after 0.1% change")
	flag.BoolVar(&pgStatements, "pg-statements", false, "with --store postgres: log every statement of the PostgreSQL runs and print the full import's and the incremental run's by summed duration (the runs take a little longer)")
	scaleLat := flag.Duration("scale-latency", 150*time.Millisecond, "per-request latency of the --growth and --store runs")
	flag.Parse()
	usersSet := false
	flag.Visit(func(f *flag.Flag) { usersSet = usersSet || f.Name == "users" })
	if *quick {
		*sizes, usersSet = "10000", true
	}
	if *grow || *store != "" {
		if err := runScale(*grow, *store, *sizes, usersSet, *scaleLat, *bin, *write); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*sizes, *lats, *bin, *write); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(sizes, lats, bin, write string) error {
	tmp, bin, err := prepare(bin)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var results []result
	for _, ls := range strings.Split(lats, ",") {
		lat, err := time.ParseDuration(strings.TrimSpace(ls))
		if err != nil {
			return err
		}
		for _, ns := range strings.Split(sizes, ",") {
			var n int
			if _, err := fmt.Sscan(strings.TrimSpace(ns), &n); err != nil {
				return fmt.Errorf("bad size %q", ns)
			}
			rs, err := one(tmp, bin, n, lat)
			if err != nil {
				return err
			}
			results = append(results, rs...)
		}
	}
	table := render(results)
	fmt.Print(table)
	if write != "" {
		return writeSection(write, "issue7", "make bench", table)
	}
	return nil
}

// prepare makes the run's temporary folder and, without a binary given,
// builds the CLI into it.
func prepare(bin string) (tmp, built string, err error) {
	tmp, err = os.MkdirTemp("", "beacon-bench-")
	if err != nil {
		return "", "", err
	}
	if bin == "" {
		bin = filepath.Join(tmp, "beaconcli")
		build := exec.Command("go", "build", "-o", bin, "./cmd/bench/beaconcli")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			os.RemoveAll(tmp)
			return "", "", fmt.Errorf("build the CLI: %w", err)
		}
	}
	return tmp, bin, nil
}

// runScale runs issue 21's growth and store runs, each into its section.
func runScale(grow bool, store, sizes string, usersSet bool, lat time.Duration, bin, write string) error {
	if store != "" && store != "postgres" {
		return fmt.Errorf("--store takes \"postgres\", not %q", store)
	}
	tmp, bin, err := prepare(bin)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	pick := func(def string) ([]int, error) {
		if usersSet {
			return parseSizes(sizes)
		}
		return parseSizes(def)
	}
	if grow {
		ns, err := pick("10000,100000,1000000")
		if err != nil {
			return err
		}
		head := machine() + " Command: `make bench-scale` (`go run ./cmd/bench --growth`), `execute --full` into SQLite against the simulator."
		incHead := machine() + " Command: `make bench-scale` (`go run ./cmd/bench --growth`), after each size's `execute --full`: 0.1% of the users changed in the simulator, then `execute` (incremental) into the same SQLite store; then a day later (simulator and beacon clocks a day on, the usage reports a day on as Microsoft refreshes them daily, so the run downloads them again) with another 0.1% of the users changed, `execute` again (\"reports refreshed\")."
		rows, err := growth(tmp, bin, ns, lat)
		if err != nil {
			return err
		}
		table := renderGrowth(head, rows)
		incTable := renderIncremental(incHead, rows)
		fmt.Print(table, "\n", incTable)
		if write != "" {
			if err := writeSection(write, "issue21-growth", "make bench-scale", table); err != nil {
				return err
			}
			if err := writeSection(write, "issue21-incremental", "make bench-scale", incTable); err != nil {
				return err
			}
		}
	}
	if store != "" {
		ns, err := pick("100000")
		if err != nil {
			return err
		}
		head := machine() + " Command: `go run ./cmd/bench --store postgres` (part of `make bench`), `execute --full` into SQLite, then into a throw-away PostgreSQL server (fsync off) on the same machine; after each, 0.1% of the users changed in the simulator, then `execute` (incremental) into the same store."
		rows, err := compareStores(tmp, bin, ns, lat)
		if err != nil {
			return err
		}
		table := renderStores(head, rows)
		fmt.Print(table)
		if write != "" {
			return writeSection(write, "issue21-store", "make bench", table)
		}
	}
	return nil
}

// one benchmarks a tenant of n users at one latency: sequential, parallel,
// then incremental after Mutate(1%).
func one(tmp, bin string, n int, lat time.Duration) ([]result, error) {
	fmt.Fprintf(os.Stderr, "bench: %d users, %s latency: starting the simulator\n", n, lat)
	sim, err := m365sim.Start(m365sim.Options{Users: n, Seed: 1, Latency: lat})
	if err != nil {
		return nil, err
	}
	defer sim.Close()
	dir, err := os.MkdirTemp(tmp, "config-")
	if err != nil {
		return nil, err
	}
	name := "Bench"
	if err := connect(dir, name, sim); err != nil {
		return nil, err
	}
	conc := importer.DefaultConcurrency
	if concurrency != "" {
		if _, err := fmt.Sscan(concurrency, &conc); err != nil {
			return nil, fmt.Errorf("bad --concurrency %q", concurrency)
		}
	}
	crit := criticalPath(sim, lat, conc)
	exec1 := func(mode string, args ...string) (result, error) {
		before := cputime.Self()
		r, err := execute(bin, dir, append([]string{"execute", name, quiet()}, args...))
		r.simCPU = cputime.Self() - before
		r.users, r.latency, r.mode = n, lat, mode
		if err == nil && mode == "parallel" && lat > 0 {
			r.note = fmt.Sprintf("critical path %.2f s", crit.Seconds())
		}
		fmt.Fprintf(os.Stderr, "bench: %d users, %s, %s: wall %.2f s, CPU %.2f s, peak RSS %.0f MB, simulator CPU %.2f s\n",
			n, lat, mode, r.wall.Seconds(), r.cpu.Seconds(), r.rssMB, r.simCPU.Seconds())
		return r, err
	}
	var seq result
	if os.Getenv("BENCH_SKIP_SEQUENTIAL") == "" {
		if seq, err = exec1("sequential", "--sequential"); err != nil {
			return nil, err
		}
	}
	parArgs := []string{"--full"}
	if concurrency != "" {
		parArgs = append(parArgs, "--concurrency", concurrency)
	}
	if p := os.Getenv("BENCH_PROFILE_SIMULATOR"); p != "" {
		// The simulator's side of the parallel run (it shares the cores).
		f, err := os.Create(p)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer f.Close()
	}
	if p := os.Getenv("BENCH_PROFILE_PARALLEL"); p != "" {
		os.Setenv("BEACON_CPUPROFILE", p)
	}
	par, err := exec1("parallel", parArgs...)
	os.Unsetenv("BEACON_CPUPROFILE")
	if os.Getenv("BENCH_PROFILE_SIMULATOR") != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return nil, err
	}
	sum := sim.Tenant().Mutate(2, 0.01)
	if p := os.Getenv("BENCH_PROFILE_INCREMENTAL"); p != "" {
		os.Setenv("BEACON_CPUPROFILE", p)
		defer os.Unsetenv("BEACON_CPUPROFILE")
	}
	inc, err := exec1("incremental", "")
	if err != nil {
		return nil, err
	}
	inc.note = fmt.Sprintf("after 1%%: +%d −%d users, %d license and %d attribute changes", sum.Added, sum.Deleted, sum.LicenseChanges, sum.AttributeChanges)
	return []result{seq, par, inc}, nil
}

// quiet is execute's --quiet, but for BENCH_VERBOSE, which shows the
// stages' progress with their times.
func quiet() string {
	if os.Getenv("BENCH_VERBOSE") != "" {
		return ""
	}
	return "--quiet"
}

// connect writes a Client Credentials connection to the simulator's
// confidential app into a fresh config folder, its secret to the keyring.
func connect(dir, name string, sim *m365sim.Server) error {
	id, secret := sim.ClientCredentialsApp()
	return simconn.Connect(dir, name, simconn.App{
		TokenEndpoint: sim.URL() + "/" + sim.Tenant().ID + "/oauth2/v2.0/token",
		GraphEndpoint: sim.GraphEndpoint(),
		ClientID:      id,
		Secret:        secret,
	})
}

// execute runs the binary and measures it with wait4's rusage.
func execute(bin, dir string, args []string, env ...string) (result, error) {
	var clean []string
	for _, a := range args {
		if a != "" {
			clean = append(clean, a)
		}
	}
	argv := append([]string{bin, "--config-dir", dir}, clean...)
	// Go starts children with vfork, and Linux carries the high-water
	// mark of the memory a child shared until exec into its ru_maxrss: the
	// harness's own RSS (the simulator holds the tenant) would show up as
	// the importer's. GNU time forks a copy of its own small process, so
	// its %M is the importer's peak RSS alone.
	timeOut := ""
	if _, err := os.Stat("/usr/bin/time"); err == nil {
		f, err := os.CreateTemp("", "bench-time-")
		if err != nil {
			return result{}, err
		}
		f.Close()
		timeOut = f.Name()
		defer os.Remove(timeOut)
		argv = append([]string{"/usr/bin/time", "-o", timeOut, "-f", "%e %U %S %M"}, argv...)
	}
	cmd := exec.CommandContext(context.Background(), argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.Env = append(append(os.Environ(), "LANG=en_US.UTF-8"), env...)
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var r result
	r.wall = wall
	if cmd.ProcessState != nil {
		r.cpu = cputime.Child(cmd.ProcessState)
		r.rssMB = cputime.ChildPeakMB(cmd.ProcessState)
	}
	if timeOut != "" {
		b, _ := os.ReadFile(timeOut)
		var el, user, sys float64
		var kb int64
		// The last line: time puts "Command exited with non-zero status"
		// before it on failure.
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if _, serr := fmt.Sscan(lines[len(lines)-1], &el, &user, &sys, &kb); serr == nil {
			r.cpu = time.Duration((user + sys) * float64(time.Second))
			r.rssMB = float64(kb) / 1024
		}
	}
	if os.Getenv("BENCH_VERBOSE") != "" {
		fmt.Fprint(os.Stderr, out.String())
	}
	if err != nil {
		return r, fmt.Errorf("%s %s: %w\n%s", bin, strings.Join(clean, " "), err, out.String())
	}
	if !strings.Contains(out.String(), "succeeded") {
		return r, fmt.Errorf("the import did not succeed:\n%s", out.String())
	}
	return r, nil
}

// criticalPath is the longest chain of requests the parallel mode cannot
// overlap, times the latency. The token comes first; then the licenses and
// the counting round go at once (the users are staged once both are in);
// then each shard's pages come one after another. A shard that
// importer.SplitShard splits costs one more round of counts, then its
// longest sub-shard's pages. The other stages (applications: 2 pages; each
// report: 302 + download) are shorter.
func criticalPath(sim *m365sim.Server, lat time.Duration, concurrency int) time.Duration {
	const pageSize = 999
	t := sim.Tenant()
	t.RLock()
	per := map[string]int{}
	sub := map[string]map[string]int{}
	for _, u := range t.Users {
		key := strings.ToLower(u.UserPrincipalName)
		per[key[:1]]++
		if sub[key[:1]] == nil {
			sub[key[:1]] = map[string]int{}
		}
		sub[key[:1]][key[:2]]++
	}
	t.RUnlock()
	pages := func(n int) int { return (n + pageSize - 1) / pageSize }
	total := 0
	for _, n := range per {
		total += pages(n)
	}
	longest := 0
	for p, n := range per {
		chain := 2 + pages(n)
		if importer.SplitShard(n, total, concurrency, pageSize) {
			chain = 0
			for _, m := range sub[p] {
				chain = max(chain, 3+pages(m))
			}
		}
		longest = max(longest, chain)
	}
	return time.Duration(longest) * lat
}

func render(rs []result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Machine: %d cores (`nproc`), `%s`, %s; measured %s.\n\n", runtime.NumCPU(), cpuModel(), runtime.Version(), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "| users | latency | mode | wall | × faster than sequential | CPU | CPU per user | peak RSS | simulator CPU | notes |\n|---|---|---|---|---|---|---|---|---|---|\n")
	var seq result
	for _, r := range rs {
		if r.users == 0 {
			continue // a mode that was skipped (BENCH_SKIP_SEQUENTIAL)
		}
		if r.mode == "sequential" {
			seq = r
		}
		ratio := "1.0"
		if r.mode != "sequential" && r.wall > 0 && seq.users == r.users && seq.latency == r.latency {
			ratio = fmt.Sprintf("%.1f", seq.wall.Seconds()/r.wall.Seconds())
		} else if r.mode != "sequential" {
			ratio = "—"
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %.2f s | %s | %.2f s | %.1f µs | %.0f MB | %.2f s | %s |\n", r.users, r.latency, r.mode,
			r.wall.Seconds(), ratio, r.cpu.Seconds(), float64(r.cpu.Microseconds())/float64(r.users), r.rssMB, r.simCPU.Seconds(), r.note)
	}
	return b.String()
}

// writeSection replaces the table generated for key in path (or appends
// it at the end), leaving the rest of the file as it is.
func writeSection(path, key, by, table string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	beginMark := "<!-- bench:" + key + ":begin (written by " + by + ") -->"
	endMark := "<!-- bench:" + key + ":end -->"
	s := string(old)
	block := beginMark + "\n\n" + table + "\n" + endMark + "\n"
	if i, j := strings.Index(s, beginMark), strings.Index(s, endMark); i >= 0 && j > i {
		s = s[:i] + block + s[j+len(endMark)+1:]
	} else {
		s += "\n" + block
	}
	return os.WriteFile(path, []byte(s), 0o644)
}
