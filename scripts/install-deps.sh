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
  # make package-windows and make test-windows: cgo for Windows.
  "x86_64-w64-mingw32-gcc:gcc-mingw-w64-x86-64-win32"
)
# make test-windows runs the Windows builds under Wine (64-bit only).
# Installed without recommends: those are some 70 packages (fonts, sound,
# GStreamer, the 32-bit Wine, which needs i386 multiarch) that console
# programs and a --version never use.
needs_bare=(
  "/usr/lib/wine/wine64:wine64"
  "wine:wine"
)
# lacking LIST: the packages of LIST ("binary-or-file:package" lines)
# whose binary or file is missing.
lacking() {
  local n what pkg
  for n in "$@"; do
    what=${n%%:*} pkg=${n#*:}
    if [[ $what == /* ]]; then [[ -e $what ]] && continue
    else command -v "$what" >/dev/null 2>&1 && continue; fi
    echo "$pkg"
  done
}
mapfile -t missing < <(lacking "${needs[@]}")
mapfile -t missing_bare < <(lacking "${needs_bare[@]}")
# ImageMagick's convert turns xwd screenshots into PNG; some images ship a
# stand-in convert, so look for the real package.
dpkg -s imagemagick >/dev/null 2>&1 || missing+=(imagemagick)
# The storage tests run against PostgreSQL too (issue 21): internal/pgtest
# runs initdb and the server from /usr/lib/postgresql/N/bin itself, in a
# temporary folder. The package's own cluster and service are not needed.
pg_missing=0
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || { missing+=(postgresql); pg_missing=1; }
all_missing=("${missing[@]}" "${missing_bare[@]}")
[[ ${#all_missing[@]} -eq 0 ]] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: missing ${all_missing[*]}, and this is not a Debian-like system." >&2
  echo "install-deps: see README.md for what macOS and Windows need." >&2
  exit 1
fi
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
echo "install-deps: installing ${all_missing[*]}" >&2
if [[ $pg_missing -eq 1 ]]; then
  # No "main" cluster: it would be a service of its own, started (or not,
  # in a container without an init) by the package's postinst, which the
  # tests never use.
  $sudo mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.d/inventory-beacon.conf >/dev/null
fi
$sudo apt-get update -qq
# With recommends, as the machines the suite is proven on were set up
# (fonts for Chromium, xauth for Xvfb, ...).
if [[ ${#missing[@]} -gt 0 ]]; then
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
fi
if [[ ${#missing_bare[@]} -gt 0 ]]; then
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing_bare[@]}" >&2
fi
