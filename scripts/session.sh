#!/usr/bin/env bash
# Runs a command inside the environment the tests and the app need on a
# desktop-less Linux machine: a private D-Bus session bus, gnome-keyring's
# Secret Service unlocked with a throw-away password, and an Xvfb display.
# Everything it starts ends with the command.
#
#   scripts/session.sh go test ./...
set -euo pipefail
export LANG=${LANG:-en_US.UTF-8}

if [[ -z ${BEACON_IN_SESSION:-} ]]; then
  export BEACON_IN_SESSION=1
  exec dbus-run-session -- "$0" "$@"
fi

# A private home for the keyring files, so tests never touch a real login
# keyring and every run starts clean.
work=$(mktemp -d "${TMPDIR:-/tmp}/beacon-session.XXXXXX")
export XDG_DATA_HOME=$work/data XDG_RUNTIME_DIR=$work/run
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

cleanup() {
  [[ -n ${xvfb_pid:-} ]] && kill "$xvfb_pid" 2>/dev/null || true
  [[ -n ${keyring_pid:-} ]] && kill "$keyring_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# --unlock reads the password on stdin and creates the "login" collection
# with it when it does not exist yet. --foreground keeps the daemon our
# child, so cleanup can stop it (a --daemonize'd one outlives a killed run).
printf 'beacon-session' | gnome-keyring-daemon --foreground --unlock --components=secrets >"$work/keyring.log" 2>&1 &
keyring_pid=$!
export BEACON_KEYRING_PASSWORD=beacon-session
# The daemon claims org.freedesktop.secrets a moment after it starts; a
# test that asks before then would start a second, locked one by D-Bus
# activation.
for _ in $(seq 200); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
       org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
    break
  fi
  sleep 0.05
done

if [[ -z ${DISPLAY:-} ]]; then
  # -displayfd picks a free display number and tells us which.
  # exec inside the substitution makes $! our Xvfb's pid: cleanup must
  # stop this run's server, never another run's.
  exec 3< <(exec Xvfb -displayfd 1 -screen 0 1280x1024x24 -nolisten tcp 2>"$work/xvfb.log")
  xvfb_pid=$!
  read -r -t 20 disp <&3 || { echo "session: Xvfb did not start" >&2; cat "$work/xvfb.log" >&2; exit 1; }
  export DISPLAY=":$disp"
fi

# Tests that need the real keyring, display, browser or proxy fail (not
# skip) when they are missing inside this session.
export BEACON_REQUIRE_REAL=1
"$@"
