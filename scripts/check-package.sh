#!/usr/bin/env bash
# Checks a Linux bundle made by scripts/package.sh, as a user would use it:
# extracts it, installs it with its own Makefile into a temporary prefix,
# checks the .desktop file and the icon against FyneApp.toml, checks the
# binary is a stripped release build, runs `beacon --version`, and starts
# the window under Xvfb (scripts/session.sh) until it maps and paints.
#
#   scripts/check-package.sh dist/Inventory_Beacon.tar.xz
#
# ok always succeeds, so `test && ok ... || fail ...` is an if-then-else here.
# shellcheck disable=SC2015
set -euo pipefail
export LANG=en_US.UTF-8
# The bundle may be named relative to where we were called from.
if [[ -n ${1:-} && $1 != --window && -e $1 ]]; then set -- "$(realpath "$1")"; fi
self=$(realpath "$0")
cd "$(dirname "$self")/.."

if [[ ${1:-} == --window ]]; then
  # Inside scripts/session.sh: start the installed binary and wait for its
  # window to map and show something.
  bin=$2 config=$3 log=$4
  "$bin" --config-dir "$config" >"$log" 2>&1 &
  pid=$!
  trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
  start=$EPOCHREALTIME
  if ! wid=$(timeout 60 xdotool search --sync --onlyvisible --name '^Inventory Beacon$' | head -n1) || [[ -z $wid ]]; then
    echo "check-package: FAIL: the window never mapped; the app said:" >&2
    cat "$log" >&2
    exit 1
  fi
  shot=$(dirname "$log")/window.png
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || { echo "check-package: FAIL: the app exited; it said:" >&2; cat "$log" >&2; exit 1; }
    if xwd -silent -id "$wid" 2>/dev/null | convert xwd:- "png:$shot" 2>/dev/null &&
       (($(identify -format '%k' "$shot") > 16)); then
      ms=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
      echo "check-package: ok: window $wid mapped and painted $(identify -format '%wx%h' "$shot") within $ms ms" >&2
      exit 0
    fi
    sleep 0.2
  done
  echo "check-package: FAIL: the window stayed blank; the app said:" >&2
  cat "$log" >&2
  exit 1
fi

bundle=${1:?usage: scripts/check-package.sh BUNDLE.tar.xz}
[[ -f $bundle ]] || { echo "check-package: no such file: $bundle" >&2; exit 1; }
for tool in tar xz make xdotool xwd convert identify Xvfb; do
  command -v "$tool" >/dev/null || { echo "check-package: $tool is missing; run scripts/install-deps.sh" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/beacon-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0
ok() { echo "check-package: ok: $*" >&2; }
fail() { echo "check-package: FAIL: $*" >&2; failures=$((failures + 1)); }

# The expected values, from FyneApp.toml (the one source of metadata).
toml() { sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\"\{0,1\}\([^\"]*\)\"\{0,1\}[[:space:]]*$/\1/p" FyneApp.toml | head -n1; }
want_name=$(toml Name) want_id=$(toml ID) want_version=$(toml Version) want_build=$(toml Build)
# [LinuxAndBSD] Categories = ["System", "Monitor"] -> System;Monitor;
want_categories=$(sed -n '/^\[LinuxAndBSD\]/,/^\[/s/^[[:space:]]*Categories[[:space:]]*=[[:space:]]*\[\(.*\)\]/\1/p' FyneApp.toml |
  tr -d ' "' | tr ',' ';' | sed 's/.$/&;/')

tar -xJf "$bundle" -C "$work"
ok "extracted $(basename "$bundle") ($(du -h "$bundle" | cut -f1)): $(cd "$work" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' ')"
pkgdir=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -n1)
[[ -f $pkgdir/Makefile ]] || { echo "check-package: FAIL: the bundle has no Makefile" >&2; exit 1; }

# Install as the bundle's README-less Makefile would (sudo make install),
# but into a temporary prefix.
prefix=$work/root
make -s -C "$pkgdir" install DESTDIR="$prefix" PREFIX=/usr >/dev/null
ok "make install DESTDIR=… PREFIX=/usr"

desktop=$prefix/usr/share/applications/$want_id.desktop
if [[ ! -f $desktop ]]; then
  fail "no $want_id.desktop installed"
  exit 1
