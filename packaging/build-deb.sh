#!/bin/sh
# Builds the Debian package of bbb-webhooks: packaging/build-deb.sh
#
# Runs cargo-deb (installing it with `cargo install cargo-deb --locked` when
# it is missing) with the Debian version <epoch>:<crate version>-<revision>.
# cargo-deb's metadata has no epoch field, hence this wrapper. Extra
# arguments go to cargo-deb (e.g. --no-build, --fast).
# Prints the path of the .deb on its last line:
#   target/debian/bbb-webhooks_<version>-<revision>_<arch>.deb
#
# Environment: DEB_EPOCH (default 2, see docs/packaging.md, "Versions"),
# DEB_REVISION (default 1).
set -eu

cd "$(dirname "$0")/.."

DEB_EPOCH=${DEB_EPOCH:-2}
DEB_REVISION=${DEB_REVISION:-1}

if ! cargo deb --version >/dev/null 2>&1; then
    echo "build-deb: installing cargo-deb" >&2
    cargo install cargo-deb --locked
fi

crate_version=$(cargo metadata --no-deps --format-version 1 |
    sed -n 's/.*"name":"bbb-webhooks","version":"\([^"]*\)".*/\1/p')
if [ -z "$crate_version" ]; then
    echo "build-deb: cannot read the crate version from cargo metadata" >&2
    exit 1
fi
# A pre-release (0.2.0-rc.1) must sort before its release: 0.2.0~rc.1.
deb_upstream=$(printf '%s' "$crate_version" | sed 's/-/~/')

# The file name leaves the epoch out, as Debian archives do.
out=target/debian/bbb-webhooks_${deb_upstream}-${DEB_REVISION}_$(dpkg --print-architecture).deb
mkdir -p target/debian
cargo deb --deb-version "${DEB_EPOCH}:${deb_upstream}-${DEB_REVISION}" \
    --output "$out" "$@" >&2
echo "$out"
