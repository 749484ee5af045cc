#!/usr/bin/env bash
# A "browser" for the demo tenant's sign-in, for scripts without a person
# at the screen (scripts/screenshots.sh): `beacon generate` opens the
# sign-in address with $BROWSER, and this signs in as the demo's Global
# Administrator the way a person clicks through the simulator's pages
# (account picker, consent), then follows the redirect to beacon's
# loopback address. Only the built-in simulator's pages are understood.
#
#   BROWSER=scripts/sim-browser.sh bin/beacon generate "Demo tenant"
#
# SIM_ACCOUNT picks another demo account (default: the administrator).
set -euo pipefail
url=$1
jar=$(mktemp "${TMPDIR:-/tmp}/beacon-sim-browser.XXXXXX")
trap 'rm -f "$jar"' EXIT
log() { echo "sim-browser: $*" >&2; }

page=$(curl -sS -c "$jar" -b "$jar" "$url")
origin=$(printf '%s' "$url" | sed -E 's#^(https?://[^/]+).*#\1#')
flow() { printf '%s' "$1" | sed -n -E 's/.*name="flow" value="([^"]+)".*/\1/p' | head -n1; }
action() { printf '%s' "$1" | sed -n -E 's/.*<form method="post" action="([^"]+)".*/\1/p' | head -n1; }
f=$(flow "$page")
[[ -n $f ]] || { log "no sign-in page at $url"; exit 1; }
upn=${SIM_ACCOUNT:-$(printf '%s' "$page" | sed -n -E 's/.*data-upn="(admin@[^"]+)".*/\1/p' | head -n1)}
[[ -n $upn ]] || { log "no administrator account on the picker"; exit 1; }
log "signing in as $upn"
# Each step posts the page's form; the last answer is a redirect to the
# app's loopback address, which curl follows so beacon receives the code.
for _ in 1 2 3 4; do
  act=$(action "$page")
  f=$(flow "$page")
  [[ -n $act && -n $f ]] || break
  case $act in
    */login) data=(--data-urlencode "flow=$f" --data-urlencode "upn=$upn") ;;
    */Consent/Set) data=(--data-urlencode "flow=$f" --data-urlencode "action=accept" --data-urlencode "consent_org=on") ;;
    *) log "unexpected form $act"; exit 1 ;;
  esac
  page=$(curl -sS -L -c "$jar" -b "$jar" "${data[@]}" "$origin$act") || exit 1
done
log "done"
