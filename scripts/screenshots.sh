#!/usr/bin/env bash
# Takes the README's screenshots from the real app under Xvfb, at
# FYNE_SCALE=1 and FYNE_SCALE=2:
#
#   docs/screenshots/main-window@1x.png, main-window@2x.png
#   docs/screenshots/dialog@1x.png,      dialog@2x.png
#   docs/screenshots/optimization.png    (FYNE_SCALE=1)
#
# It starts `bin/beacon --demo` with a fresh configuration folder, captures
# the main window, then clicks New and picks PowerShell in its menu (the
# way a user opens "Create PowerShell Source Connection") and captures the
# dialog. Each step is checked by comparing captures, so a changed layout
# fails loudly instead of producing a wrong picture.
#
# The Optimization page needs an import of the demo tenant. While a demo
# window runs the simulator, the script signs in with `beacon generate`,
# whose $BROWSER is scripts/sim-browser.sh (it clicks through the
# simulator's sign-in pages as the demo administrator), and imports with
# `beacon execute`, both on the window's configuration folder. It adds a
# few list prices to that configuration, so the page shows money, and
# starts the window again on the Optimization page the way the window
# reopens on the last page shown: Fyne's preferences (in a folder of the
# run's own, XDG_CONFIG_HOME) name it.
#
#   scripts/screenshots.sh              (make screenshots builds bin/beacon first)
#   BEACON_BIN=path/to/beacon scripts/screenshots.sh
#   FYNE_THEME=light scripts/screenshots.sh     # force a theme
#
# The New button is found at NEW_X,NEW_Y in Fyne units (scaled by
# FYNE_SCALE) from the window's top left corner; change them if the toolbar
# moves. A prompt shown at start (the demo's "Demo tenant ready") is closed
# with Tab, Space before the main window is captured.
set -euo pipefail
export LANG=en_US.UTF-8
if [[ -n ${BEACON_BIN:-} ]]; then BEACON_BIN=$(realpath -m "$BEACON_BIN"); fi
self=$(realpath "$0")
cd "$(dirname "$self")/.."
BEACON_BIN=${BEACON_BIN:-bin/beacon}
NEW_X=${NEW_X:-232} NEW_Y=${NEW_Y:-88}
OUT=${OUT:-docs/screenshots}

if [[ ${1:-} != --inner ]]; then
  [[ -x $BEACON_BIN ]] || { echo "screenshots: $BEACON_BIN is missing; run make build (or make screenshots)" >&2; exit 1; }
  for tool in Xvfb xdotool xwd convert compare identify dbus-run-session gnome-keyring-daemon curl; do
    command -v "$tool" >/dev/null || { echo "screenshots: $tool is missing; run scripts/install-deps.sh" >&2; exit 1; }
  done
  # Our own Xvfb, never the user's desktop (its theme and window manager
  # would change the pictures), and large enough for the 2x window
  # (2048x1400): X cannot capture the part of a window that is off screen.
  unset DISPLAY WAYLAND_DISPLAY
  # Xvfb runs under another name (a symlink), so that a concurrent
  # scripts/session.sh, which stops "the newest Xvfb" (pgrep -n -x Xvfb)
  # when it ends, cannot take ours for its own.
  xdir=$(mktemp -d "${TMPDIR:-/tmp}/beacon-shots-x.XXXXXX")
  ln -s "$(command -v Xvfb)" "$xdir/Xvfb-beacon"
  exec 3< <(exec "$xdir/Xvfb-beacon" -displayfd 1 -screen 0 2560x1600x24 -nolisten tcp 2>"$xdir/log")
  xvfb_pid=$!
  trap 'kill "$xvfb_pid" 2>/dev/null || true; rm -rf "$xdir"' EXIT
  read -r -t 20 disp <&3 || { echo "screenshots: Xvfb did not start" >&2; cat "$xdir/log" >&2; exit 1; }
  export DISPLAY=":$disp"
  # scripts/session.sh adds the private D-Bus session and keyring, and
  # keeps our DISPLAY.
  BEACON_BIN=$(realpath "$BEACON_BIN") scripts/session.sh "$self" --inner
  exit
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/beacon-shots.XXXXXX")
pid=
stop_app() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; fi
}
trap 'stop_app; rm -rf "$work"' EXIT
mkdir -p "$OUT"

