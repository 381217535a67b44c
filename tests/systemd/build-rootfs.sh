#!/bin/sh
# Builds, once, the Debian bookworm root file system that tests/systemd boots as a
# systemd-nspawn container, and prints its path. The build runs under a lock (two test runs
# must not debootstrap into the same folder) into a temporary folder that is renamed into
# place only when debootstrap succeeded, and a stamp names the recipe: a half-built or
# outdated tree is never booted, it is rebuilt. Needs root, debootstrap and network access to
# the Debian mirror that apt uses.
#
#   sh tests/systemd/build-rootfs.sh            # -> .cache/systemd-rootfs/rootfs
#   ANIMAL_SYNC_ROOTFS_CACHE=/var/cache/x sh tests/systemd/build-rootfs.sh
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${ANIMAL_SYNC_ROOTFS_CACHE:-$root/.cache/systemd-rootfs}
suite=bookworm
# systemd as PID 1, D-Bus for systemctl, libnss-systemd for users; procps (ps, kill) and
# sudo so that systemd/README.md's install steps run inside as they are written.
packages=systemd,systemd-sysv,dbus,libnss-systemd,procps,sudo
recipe="$suite minbase $packages 1"

# The first Debian (not security) mirror of apt's sources that serves $suite.
debian_mirror() {
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    case "$f" in
      *.sources)
        awk -v suite="$suite" '
          /^[[:space:]]*$/ { if (uri != "" && has) print uri; uri = ""; has = 0; next }
          /^URIs:/ { uri = $2 }
          /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) has = 1 }
          END { if (uri != "" && has) print uri }' "$f" ;;
      *)
        awk -v suite="$suite" '$1 == "deb" { u = ($2 ~ /^\[/) ? $3 : $2; s = ($2 ~ /^\[/) ? $4 : $3; if (s == suite) print u }' "$f" ;;
    esac
  done | grep -v -- '-security' | grep -i debian | head -n 1
}

mkdir -p "$cache"
exec 9>"$cache/lock"
if ! flock -w 900 9; then
  echo "build-rootfs: another build has held $cache/lock for 15 minutes; giving up" >&2
  exit 1
fi

if [ -d "$cache/rootfs" ] && [ "$(cat "$cache/complete" 2>/dev/null)" = "$recipe" ]; then
  echo "$cache/rootfs"
  exit 0
fi

command -v debootstrap >/dev/null || { echo "build-rootfs: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
mirror=$(debian_mirror || true)
mirror=${mirror:-http://deb.debian.org/debian}
rm -f "$cache/complete"
rm -rf "$cache/rootfs" "$cache/rootfs.new"
echo "build-rootfs: debootstrap $suite from $mirror into $cache/rootfs (about a minute)" >&2
if ! debootstrap --variant=minbase --include="$packages" "$suite" "$cache/rootfs.new" "$mirror" >"$cache/debootstrap.log" 2>&1; then
  tail -n 30 "$cache/debootstrap.log" >&2
  echo "build-rootfs: debootstrap failed; full log in $cache/debootstrap.log" >&2
  exit 1
fi
# apt's package lists and downloaded .debs are not needed to boot: keep the cache small.
rm -rf "$cache/rootfs.new/var/cache/apt/archives/"*.deb "$cache/rootfs.new/var/lib/apt/lists/"*
mv "$cache/rootfs.new" "$cache/rootfs"
echo "$recipe" >"$cache/complete"
echo "$cache/rootfs"
