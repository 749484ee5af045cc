#!/usr/bin/env bash
# Installs the Debian packages Inventory Beacon needs to build, run and test,
# when any is missing. Safe to run again: it does nothing when all are there.
# Other systems: see README.md ("macOS and Windows").
set -euo pipefail

# binary-or-file : package
needs=(
  "gcc:gcc"
  "/usr/include/GL/gl.h:libgl1-mesa-dev"
  "/usr/include/X11/extensions/Xrandr.h:xorg-dev"
  "Xvfb:xvfb"
  "dbus-run-session:dbus"
  "dbus-launch:dbus-x11"
  "gnome-keyring-daemon:gnome-keyring"
  "secret-tool:libsecret-tools"
  "chromium:chromium"
  "tinyproxy:tinyproxy"
  "xdotool:xdotool"
  "xwininfo:x11-utils"
  "xwd:x11-apps"
  "ss:iproute2"
  "ps:procps"
  # make package: the bundle is a tar.xz; its .desktop file is validated.
  "xz:xz-utils"
  "desktop-file-validate:desktop-file-utils"
)
missing=()
for n in "${needs[@]}"; do
  what=${n%%:*} pkg=${n#*:}
  if [[ $what == /* ]]; then [[ -e $what ]] && continue
  else command -v "$what" >/dev/null 2>&1 && continue; fi
  missing+=("$pkg")
done
# ImageMagick's convert turns xwd screenshots into PNG; some images ship a
# stand-in convert, so look for the real package.
dpkg -s imagemagick >/dev/null 2>&1 || missing+=(imagemagick)
[[ ${#missing[@]} -eq 0 ]] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: missing ${missing[*]}, and this is not a Debian-like system." >&2
  echo "install-deps: see README.md for what macOS and Windows need." >&2
  exit 1
fi
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
echo "install-deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
# With recommends, as the machines the suite is proven on were set up
# (fonts for Chromium, xauth for Xvfb, ...).
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