capture() { xwd -silent -id "$1" | convert xwd:- -define png:exclude-chunks=date,time "png:$2"; }
colours() { identify -format '%k' "$1"; }
# Fraction of pixels (in per cent) that differ between two captures.
changed() {
  local n
  n=$(compare -metric AE "$1" "$2" null: 2>&1 || true)
  awk -v n="$n" -v a="$(identify -format '%[fx:w*h]' "$1")" 'BEGIN { printf "%.1f", 100 * n / a }'
}
# Waits until two captures 0.5 s apart are the same, so nothing is still
# loading or animating, and leaves the last one in $2.
settle() {
  local wid=$1 out=$2 prev=$work/prev.png
  capture "$wid" "$prev"
  for _ in $(seq 20); do
    sleep 0.5
    capture "$wid" "$out"
    [[ $(changed "$prev" "$out") == 0.0 ]] && return 0
    cp "$out" "$prev"
  done
  echo "screenshots: warning: the window kept changing; taking the last capture" >&2
}
# Clicks New and tells whether its menu appeared ($d: per cent changed).
open_menu() {
  local wid=$1 scale=$2
  xdotool mousemove --window "$wid" $((NEW_X * scale)) $((NEW_Y * scale)) click 1
  sleep 0.5
  capture "$wid" "$work/menu.png"
  d=$(changed "$work/main.png" "$work/menu.png")
  awk -v d="$d" 'BEGIN { exit !(d >= 0.5 && d < 20) }'
}
fail() {
  echo "screenshots: FAIL: $*" >&2
  [[ -s $work/app.log ]] && { echo "screenshots: the app said:" >&2; cat "$work/app.log" >&2; }
  exit 1
}

for scale in 1 2; do
  config=$work/config-$scale
  mkdir -p "$config"
  # The pointer stays off the window, so no hover highlights show.
  xdotool mousemove 2559 1599
  FYNE_SCALE=$scale "$BEACON_BIN" --demo --config-dir "$config" >"$work/app.log" 2>&1 &
  pid=$!
  wid=$(timeout 60 xdotool search --sync --onlyvisible --name '^Inventory Beacon$' | head -n1) || true
  [[ -n $wid ]] || fail "the window never mapped at FYNE_SCALE=$scale"
  # No window manager under Xvfb: give the window the keyboard focus.
  xdotool windowfocus --sync "$wid" 2>/dev/null || xdotool windowfocus "$wid"
  for _ in $(seq 100); do
    capture "$wid" "$work/main.png"
    (($(colours "$work/main.png") > 16)) && break
    sleep 0.2
  done
  (($(colours "$work/main.png") > 16)) || fail "the window stayed blank at FYNE_SCALE=$scale"
  settle "$wid" "$work/main.png"

  # New opens a menu: SQL Server, Spreadsheet, PowerShell, Other. If it
  # does not, something modal is in the way (e.g. a prompt shown at start):
  # Tab moves the focus into it and Space presses its first button.
  opened=0
  for _ in 1 2 3; do
    if open_menu "$wid" "$scale"; then opened=1; break; fi
    xdotool key Tab space
    xdotool mousemove 2559 1599
    sleep 0.5
    settle "$wid" "$work/main.png"
  done
  ((opened)) || fail "clicking New at ($NEW_X,$NEW_Y)x$scale did not open its menu ($d% of the window changed); set NEW_X/NEW_Y to the New button's position in Fyne units"
  # Close the menu again for a clean picture of the main window.
  xdotool key Escape
  xdotool mousemove 2559 1599
  sleep 0.5
  settle "$wid" "$work/main.png"
  cp "$work/main.png" "$OUT/main-window@${scale}x.png"
  echo "screenshots: wrote $OUT/main-window@${scale}x.png ($(identify -format '%wx%h' "$work/main.png"))" >&2

  open_menu "$wid" "$scale" || fail "New did not open its menu the second time ($d% of the window changed)"
  # The menu takes the keyboard focus; Down x3 reaches PowerShell, Return picks it.
  xdotool key Down Down Down Return
  xdotool mousemove 2559 1599
  sleep 0.5
  settle "$wid" "$work/dialog.png"
  d=$(changed "$work/main.png" "$work/dialog.png")
  # The dialog dims the whole window behind it.
  awk -v d="$d" 'BEGIN { exit !(d >= 50) }' ||
    fail "PowerShell in the New menu did not open the dialog ($d% of the window changed)"
  cp "$work/dialog.png" "$OUT/dialog@${scale}x.png"
  echo "screenshots: wrote $OUT/dialog@${scale}x.png ($(identify -format '%wx%h' "$work/dialog.png"))" >&2
  stop_app
