#!/usr/bin/env bash
# The Windows stage of `make test` (issue 24; `make test-windows` runs it
# alone): Inventory Beacon's Windows builds, run under Wine on this Linux
# machine against the simulator, which runs natively.
#
#   1. The Windows test binaries (go test -c -race, GOOS=windows, cgo with
#      mingw-w64) of the platform-specific packages: storage (config saves
#      across processes, Credential Manager), internal/filelock (LockFileEx
#      across processes), schedule (run locks across processes, Go's
#      embedded zone database) and storage/inventory (SQLite, dead-process
#      detection), judged by `winetest verdict` (cmd/winetest).
#   2. The console beacon.exe (cmd/beacon cross-built with cgo, as the
#      README tells Windows users to build it for headless use) against
#      m365sim: a connection whose secret is written to Credential Manager
#      by one process and read by the next, `execute`, `export` (CSV with
#      BOM and CRLF, JSON), `list`, and a second `execute` while one is
#      importing ("already running", and `list` opening the database
#      meanwhile).
#   3. The packaged "Inventory Beacon.exe" (make package-windows, a GUI
#      program) started with --version, its output redirected to a file as
#      one would on Windows (a GUI program has no console to print to).
#
# Test scaffolding, never shipped: Go 1.26 programs need ProcessPrng from
# bcryptprimitives.dll, which Wine 8.0 (Debian 12's) lacks, so a small DLL
# built from scripts/wine/bcryptprimitives.c is put into the throw-away
# Wine prefix. Go 1.26's t.TempDir cleanup fails under Wine 8.0 with
# "Invalid function"; winetest verdict accepts exactly that and nothing
# else, and the stage first proves it does on a fixture
# (cmd/winetest/testdata/fixture).
#
# Wine's own output goes to log files, shown only when a step fails.
# BEACON_KEEP_WINE=1 keeps the work folder (prefix, logs) for a look;
# BEACON_WINE_PKGS="storage/inventory" runs only those packages' tests.
set -euo pipefail
export LANG=${LANG:-en_US.UTF-8}
self=$(realpath "$0")
cd "$(dirname "$self")/.."
root=$PWD
GO=${GO:-go}
TAGS=migrated_fynedo
package_exe=${BEACON_WINDOWS_EXE:-"dist/Inventory Beacon.exe"}
# The platform-specific packages whose tests run under Wine.
test_pkgs=(${BEACON_WINE_PKGS:-storage internal/filelock schedule storage/inventory})

for tool in "$GO" wine wineserver x86_64-w64-mingw32-gcc; do
  command -v "$tool" >/dev/null || { echo "test-windows: $tool is missing; run scripts/install-deps.sh" >&2; exit 1; }
