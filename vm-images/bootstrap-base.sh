#!/usr/bin/env bash
# Makes the node Dockerfile's base image (FROM debian:bookworm-slim) locally, for machines where no
# container registry is reachable: debootstrap a minimal Debian bookworm from the Debian mirror apt
# already uses on this machine, then `docker import` it under the same name. On machines that can pull,
# this step is not needed: `docker build` pulls the official image and the same Dockerfile builds.
#
# Usage: vm-images/bootstrap-base.sh [IMAGE]   (default debian:bookworm-slim; needs root + debootstrap)
set -euo pipefail
image=${1:-debian:bookworm-slim}

die() { echo "bootstrap-base: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap needs it)"
command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install -y debootstrap)"
command -v docker >/dev/null || die "the docker CLI is not installed (apt-get install -y docker.io)"
docker info >/dev/null 2>&1 || die "no Docker engine answers (start dockerd)"

# The mirror: the first deb.debian.org-style URI apt uses for bookworm main (deb822 or one-line format).
mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
    /^URIs:/ { uri=$2 } /^Suites:/ { suites=$0 }
    /^$/ { if (uri != "" && suites ~ /bookworm( |$)/ && uri !~ /security/) { print uri; exit } uri=""; suites="" }
    END { if (uri != "" && suites ~ /bookworm( |$)/ && uri !~ /security/) print uri }' | head -n1)
fi
if [ -z "$mirror" ]; then
  mirror=$(grep -hE '^deb [^ ]+ bookworm ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
    | awk '{print $2}' | grep -v security | head -n1 || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}
security=${mirror%/debian}/debian-security

dir=$(mktemp -d /tmp/berth-rootfs.XXXXXX)
trap 'rm -rf "$dir"' EXIT
echo "bootstrap-base: debootstrap bookworm from $mirror"
start=$(date +%s)
debootstrap --variant=minbase --components=main bookworm "$dir" "$mirror" >/tmp/berth-debootstrap.log 2>&1 \
  || { tail -n 20 /tmp/berth-debootstrap.log >&2; die "debootstrap failed (log: /tmp/berth-debootstrap.log)"; }

# Same apt sources as the official image; no caches, docs or logs in the layer.
rm -f "$dir/etc/apt/sources.list"
cat >"$dir/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
cat >"$dir/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
APT
echo 'APT::Install-Recommends "false"; APT::Install-Suggests "false";' >"$dir/etc/apt/apt.conf.d/99no-recommends"
rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/* "$dir"/var/log/* "$dir"/usr/share/doc/* \
  "$dir"/usr/share/man/* "$dir"/usr/share/locale/* "$dir"/tmp/* "$dir"/dev/*
: >"$dir/etc/hostname"

tar -C "$dir" --numeric-owner -c . | docker import \
  --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --message "berth: debootstrap bookworm minbase from $mirror" - "$image" >/dev/null
echo "bootstrap-base: imported $image in $(( $(date +%s) - start )) s"