done

# The Optimization page of the demo tenant after an import, at 1x.
scale=1
config=$work/config-optimization
export XDG_CONFIG_HOME=$work/xdg
mkdir -p "$config" "$XDG_CONFIG_HOME"
xdotool mousemove 2559 1599
FYNE_SCALE=$scale "$BEACON_BIN" --demo --config-dir "$config" >"$work/app.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  grep -q 'simulated tenant is running' "$work/app.log" && break
  sleep 0.2
done
grep -q 'simulated tenant is running' "$work/app.log" || fail "the demo tenant did not start"
BROWSER=$PWD/scripts/sim-browser.sh timeout 120 "$BEACON_BIN" --config-dir "$config" generate "Demo tenant" --timeout 60s \
  >"$work/cli.log" 2>&1 || { cat "$work/cli.log" >&2; fail "signing in to the demo tenant failed"; }
timeout 300 "$BEACON_BIN" --config-dir "$config" execute "Demo tenant" >>"$work/cli.log" 2>&1 ||
  { cat "$work/cli.log" >&2; fail "importing the demo tenant failed"; }
stop_app
# List prices per seat and month of a few of the demo's SKUs, set the way
# an administrator would from a terminal.
for price in "ENTERPRISEPACK 23" "ENTERPRISEPREMIUM 38" "SPE_E3 36" "SPE_E5 57" "EMS 10.60" "VISIOCLIENT 14"; do
  # shellcheck disable=SC2086
  "$BEACON_BIN" --config-dir "$config" prices set $price EUR >>"$work/cli.log" 2>&1 ||
    { cat "$work/cli.log" >&2; fail "setting the price $price failed"; }
done
prefs=$XDG_CONFIG_HOME/fyne/com.inventorybeacon.beacon/preferences.json
mkdir -p "$(dirname "$prefs")"
echo '{"window.lastPage":"Optimization"}' >"$prefs"
FYNE_SCALE=$scale "$BEACON_BIN" --demo --config-dir "$config" >"$work/app.log" 2>&1 &
pid=$!
wid=$(timeout 60 xdotool search --sync --onlyvisible --name '^Inventory Beacon$' | head -n1) || true
[[ -n $wid ]] || fail "the window never mapped for the Optimization page"
xdotool windowfocus --sync "$wid" 2>/dev/null || xdotool windowfocus "$wid"
sleep 1
settle "$wid" "$work/prompt.png"
# The demo's "Demo tenant ready" message is on top: Tab, Space closes it.
xdotool key Tab space
xdotool mousemove 2559 1599
sleep 0.5
settle "$wid" "$work/optimization.png"
d=$(changed "$work/prompt.png" "$work/optimization.png")
awk -v d="$d" 'BEGIN { exit !(d >= 20) }' || fail "the demo's message did not close over the Optimization page ($d% changed)"
(($(colours "$work/optimization.png") > 16)) || fail "the Optimization page stayed blank"
cp "$work/optimization.png" "$OUT/optimization.png"
echo "screenshots: wrote $OUT/optimization.png ($(identify -format '%wx%h' "$work/optimization.png"))" >&2
stop_app