done
[[ -f $package_exe ]] || { echo "test-windows: $package_exe is missing; run make package-windows" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/beacon-wine.XXXXXX")
logs=$work/logs bin=$work/bin
mkdir -p "$logs" "$bin"
# A prefix of our own for every run: nothing is shared with another run
# or with a Wine the developer uses. No display: nothing here opens a
# window, and Wine must not put one on a developer's desktop. No Mono or
# Gecko: they would be downloaded on first use.
export WINEPREFIX=$work/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" WINEARCH=win64
unset DISPLAY WAYLAND_DISPLAY
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # Stops this prefix's wineserver and its programs, no one else's.
  wineserver -k 2>/dev/null || true
  if [[ -n ${BEACON_KEEP_WINE:-} ]]; then echo "test-windows: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

stage_start=$SECONDS
fail() {
  echo "test-windows: FAIL: $*" >&2
  exit 1
}
# step NAME LOG COMMAND...: runs the command with its output in the log,
# prints the step's time, and on failure the log's end.
# The command runs in a subshell of its own with set -e (which a function
# called as an if's condition would ignore), in the background so that
# set -e holds there.
step() {
  local name=$1 log=$logs/$2 t=$SECONDS pid
  shift 2
  (
    set -e
    "$@"
  ) >"$log" 2>&1 &
  pid=$!
  if ! wait "$pid"; then
    echo "test-windows: FAIL: $name; the end of its output (all of it: BEACON_KEEP_WINE=1, $log):" >&2
    tail -n 60 "$log" >&2
    exit 1
  fi
  printf '  %-58s %4d s\n' "$name" $((SECONDS - t))
}
# winpath: the Windows name of a Linux path (Wine maps / to drive Z:).
winpath() { local p=${1//\//\\}; printf 'Z:%s' "$p"; }

echo "== Windows under Wine ($(wine --version 2>/dev/null))"

# The prefix boots while Go compiles.
wine wineboot -i >"$logs/wineboot.log" 2>&1 &
boot_pid=$!
pids+=("$boot_pid")

wgo() { GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc "$GO" "$@"; }
build_all() {
  set -e
  "$GO" build -o "$bin/m365sim" ./cmd/m365sim
  "$GO" build -tags $TAGS -o "$bin/winetest" ./cmd/winetest
  GOOS=windows GOARCH=amd64 CGO_ENABLED=0 "$GO" build -tags $TAGS -o "$bin/winetest.exe" ./cmd/winetest
  GOOS=windows GOARCH=amd64 CGO_ENABLED=0 "$GO" test -c -o "$bin/fixture.test.exe" ./cmd/winetest/testdata/fixture
  # The console program (no -H windowsgui): `beacon list` prints where
  # it was started, as a scheduled task or a service manager expects.
  wgo build -tags $TAGS -o "$bin/beacon.exe" ./cmd/beacon
  local p
  for p in "${test_pkgs[@]}"; do
    wgo test -c -race -tags $TAGS -o "$bin/${p//\//_}.test.exe" "./$p"
  done
}
step "build for Windows (cgo with mingw-w64, -race tests)" build.log build_all

wait "$boot_pid" || { tail -n 60 "$logs/wineboot.log" >&2; fail "wineboot -i"; }
shim() {
  local out
  x86_64-w64-mingw32-gcc -shared -O2 -Wall -Werror -s -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
    scripts/wine/bcryptprimitives.c scripts/wine/bcryptprimitives.def -lbcrypt
  # The shim works: a Go program starts.
  out=$(wine "$bin/winetest.exe" 2>&1) || true
  echo "$out"
  grep -q "usage: winetest" <<<"$out"
}
step "Wine prefix, with the ProcessPrng shim (test scaffolding)" prefix.log shim

# wine_test NAME EXE DIR ARGS...: one Windows test binary under Wine,
# through test2json, judged by winetest verdict. Runs in DIR (its
# package's folder, as go test does, for testdata; the verdict reads its
# sources there).
wine_test() {
  local name=$1 exe=$2 dir=$3
  shift 3
  (cd "$dir" && BEACON_REQUIRE_REAL=1 "$GO" tool test2json -p "$name" wine "$exe" -test.v=test2json "$@") >"$logs/$name.json" 2>&1 || true
  "$bin/winetest" verdict --dir "$dir" "$name" <"$logs/$name.json"
}

# The verdict's own check, on real Wine output: a test that only meets
# the cleanup failure passes, one that also fails a check does not.
check_verdict() {
  local fixture=$bin/fixture.test.exe dir=$root/cmd/winetest/testdata/fixture
  wine_test fixture-cleanup "$fixture" "$dir" -test.run '^TestCleanupOnly$' ||
    { echo "the verdict refused a test whose only failure is Wine's cleanup"; return 1; }
  if wine_test fixture-real "$fixture" "$dir" -test.run '^TestCleanupAndRealFailure$'; then
    echo "the verdict accepted a test that failed a check"
    return 1
  fi
  grep -q 'the failure the verdict must report' "$logs/fixture-real.json"
}
step "winetest verdict tells Wine's cleanup from real failures" verdict-check.log check_verdict

# The test binaries run side by side (go test runs packages so too);
# their verdicts are read after the CLI's checks.
t_tests=$SECONDS
declare -A test_pid
for p in "${test_pkgs[@]}"; do
  name=${p//\//_}
  wine_test "$name" "$bin/$name.test.exe" "$root/$p" -test.timeout 20m >"$logs/$name.verdict" 2>&1 &
  test_pid[$p]=$!
  pids+=("$!")
done

# The simulator, natively: a quick tenant for import and export, a slow
# one so that an import is still running when a second process starts.
start_sim() { # name args...
  local name=$1 i
  shift
  "$bin/m365sim" -ready-json "$@" >"$logs/sim-$name.log" 2>&1 &
  pids+=("$!")
  for i in $(seq 300); do
    if grep -qs '^m365sim-ready ' "$logs/sim-$name.log"; then
      sed -n 's/^m365sim-ready //p' "$logs/sim-$name.log" >"$work/sim-$name.json"
      return 0
    fi
    sleep 0.1
  done
  echo "test-windows: m365sim $name did not start:" >&2
  cat "$logs/sim-$name.log" >&2
  return 1
}
users=2000
start_sim quick -users $users -seed 1 || fail "the simulator"
# 800 ms a request: the import lasts several seconds, time enough for
# the polling below (each Wine start takes a fraction of a second).
start_sim slow -users 500 -seed 2 -latency 800ms || fail "the simulator"
beacon() { wine "$bin/beacon.exe" "$@"; }
cli_setup() {
  # One process writes the secrets to Credential Manager...
  wine "$bin/winetest.exe" connect --ready "$(winpath "$work/sim-quick.json")" --name Contoso
  wine "$bin/winetest.exe" connect --ready "$(winpath "$work/sim-slow.json")" --name Slow
  beacon list | tee "$work/list.txt"
  grep -q Contoso "$work/list.txt" && grep -q Slow "$work/list.txt"
}
step "config and Credential Manager secrets of two connections" cli-setup.log cli_setup

cli_execute() {
  # ...and another reads them to sign in.
  beacon execute Contoso --quiet
  beacon list --format json >"$work/list.json"
  cat "$work/list.json"
  grep -Eq '"status": *"succeeded"' "$work/list.json" || { echo "no succeeded run listed"; return 1; }
  grep -Eq "\"currentUsers\": *$users," "$work/list.json" || { echo "not $users users"; return 1; }
}
step "beacon execute: $users users imported from the simulator" cli-execute.log cli_execute

cli_export() {
  local csv=$work/users.csv json=$work/licenses.json n
  beacon export Contoso users --output "$(winpath "$csv")"
  # Excel on Windows: a byte-order mark and CRLF line ends (issue 24).
  [[ $(head -c 3 "$csv" | od -An -tx1 | tr -d ' ') == efbbbf ]] || { echo "users.csv has no byte-order mark"; return 1; }
  n=$(wc -l <"$csv")
  [[ $n -eq $((users + 1)) ]] || { echo "users.csv has $n lines, want $((users + 1))"; return 1; }
  [[ $(grep -c $'\r$' "$csv") -eq $n ]] || { echo "users.csv has lines without CRLF"; return 1; }
  beacon export Contoso licenses --format json --output "$(winpath "$json")"
  grep -q '"skuPartNumber"' "$json" || { echo "licenses.json has no SKU"; head -c 600 "$json"; return 1; }
}
step "beacon export: CSV (BOM, CRLF, every user) and JSON" cli-export.log cli_export

cli_concurrent() {
  local first i rc=0
  beacon execute Slow --quiet >"$logs/slow-first.log" 2>&1 &
  first=$!
  # Wait until the first import has begun (its run is listed as
  # running): `list` opens the database the import is writing.
  for i in $(seq 60); do
    beacon list --format json >"$work/list-during.json"
    grep -Eq '"status": *"running"' "$work/list-during.json" && break
    kill -0 "$first" 2>/dev/null || { echo "the first import ended before it was seen running"; cat "$logs/slow-first.log"; return 1; }
    sleep 0.2
  done
  grep -Eq '"status": *"running"' "$work/list-during.json" || { echo "the first import never showed as running"; return 1; }
  beacon execute Slow --quiet >"$work/second.txt" 2>&1 || rc=$?
  cat "$work/second.txt"
  [[ $rc -eq 1 ]] && grep -q "already running" "$work/second.txt" ||
    { echo "the second import exited $rc and did not say it was already running"; return 1; }
  kill -0 "$first" 2>/dev/null || { echo "the first import had ended: the check proved nothing"; return 1; }
  wait "$first" || { echo "the first import failed:"; cat "$logs/slow-first.log"; return 1; }
  beacon list --format json | tee "$work/list-after.json"
  grep -Eq '"currentUsers": *500,' "$work/list-after.json" || { echo "the first import left no snapshot of 500 users"; return 1; }
}
step "two processes: a second import while one runs is refused" cli-concurrent.log cli_concurrent

packaged_version() {
  local want got
  want=$(sed -n 's/^[[:space:]]*Name[[:space:]]*=[[:space:]]*"\(.*\)"/\1/p' FyneApp.toml | head -n1)
  want+=" $(sed -n 's/^[[:space:]]*Version[[:space:]]*=[[:space:]]*"\(.*\)"/\1/p' FyneApp.toml | head -n1)"
  want+=" (build $(sed -n 's/^[[:space:]]*Build[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' FyneApp.toml | head -n1))"
  x86_64-w64-mingw32-objdump -p "$package_exe" >"$work/headers.txt"
  grep -q 'Subsystem.*(Windows GUI)' "$work/headers.txt" || { echo "$package_exe is not a GUI program"; return 1; }
  wine "$package_exe" --version >"$work/version.txt"
  got=$(tr -d '\r' <"$work/version.txt")
  echo "$got"
  [[ $got == "$want" ]] || { echo "--version printed \"$got\", want \"$want\""; return 1; }
}
step "\"$package_exe\" --version" packaged.log packaged_version

failed=0
for p in "${test_pkgs[@]}"; do
  wait "${test_pid[$p]}" || failed=1
  cat "$logs/${p//\//_}.verdict"
done
printf '  %-58s %4d s\n' "test binaries (run side by side with the CLI checks)" $((SECONDS - t_tests))
[[ $failed -eq 0 ]] || fail "Windows tests under Wine (BEACON_KEEP_WINE=1 keeps their test2json output, in $logs)"
echo "== Windows stage passed in $((SECONDS - stage_start)) s"