fi
field() { sed -n "s/^$1=//p" "$desktop" | head -n1; }
name=$(field Name) exec_=$(field Exec) icon=$(field Icon) categories=$(field Categories)
[[ $(head -n1 "$desktop") == '[Desktop Entry]' && $(field Type) == Application ]] && ok "desktop entry of type Application" || fail "not a [Desktop Entry] of Type=Application"
[[ $name == "$want_name" ]] && ok "Name=$name" || fail "Name=$name, want $want_name"
[[ $icon == "$want_id" ]] && ok "Icon=$icon" || fail "Icon=$icon, want $want_id"
exe=${exec_%% *}
[[ -x $prefix/usr/bin/$exe ]] && ok "Exec=$exec_ is installed in bin" || fail "Exec=$exec_ but no executable usr/bin/$exe"
if [[ -n $want_categories ]]; then
  [[ $categories == "$want_categories" ]] && ok "Categories=$categories" || fail "Categories=$categories, want $want_categories (FyneApp.toml [LinuxAndBSD])"
elif [[ -n $categories ]]; then
  ok "Categories=$categories"
else
  echo "check-package: warning: no Categories= in the .desktop file, so menus file it under Other;" \
    "add e.g. [LinuxAndBSD] Categories = [\"System\"] to FyneApp.toml" >&2
fi
if command -v desktop-file-validate >/dev/null; then
  if out=$(desktop-file-validate "$desktop" 2>&1) && [[ -z $out ]]; then ok "desktop-file-validate"
  else
    # Hints are advice (e.g. on the category set), errors are failures.
    grep -q 'error:' <<<"$out" && fail "desktop-file-validate: $out" || echo "check-package: note: desktop-file-validate: $out" >&2
  fi
fi

png=$prefix/usr/share/pixmaps/$icon.png
if [[ -f $png ]]; then
  ok "icon $(basename "$png"): $(identify -format '%m %wx%h' "$png")"
  cmp -s "$png" "$(toml Icon)" || fail "the installed icon differs from $(toml Icon)"
else
  fail "no icon usr/share/pixmaps/$icon.png"
fi

bin=$prefix/usr/bin/$exe
size=$(stat -c %s "$bin")
ok "binary $exe: $((size / 1024 / 1024)).$(((size % (1024 * 1024)) * 10 / 1024 / 1024)) MiB ($size bytes)"
if command -v readelf >/dev/null; then
  # -ldflags "-s -w": no symbol table, no DWARF. (With -trimpath, Go does
  # not record -ldflags in the binary, so look at the sections.)
  sections=$(readelf -S -W "$bin")
  if grep -q -e "\.symtab" -e "\.debug_" <<<"$sections"; then fail "the binary has a symbol table or DWARF (not built with -ldflags \"-s -w\")"
  else ok "stripped: no .symtab, no .debug_* (-ldflags \"-s -w\")"; fi
fi
if command -v go >/dev/null; then
  info=$(go version -m "$bin")
  grep -q -- '-trimpath=true' <<<"$info" && ok "built with -trimpath" || fail "not built with -trimpath"
  tags=$(sed -n 's/.*-tags=//p' <<<"$info")
  [[ ,$tags, == *,migrated_fynedo,* && ,$tags, == *,release,* ]] && ok "built with -tags $tags" || fail "tags are '$tags', want migrated_fynedo and release"
fi

got=$("$bin" --version 2>&1) || true
want="$want_name $want_version (build $want_build)"
[[ $got == "$want" ]] && ok "beacon --version: $got" || fail "beacon --version said '$got', want '$want'"

mkdir -p "$work/config" "$work/app"
# Our own Xvfb, whose pid we know: scripts/session.sh then keeps DISPLAY and
# only adds the private D-Bus session and keyring.
# Xvfb runs under another name (a symlink), so that a concurrent
# scripts/session.sh, which stops "the newest Xvfb" (pgrep -n -x Xvfb)
# when it ends, cannot take ours for its own.
unset WAYLAND_DISPLAY
ln -s "$(command -v Xvfb)" "$work/Xvfb-beacon"
exec 3< <(exec "$work/Xvfb-beacon" -displayfd 1 -screen 0 1280x1024x24 -nolisten tcp 2>"$work/xvfb.log")
xvfb_pid=$!
trap 'kill "$xvfb_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
read -r -t 20 disp <&3 || { echo "check-package: Xvfb did not start" >&2; cat "$work/xvfb.log" >&2; exit 1; }
if ! DISPLAY=":$disp" scripts/session.sh "$self" --window "$bin" "$work/config" "$work/app/app.log"; then
  failures=$((failures + 1))
fi

if ((failures > 0)); then
  echo "check-package: $failures check(s) failed for $bundle" >&2
  exit 1
fi
echo "check-package: $bundle installs, starts and shows its window" >&2
