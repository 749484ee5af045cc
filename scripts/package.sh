#!/usr/bin/env bash
# Builds the release bundle of Inventory Beacon with the Fyne tool
# (fyne.io/tools, `fyne package`) and checks it (scripts/check-package.sh).
#
#   scripts/package.sh                  Linux: dist/Inventory_Beacon.tar.xz
#   scripts/package.sh --os darwin      on a Mac (Xcode command line tools): dist/Inventory Beacon.app
#   scripts/package.sh --os windows     on Windows (MSYS2/mingw-w64 gcc) or on Linux with
#                                       CC=x86_64-w64-mingw32-gcc: dist/Inventory Beacon.exe
#   scripts/package.sh --no-check       skip the check (e.g. when cross-packaging)
#
# `fyne package` expects FyneApp.toml beside the main package, and rewrites
# it (it bumps Build). Ours lives at the top of the module, the main package
# in cmd/beacon. So the main package and the metadata are copied into a
# throw-away directory inside the module (named with a leading "_", which
# `go ... ./...` ignores), and fyne builds and packages from there: the name,
# ID, version, build number and icon come from FyneApp.toml only, and the
# checked-in FyneApp.toml and cmd/beacon are never touched.
#
# With --release fyne builds with -trimpath -ldflags "-s -w" and the build
# tag "release", adds its hardening CGO flags, and adds the tag
# migrated_fynedo because FyneApp.toml says [Migrations] fyneDo = true.
set -euo pipefail
export LANG=en_US.UTF-8
self=$(realpath "$0")
cd "$(dirname "$self")/.."
root=$PWD

# The Fyne tool version. The module proxy serves v1.7.4; it is installed
# into bin/tools rather than pinned in go.mod, because fyne.io/tools v1.7.4
# requires fyne.io/fyne/v2 v2.8 and would upgrade the app's Fyne.
FYNE_TOOLS_VERSION=${FYNE_TOOLS_VERSION:-v1.7.4}
GO=${GO:-go}
target_os=$($GO env GOOS)
check=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --os) target_os=$2; shift 2 ;;
    --no-check) check=0; shift ;;
    -h|--help) sed -n "2,9p" "$self"; exit 0 ;;
    *) echo "package: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

for tool in "$GO" tar; do
  command -v "$tool" >/dev/null || { echo "package: $tool is missing; run scripts/install-deps.sh" >&2; exit 1; }
done
if [[ $target_os == linux ]] && ! command -v xz >/dev/null; then
  echo "package: xz is missing (Debian: xz-utils); run scripts/install-deps.sh" >&2
  exit 1
fi

fyne=$root/bin/tools/fyne-$FYNE_TOOLS_VERSION
if [[ ! -x $fyne ]]; then
  echo "package: installing the Fyne tool fyne.io/tools $FYNE_TOOLS_VERSION into bin/tools" >&2
  gobin=$(mktemp -d)
  # The tool runs here: build it for this machine with its own C compiler,
  # whatever CC, GOOS and GOARCH the cross-build of the app was given
  # (CC=x86_64-w64-mingw32-gcc made this install fail, issue 24).
  env -u GOOS -u GOARCH CC="${HOST_CC:-cc}" CGO_ENABLED=1 GOBIN="$gobin" $GO install "fyne.io/tools/cmd/fyne@$FYNE_TOOLS_VERSION"
  mkdir -p "$root/bin/tools"
  mv "$gobin/fyne" "$fyne"
  rmdir "$gobin"
fi

# A fixed name, so the same sources give the same binary (the main
# package's path is recorded in it). One packaging run at a time.
stage_root=$root/_package
if [[ -e $stage_root ]]; then
  echo "package: removing $stage_root left by an earlier run (is another scripts/package.sh running?)" >&2
  rm -rf "$stage_root"
fi
mkdir "$stage_root"
cleanup() { rm -rf "$stage_root"; }
trap cleanup EXIT
# The directory is called "beacon" so that fyne names the binary beacon
# (it uses the source directory's name).
stage=$stage_root/beacon
mkdir -p "$stage/assets"
for f in cmd/beacon/*.go; do
  [[ $f == *_test.go ]] || cp "$f" "$stage/"
done
cp FyneApp.toml "$stage/"
icon=$(sed -n 's/^[[:space:]]*Icon[[:space:]]*=[[:space:]]*"\(.*\)"/\1/p' FyneApp.toml | head -n1)
[[ -f $icon ]] || { echo "package: the icon $icon named in FyneApp.toml does not exist" >&2; exit 1; }
mkdir -p "$stage/$(dirname "$icon")"
cp "$icon" "$stage/$icon"

echo "package: building and packaging for $target_os with fyne package --release (this compiles the C parts of Fyne again the first time: a few minutes)" >&2
start=$SECONDS
(cd "$stage" && "$fyne" package --os "$target_os" --release --exe "$stage/beacon")
echo "package: fyne package took $((SECONDS - start)) s" >&2

name=$(sed -n 's/^[[:space:]]*Name[[:space:]]*=[[:space:]]*"\(.*\)"/\1/p' FyneApp.toml | head -n1)
mkdir -p dist
case $target_os in
  linux|freebsd|netbsd)
    out=dist/${name// /_}.tar.xz
    mv "$stage/$name.tar.xz" "$out" ;;
  openbsd)
    out=dist/${name// /_}.tar.gz
    mv "$stage/$name.tar.gz" "$out" ;;
  darwin)
    out="dist/$name.app"
    rm -rf "$out"
    mv "$stage/$name.app" "$out" ;;
  windows)
    out="dist/$name.exe"
    mv "$stage/$name.exe" "$out" ;;
  *) echo "package: $target_os is not handled by this script" >&2; exit 1 ;;
esac
echo "package: wrote $out ($(du -sh "$out" | cut -f1))" >&2

if [[ $check == 1 && $target_os == linux ]]; then
  scripts/check-package.sh "$out"
fi
