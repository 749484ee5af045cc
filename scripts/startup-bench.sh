#!/usr/bin/env bash
# Measures how fast Inventory Beacon starts and how much memory it holds
# when idle, under Xvfb (scripts/session.sh), with --demo and without.
#
# For each run: a fresh configuration folder (a first start), the clock
# starts just before the process is started, "mapped" is when its window is
# visible (xdotool), "first frame" is when a capture of the window shows
# more than 16 colours (the window is mapped before anything is drawn), and
# "idle RSS" is VmRSS from /proc/PID/status 5 s after the first frame.
#
#   scripts/startup-bench.sh                # 10 runs of each, bin/beacon
#   RUNS=5 BEACON_BIN=/tmp/x/usr/bin/beacon scripts/startup-bench.sh   # e.g. the packaged binary
#
# The first frame is timed when the capture that shows it has finished, so
# the figure errs on the slow side by at most the time since the previous,
# still blank, capture (printed as the uncertainty). The page cache is warm
# after the first run: this is the start of a new process, not the first
# start after a boot.
set -euo pipefail
export LANG=en_US.UTF-8
if [[ -n ${BEACON_BIN:-} ]]; then BEACON_BIN=$(realpath -m "$BEACON_BIN"); fi
self=$(realpath "$0")
cd "$(dirname "$self")/.."
BEACON_BIN=${BEACON_BIN:-bin/beacon}
RUNS=${RUNS:-10}
IDLE_SECONDS=${IDLE_SECONDS:-5}

if [[ ${1:-} != --inner ]]; then
  [[ -x $BEACON_BIN ]] || { echo "startup-bench: $BEACON_BIN is missing; run make build (or make startup-bench)" >&2; exit 1; }
  for tool in Xvfb xdotool xwd convert dbus-run-session gnome-keyring-daemon; do
    command -v "$tool" >/dev/null || { echo "startup-bench: $tool is missing; run scripts/install-deps.sh" >&2; exit 1; }
  done
  # Always our own fresh Xvfb (never the user's desktop), whose pid we know;
  # scripts/session.sh keeps DISPLAY and adds D-Bus and the keyring.
  unset DISPLAY WAYLAND_DISPLAY
  # Xvfb runs under another name (a symlink), so that a concurrent
  # scripts/session.sh, which stops "the newest Xvfb" (pgrep -n -x Xvfb)
  # when it ends, cannot take ours for its own.
  xdir=$(mktemp -d "${TMPDIR:-/tmp}/beacon-bench-x.XXXXXX")
  ln -s "$(command -v Xvfb)" "$xdir/Xvfb-beacon"
  exec 3< <(exec "$xdir/Xvfb-beacon" -displayfd 1 -screen 0 1280x1024x24 -nolisten tcp 2>"$xdir/log")
  xvfb_pid=$!
  trap 'kill "$xvfb_pid" 2>/dev/null || true; rm -rf "$xdir"' EXIT
  read -r -t 20 disp <&3 || { echo "startup-bench: Xvfb did not start" >&2; cat "$xdir/log" >&2; exit 1; }
  rc=0
  DISPLAY=":$disp" BEACON_BIN=$(realpath "$BEACON_BIN") scripts/session.sh "$self" --inner || rc=$?
  if ((rc != 0)) && ! kill -0 "$xvfb_pid" 2>/dev/null; then
    echo "startup-bench: the X server :$disp (pid $xvfb_pid) went away during the runs; its log:" >&2
    cat "$xdir/log" >&2
  fi
  exit "$rc"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/beacon-bench.XXXXXX")
pid=
stop_app() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; fi
}
trap 'stop_app; rm -rf "$work"' EXIT

ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }
# median and max of the numbers on stdin
stats() { sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "median %g, max %g", m, v[NR] }'; }

echo "startup-bench: $BEACON_BIN, $RUNS runs each, on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for mode in demo plain; do
  args=()
  [[ $mode == demo ]] && args=(--demo)
  : >"$work/$mode.map" ; : >"$work/$mode.frame" ; : >"$work/$mode.rss" ; : >"$work/$mode.res"
  for run in $(seq "$RUNS"); do
    config=$work/config-$mode-$run
    mkdir -p "$config"
    t0=$EPOCHREALTIME
    "$BEACON_BIN" "${args[@]}" --config-dir "$config" >"$work/app.log" 2>&1 &
    pid=$!
    wid=
    until wid=$(xdotool search --onlyvisible --name '^Inventory Beacon$' 2>/dev/null | head -n1) && [[ -n $wid ]]; do
      kill -0 "$pid" 2>/dev/null || { echo "startup-bench: the app exited; it said:" >&2; cat "$work/app.log" >&2; exit 1; }
      (($(ms "$t0" "$EPOCHREALTIME") < 60000)) || { echo "startup-bench: no window after 60 s" >&2; cat "$work/app.log" >&2; exit 1; }
      sleep 0.005
    done
    t_map=$EPOCHREALTIME
    painted=0
    t_shot=$t_map
    for _ in $(seq 1000); do
      t_prev=$t_shot t_shot=$EPOCHREALTIME
      xwd -silent -id "$wid" >"$work/shot.xwd" 2>/dev/null || continue
      t_frame=$EPOCHREALTIME
      # A blank window compresses to almost nothing; only then is the slower
      # colour count (the smoke test's "more than 16 colours") worth doing.
      (($(gzip -1 -c "$work/shot.xwd" | wc -c) > 20000)) || continue
      if (($(convert "xwd:$work/shot.xwd" -format '%k' info:) > 16)); then painted=1; break; fi
    done
    ((painted)) || { echo "startup-bench: the window stayed blank" >&2; cat "$work/app.log" >&2; exit 1; }
    sleep "$IDLE_SECONDS"
    rss=$(awk '/^VmRSS:/ { print int($2 / 1024) }' "/proc/$pid/status")
    anon=$(awk '/^RssAnon:/ { print int($2 / 1024) }' "/proc/$pid/status")
    stop_app
    ms "$t0" "$t_map" >>"$work/$mode.map"; echo >>"$work/$mode.map"
    ms "$t0" "$t_frame" >>"$work/$mode.frame"; echo >>"$work/$mode.frame"
    ms "$t_prev" "$t_frame" >>"$work/$mode.res"; echo >>"$work/$mode.res"
    echo "$rss" >>"$work/$mode.rss"
    echo "startup-bench: $mode run $run: mapped $(tail -n1 "$work/$mode.map") ms, first frame $(tail -n1 "$work/$mode.frame") ms, idle RSS $rss MiB (anonymous $anon MiB)" >&2
  done
done

echo
echo "Startup of $BEACON_BIN ($RUNS runs each, fresh config folder each run; first-frame uncertainty $(cat "$work"/*.res | stats) ms)"
echo
echo "| | window mapped (ms) | first frame (ms) | idle RSS after ${IDLE_SECONDS} s (MiB) |"
echo "|---|---|---|---|"
for mode in demo plain; do
  label="beacon"
  [[ $mode == demo ]] && label="beacon --demo"
  echo "| \`$label\` | $(stats <"$work/$mode.map") | $(stats <"$work/$mode.frame") | $(stats <"$work/$mode.rss") |"
done
