#!/bin/bash
# Checks the bbb-webhooks Debian package.
#
#   packaging/check-deb.sh [options] target/debian/bbb-webhooks_<version>_amd64.deb
#   packaging/check-deb.sh --build [options]     build it first (packaging/build-deb.sh)
#
# Options:
#   --build             build the package with packaging/build-deb.sh and check it
#   --no-install-test   skip the install/upgrade/downgrade/purge test
#   --conf-only BINARY  only compare packaging/bbb-webhooks.conf with `BINARY --help`
#
# Checks, in order:
#   1. control fields (name, epoch, architecture, dependencies, changelog version)
#   2. contents (paths, modes, conffiles, the README and every docs/*.md) and
#      maintainer scripts (syntax, never touching Redis)
#   3. the systemd unit (required settings, systemd-analyze verify); the
#      relative links of the installed README and docs/*.md resolve
#   4. lintian: no errors (warnings are listed)
#   5. the binary from a scratch root (dpkg -x): `--version` runs; the conffile
#      lists exactly the keys that `--help` lists (skipped while the binary
#      has no --help)
#   6. as root: a throwaway copy of this machine (overlayfs over /, in a private
#      mount namespace, nothing written to the real system) installs a stand-in
#      of BigBlueButton's Node.js package, upgrades it to this package, runs the
#      installed binary as user bigbluebutton, downgrades back, upgrades again,
#      then removes and purges, checking files, conffiles and the unit's
#      enablement at each step.
#
# Installs what it needs when missing: lintian (apt-get, as root) and, for
# --build, cargo-deb (cargo install cargo-deb --locked).
# Exit status: 0 when every check passed, 1 otherwise.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
start_time=$(date +%s)

build=0
install_test=1
conf_only=""
deb=""
while [ $# -gt 0 ]; do
    case "$1" in
        --build) build=1 ;;
        --no-install-test) install_test=0 ;;
        --conf-only) conf_only=${2:?--conf-only needs a binary}; shift ;;
        -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "check-deb: unknown option $1" >&2; exit 2 ;;
        *) deb=$1 ;;
    esac
    shift
done

failures=0
passes=0
pass() { printf '  ok    %s\n' "$*"; passes=$((passes + 1)); }
fail() { printf '  FAIL  %s\n' "$*"; failures=$((failures + 1)); }
note() { printf '  note  %s\n' "$*"; }
section() { printf '\n== %s\n' "$*"; }
check() { # check "description" command...
    local what=$1; shift
    if "$@" >/dev/null 2>&1; then pass "$what"; else fail "$what"; fi
}

# --- conffile against --help -----------------------------------------------------
# Keys of the conffile: active (KEY=value) or commented-out (#KEY=value) lines.
conf_keys() {
    sed -n 's/^#\{0,1\}\(BBB_WEBHOOKS_[A-Z0-9_]*\)=.*/\1/p' "$1"
}
check_conf_against_help() { # binary conffile
    local bin=$1 conf=$2 help
    if ! help=$("$bin" --help 2>&1) || ! grep -q 'BBB_WEBHOOKS_' <<<"$help"; then
        note "the binary has no --help listing BBB_WEBHOOKS_* keys yet: conffile keys not compared"
        return 0
    fi
    local help_keys conf_keys_sorted missing extra dups
    help_keys=$(grep -o 'BBB_WEBHOOKS_[A-Z0-9_]*' <<<"$help" | sort -u)
    conf_keys_sorted=$(conf_keys "$conf" | sort)
    dups=$(uniq -d <<<"$conf_keys_sorted")
    missing=$(comm -23 <(echo "$help_keys") <(uniq <<<"$conf_keys_sorted"))
    extra=$(comm -13 <(echo "$help_keys") <(uniq <<<"$conf_keys_sorted"))
    if [ -z "$dups" ]; then pass "conffile lists each key once"; else fail "conffile lists keys twice: $dups"; fi
    if [ -z "$missing" ]; then pass "conffile lists every key of --help"; else fail "keys of --help missing from the conffile: $(echo $missing)"; fi
    if [ -z "$extra" ]; then pass "conffile has no key unknown to --help"; else fail "conffile keys unknown to --help: $(echo $extra)"; fi
    # Defaults, as --help shows them: a key line, then "default: value" on a
    # following line ("(unset)" for none); or KEY=value; or [default: value].
    local key conf_default help_default compared=0
    for key in $help_keys; do
        conf_default=$(sed -n "s/^#\{0,1\}$key=//p" "$conf" | head -n 1)
        help_default=$(awk -v k="$key" '
            $1 == k { cur = 1; next }
            cur && $1 ~ /^BBB_WEBHOOKS_/ { exit }
            cur && $1 == "default:" { sub(/^[ \t]*default:[ \t]*/, ""); print; found = 1; exit }
            END { exit !found }' <<<"$help") ||
        help_default=$(grep -o "$key=[^ ]*" <<<"$help" | head -n 1 | sed "s/^$key=//") ||
        help_default=$(grep "$key" <<<"$help" | sed -n 's/.*\[default: \([^]]*\)\].*/\1/p' | head -n 1)
        [ -n "$help_default" ] || continue
        [ "$help_default" = "(unset)" ] && help_default=""
        compared=$((compared + 1))
        # Active lines are deliberate package settings, not defaults.
        if grep -q "^$key=" "$conf"; then continue; fi
        if [ "$conf_default" != "$help_default" ]; then
            fail "default of $key: conffile '$conf_default', --help '$help_default'"
        fi
    done
    if [ "$compared" -gt 0 ]; then pass "compared $compared defaults with --help"; fi
}

if [ -n "$conf_only" ]; then
    section "conffile against $conf_only --help"
    check_conf_against_help "$conf_only" "$here/bbb-webhooks.conf"
    [ "$failures" -eq 0 ]; exit $?
fi

# --- tools -------------------------------------------------------------------------
need_apt_package() { # command package
    command -v "$1" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "check-deb: $1 is missing; install the $2 package (as root)" >&2
        exit 1
    fi
    echo "check-deb: installing $2" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
need_apt_package dpkg-deb dpkg
need_apt_package lintian lintian

if [ "$build" -eq 1 ]; then
    section "build"
    deb=$("$repo/packaging/build-deb.sh" | tail -n 1) || { echo "check-deb: build failed" >&2; exit 1; }
    deb="$repo/$deb"
    pass "built $deb"
fi
if [ -z "$deb" ] || [ ! -f "$deb" ]; then
    echo "usage: $0 [--build] [--no-install-test] path/to/bbb-webhooks.deb" >&2
    exit 2
fi
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- 1. control fields -------------------------------------------------------------
section "control fields: $deb"
dpkg-deb --info "$deb" | sed 's/^/    /'
field() { dpkg-deb --field "$deb" "$1"; }
version=$(field Version)
upstream=${version#*:}; upstream=${upstream%-*}
[ "$(field Package)" = bbb-webhooks ] && pass "Package: bbb-webhooks" || fail "Package is $(field Package)"
# BigBlueButton's own bbb-webhooks is 1:3.x-NN or 3.x: epoch 2 makes ours an upgrade.
if [[ "$version" == 2:* ]] && dpkg --compare-versions "$version" gt "1:99"; then
    pass "Version $version has epoch 2 (upgrades BigBlueButton's 1:3.x and 3.x)"
else
    fail "Version $version lacks epoch 2"
fi
[ "$(field Architecture)" = amd64 ] && pass "Architecture: amd64" || fail "Architecture is $(field Architecture)"
depends=$(field Depends)
grep -q 'libc6' <<<"$depends" && pass "Depends on libc6 (computed from the binary)" || fail "no libc6 in Depends: $depends"
grep -qw 'adduser' <<<"$depends" && pass "Depends on adduser (postinst)" || fail "no adduser in Depends: $depends"
# A relation of the package to its own name does nothing: the name is shared
# with the package it replaces, and the version does the replacing.
for rel in Provides Conflicts Replaces Breaks; do
    if field "$rel" | grep -qw bbb-webhooks; then fail "$rel names bbb-webhooks itself"; else pass "no $rel on itself"; fi
done
for f in Maintainer Section Priority Description; do
    [ -n "$(field "$f")" ] && pass "$f is set" || fail "$f is missing"
done
changelog_version=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$here/changelog")
[ "$changelog_version" = "$version" ] && pass "packaging/changelog starts at $version" \
    || fail "packaging/changelog starts at $changelog_version, package is $version"

# --- 2. contents and maintainer scripts ----------------------------------------------
section "contents"
dpkg-deb --contents "$deb" >"$work/contents"
sed 's/^/    /' "$work/contents"
has_file() { # mode path
    awk -v m="$1" -v p="./$2" '$1 == m && $2 == "0/0" && $NF == p { found = 1 } END { exit !found }' "$work/contents"
}
check "/usr/bin/bbb-webhooks, 0755 root"                        has_file -rwxr-xr-x usr/bin/bbb-webhooks
check "/usr/lib/systemd/system/bbb-webhooks.service, 0644"       has_file -rw-r--r-- usr/lib/systemd/system/bbb-webhooks.service
check "/etc/bigbluebutton/bbb-webhooks.conf, 0640"              has_file -rw-r----- etc/bigbluebutton/bbb-webhooks.conf
check "/etc/bigbluebutton/nginx/webhooks.nginx, 0644"           has_file -rw-r--r-- etc/bigbluebutton/nginx/webhooks.nginx
check "man page"                                                has_file -rw-r--r-- usr/share/man/man8/bbb-webhooks.8.gz
check "copyright"                                               has_file -rw-r--r-- usr/share/doc/bbb-webhooks/copyright
check "changelog"                                               has_file -rw-r--r-- usr/share/doc/bbb-webhooks/changelog.Debian.gz
check "README (the documentation's front page)"                 has_file -rw-r--r-- usr/share/doc/bbb-webhooks/README.md
check "migration guide (docs/migration.md, named by the man page)" has_file -rw-r--r-- usr/share/doc/bbb-webhooks/docs/migration.md
# Every docs/*.md of the tree, 0644, and nothing else under docs/: the README
# links to them.
for doc in "$repo"/docs/*.md; do
    [ -f "$doc" ] || continue
    check "docs/$(basename "$doc"), 0644" has_file -rw-r--r-- "usr/share/doc/bbb-webhooks/docs/$(basename "$doc")"
done
want_docs=$(cd "$repo" && ls docs/*.md 2>/dev/null | sort)
have_docs=$(awk '$NF ~ /^\.\/usr\/share\/doc\/bbb-webhooks\/docs\/./ { sub(/^\.\/usr\/share\/doc\/bbb-webhooks\//, "", $NF); print $NF }' "$work/contents" | sort)
if [ -n "$want_docs" ] && [ "$want_docs" = "$have_docs" ]; then
    pass "usr/share/doc/bbb-webhooks/docs/ holds exactly the tree's docs/*.md ($(wc -l <<<"$want_docs") files)"
else
    fail "packaged docs differ from the tree's docs/*.md: packaged '$(echo $have_docs)', tree '$(echo $want_docs)'"
fi
if grep -qE ' \./(lib|bin|sbin)/' "$work/contents"; then
    fail "files outside /usr (a merged-/usr system would lose them on upgrade)"
else
    pass "no files in /lib, /bin or /sbin"
fi
grep -q ' \./usr/local/' "$work/contents" && fail "files in /usr/local" || pass "nothing in /usr/local"

section "conffiles and maintainer scripts"
mkdir -p "$work/control"
dpkg-deb --control "$deb" "$work/control"
printf '/etc/bigbluebutton/bbb-webhooks.conf\n/etc/bigbluebutton/nginx/webhooks.nginx\n' >"$work/want-conffiles"
if diff -u "$work/want-conffiles" <(sort "$work/control/conffiles" 2>/dev/null) >/dev/null; then
    pass "conffiles: bbb-webhooks.conf and webhooks.nginx"
else
    fail "conffiles differ: $(tr '\n' ' ' <"$work/control/conffiles" 2>/dev/null)"
fi
for s in preinst postinst prerm postrm; do
    [ -f "$work/control/$s" ] || continue
    check "$s: sh -n" sh -n "$work/control/$s"
    if grep -q '#DEBHELPER#' "$work/control/$s"; then fail "$s still has #DEBHELPER#"; fi
    # Hooks live in Redis under the same keys as BigBlueButton's package: no
    # maintainer script may touch Redis.
    if grep -Eiq 'redis-cli|flushall|flushdb|bigbluebutton:webhooks' "$work/control/$s"; then
        fail "$s touches Redis"
    else
        pass "$s leaves Redis alone"
    fi
done
grep -q 'deb-systemd-helper enable bbb-webhooks.service' "$work/control/postinst" \
    && pass "postinst enables the unit" || fail "postinst does not enable the unit"
grep -q 'deb-systemd-invoke $_dh_action bbb-webhooks.service' "$work/control/postinst" \
    && pass "postinst starts the unit on install, restarts it on upgrade" || fail "postinst does not (re)start the unit"
grep -q 'deb-systemd-invoke stop bbb-webhooks.service' "$work/control/prerm" \
    && pass "prerm stops the unit on removal" || fail "prerm does not stop the unit"
grep -q 'deb-systemd-helper purge bbb-webhooks.service' "$work/control/postrm" \
    && pass "postrm forgets the unit's enablement on purge" || fail "postrm does not purge the unit state"

# --- 3. systemd unit ------------------------------------------------------------------
section "systemd unit"
root="$work/root"
mkdir -p "$root"
dpkg-deb -x "$deb" "$root"
unit="$root/usr/lib/systemd/system/bbb-webhooks.service"
for want in 'ExecStart=/usr/bin/bbb-webhooks' \
    'User=bigbluebutton' 'Wants=redis-server.service' 'Restart=on-failure' \
    'NoNewPrivileges=yes' 'ProtectSystem=strict'; do
    grep -qxF "$want" "$unit" && pass "$want" || fail "unit lacks $want"
done
grep -Eq '^After=.*\bredis-server\.service\b' "$unit" && pass "After=... redis-server.service" || fail "unit is not ordered after redis-server.service"
grep -Eq '^WantedBy=.*\bmulti-user\.target\b' "$unit" && pass "WantedBy=multi-user.target ..." || fail "unit is not wanted by multi-user.target"
if command -v systemd-analyze >/dev/null 2>&1; then
    # Verify a copy whose ExecStart points into the scratch root.
    mkdir -p "$work/unit"
    sed "s|^ExecStart=/usr/bin/bbb-webhooks|ExecStart=$root/usr/bin/bbb-webhooks|" "$unit" >"$work/unit/bbb-webhooks.service"
    if out=$(systemd-analyze verify --man=no "$work/unit/bbb-webhooks.service" 2>&1 |
            grep -v -e 'bigbluebutton.target' -e 'redis-server.service' -e '^$'); [ -z "$out" ]; then
        pass "systemd-analyze verify"
    else
        fail "systemd-analyze verify:"; sed 's/^/          /' <<<"$out"
    fi
    exposure=$(systemd-analyze security --offline=yes --man=no "$work/unit/bbb-webhooks.service" 2>/dev/null |
        sed -n 's/.*Overall exposure level for [^:]*: *\([0-9.]*\) *\([A-Z]*\).*/\1 \2/p')
    if [ -n "$exposure" ]; then note "systemd-analyze security: exposure $exposure (0 best, 10 worst)"; fi
else
    note "systemd-analyze not found: unit not verified"
fi

# --- 3. (continued) documentation links -------------------------------------------------
# The installed README and docs link to each other by relative paths; each must
# name a file of the package (links to the web are not followed).
section "documentation links (scratch root)"
docdir="$root/usr/share/doc/bbb-webhooks"
links=0 broken=""
while IFS= read -r md; do
    while IFS= read -r target; do
        target=${target%%#*}
        [ -n "$target" ] || continue
        links=$((links + 1))
        [ -e "$(dirname "$md")/$target" ] || broken="$broken ${md#"$docdir"/}:$target"
    done < <(tr '\n' ' ' <"$md" | grep -oE '\]\([^)[:space:]]+\)' | sed 's/^](//; s/)$//' | grep -vE '^[a-z]+:')
done < <(find "$docdir" -name '*.md' | sort)
if [ -z "$broken" ]; then pass "$links relative links in the installed docs resolve"; else fail "broken links in the installed docs:$broken"; fi

# --- 4. lintian --------------------------------------------------------------------------
section "lintian"
lintian --fail-on error --display-level '>=warning' "$deb" >"$work/lintian" 2>&1
lintian_rc=$?
lintian_out=$(grep -v 'running with root privileges' "$work/lintian")
[ -n "$lintian_out" ] && sed 's/^/    /' <<<"$lintian_out"
summary=$(printf 'errors %s, warnings %s, overridden %s' \
    "$(grep -c '^E:' <<<"$lintian_out")" "$(grep -c '^W:' <<<"$lintian_out")" \
    "$(lintian --show-overrides "$deb" 2>/dev/null | grep -c '^O:')")
if [ "$lintian_rc" -eq 0 ]; then pass "lintian: no errors ($summary)"; else fail "lintian ($summary)"; fi

# --- 5. binary from a scratch root ---------------------------------------------------------
section "binary (scratch root)"
bin="$root/usr/bin/bbb-webhooks"
if ldd "$bin" 2>&1 | grep -q 'not found'; then fail "unresolved libraries: $(ldd "$bin" | grep 'not found')"; else pass "libraries resolve"; fi
if ver_out=$("$bin" --version 2>&1); then
    if [ -z "$ver_out" ]; then
        note "--version printed nothing (the binary does not implement it yet)"
        pass "--version exits 0"
    elif grep -qF "$upstream" <<<"$ver_out"; then
        pass "--version: $ver_out"
    else
        fail "--version says '$ver_out', package is $upstream"
    fi
else
    fail "--version failed: $ver_out"
fi
check_conf_against_help "$bin" "$root/etc/bigbluebutton/bbb-webhooks.conf"
size_bin=$(stat -c %s "$bin")
size_deb=$(stat -c %s "$deb")
note "binary $size_bin bytes, package $size_deb bytes, installed $(field Installed-Size) KiB"

# --- 6. install, upgrade, downgrade, purge in a throwaway copy of this machine ------------
install_test() {
    local ovl="$work/ovl"
    mkdir -p "$ovl"
    # The stand-in for BigBlueButton's Node.js package: same name, epoch 1, the
    # files it owns at the same paths (application, unit, nginx snippet conffile).
    local ref="$work/ref"
    mkdir -p "$ref/DEBIAN" "$ref/usr/local/bigbluebutton/bbb-webhooks" \
        "$ref/usr/lib/systemd/system" "$ref/etc/bigbluebutton/nginx"
    echo "// stand-in for the Node.js application" >"$ref/usr/local/bigbluebutton/bbb-webhooks/app.js"
    printf '[Service]\nExecStart=/usr/bin/node app.js\nUser=bigbluebutton\n[Install]\nWantedBy=multi-user.target\n' \
        >"$ref/usr/lib/systemd/system/bbb-webhooks.service"
    echo "location /bigbluebutton/api/hooks { proxy_pass http://127.0.0.1:3005; }" \
        >"$ref/etc/bigbluebutton/nginx/webhooks.nginx"
    echo /etc/bigbluebutton/nginx/webhooks.nginx >"$ref/DEBIAN/conffiles"
    printf 'Package: bbb-webhooks\nVersion: 1:3.0-99\nArchitecture: all\nMaintainer: test <test@invalid>\nDescription: stand-in for the Node.js bbb-webhooks\n' \
        >"$ref/DEBIAN/control"
    dpkg-deb --root-owner-group -b "$ref" "$work/reference.deb" >/dev/null || { fail "could not build the stand-in package"; return; }

    cat >"$work/in-chroot.sh" <<'EOS'
#!/bin/bash
# Runs inside the throwaway root. Prints "ok"/"FAIL" lines like the caller.
set -u
export DEBIAN_FRONTEND=noninteractive
f=0
ok() { printf '  ok    %s\n' "$*"; }
ko() { printf '  FAIL  %s\n' "$*"; f=$((f + 1)); }
t() { local w=$1; shift; if "$@" >/dev/null 2>&1; then ok "$w"; else ko "$w"; fi; }
dpkgi() { dpkg --force-confdef --force-confold -i "$@" </dev/null >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; return 1; }; }
ours_installed() {
    t "  dpkg: bbb-webhooks $VERSION installed" test "$(dpkg-query -W -f '${Status} ${Version}' bbb-webhooks)" = "install ok installed $VERSION"
    t "  the Node.js application is gone" test ! -e /usr/local/bigbluebutton/bbb-webhooks/app.js
    t "  the unit is ours" grep -qx 'ExecStart=/usr/bin/bbb-webhooks' /usr/lib/systemd/system/bbb-webhooks.service
    t "  the nginx snippet is ours" grep -q '^location = /bigbluebutton/api/subscribeEvent' /etc/bigbluebutton/nginx/webhooks.nginx
    t "  user bigbluebutton exists" getent passwd bigbluebutton
    t "  conffile is root:bigbluebutton 0640" test "$(stat -c '%U:%G %a' /etc/bigbluebutton/bbb-webhooks.conf)" = "root:bigbluebutton 640"
    t "  unit enabled (multi-user.target.wants)" test -L /etc/systemd/system/multi-user.target.wants/bbb-webhooks.service
    t "  unit enabled (bigbluebutton.target.wants)" test -L /etc/systemd/system/bigbluebutton.target.wants/bbb-webhooks.service
    t "  bbb-webhooks --version runs as bigbluebutton" runuser -u bigbluebutton -- /usr/bin/bbb-webhooks --version
}

# Runs the installed binary the way the unit does (user bigbluebutton, the
# packaged conffile, BBB's properties readable through the group), in this
# private network namespace, against a Redis that already holds a hook stored
# the way the Node.js service stores them.
REDIS=""
HOOK_ID=0b5ee7e4-1c6a-4d5e-9a63-8f2f0d7e6a11
smoke() {
    if ! command -v redis-server >/dev/null || ! command -v curl >/dev/null; then
        echo "  note    redis-server or curl missing: service not started"
        return
    fi
    if [ -z "$REDIS" ]; then
        redis-server --port 16379 --bind 127.0.0.1 --save "" --appendonly no --daemonize yes >/dev/null
        for _ in $(seq 50); do redis-cli -p 16379 ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
        redis-cli -p 16379 sadd bigbluebutton:webhooks:out:hooks "$HOOK_ID" >/dev/null
        redis-cli -p 16379 hset "bigbluebutton:webhooks:out:hook:$HOOK_ID" id "$HOOK_ID" \
            callbackURL http://127.0.0.1:9/cb permanent false getRaw false >/dev/null
        REDIS=1
    fi
    mkdir -p /etc/bigbluebutton
    printf 'securitySalt=s3cr3t-for-the-test\nbigbluebutton.web.serverURL=https://bbb.example.org\n' \
        >/etc/bigbluebutton/bbb-web.properties
    chown root:bigbluebutton /etc/bigbluebutton/bbb-web.properties
    chmod 0640 /etc/bigbluebutton/bbb-web.properties
    BBB_WEBHOOKS_REDIS_URL=redis://127.0.0.1:16379 runuser -u bigbluebutton -- /usr/bin/bbb-webhooks >/tmp/service.log 2>&1 &
    local pid=$! up=0
    for _ in $(seq 100); do
        if curl -fsS http://127.0.0.1:3005/bigbluebutton/api/hooks/ping 2>/dev/null | grep -q 'API up'; then up=1; break; fi
        sleep 0.1
    done
    if [ "$up" -eq 1 ]; then ok "  hooks/ping answers on 127.0.0.1:3005"; else ko "  hooks/ping (log: $(tail -n 5 /tmp/service.log | tr '\n' ' '))"; fi
    local sum
    sum=$(printf 'hooks/list%s' s3cr3t-for-the-test | sha1sum | cut -d' ' -f1)
    if curl -fsS "http://127.0.0.1:3005/bigbluebutton/api/hooks/list?checksum=$sum" 2>/dev/null | grep -q "<hookID>$HOOK_ID</hookID>"; then
        ok "  hooks/list, signed with securitySalt from BBB's properties, shows the hook stored before the upgrade"
    else
        ko "  hooks/list does not show the stored hook"
    fi
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
}

echo "  -- install the stand-in of BigBlueButton's package (1:3.0-99)"
t "  dpkg -i stand-in" dpkgi /tmp/reference.deb
echo "  -- upgrade it to $VERSION"
t "  dpkg -i ours over it" dpkgi /tmp/ours.deb && ours_installed
echo "  -- run the installed service against a private Redis"
smoke
echo "  -- reinstall $VERSION (an upgrade to the same version)"
t "  dpkg -i ours again" dpkgi /tmp/ours.deb
t "  unit still enabled" test -L /etc/systemd/system/multi-user.target.wants/bbb-webhooks.service
echo "  -- roll back to the stand-in"
t "  dpkg -i stand-in (downgrade)" dpkgi /tmp/reference.deb
t "  /usr/bin/bbb-webhooks is gone" test ! -e /usr/bin/bbb-webhooks
t "  the Node.js application is back" test -e /usr/local/bigbluebutton/bbb-webhooks/app.js
t "  the unit is the stand-in's" grep -qx 'ExecStart=/usr/bin/node app.js' /usr/lib/systemd/system/bbb-webhooks.service
t "  the stand-in's nginx snippet is back" grep -q '^location /bigbluebutton/api/hooks { proxy_pass' /etc/bigbluebutton/nginx/webhooks.nginx
echo "  -- upgrade again"
t "  dpkg -i ours" dpkgi /tmp/ours.deb && ours_installed
echo "  -- remove"
t "  dpkg -r" dpkg -r bbb-webhooks
t "  binary gone" test ! -e /usr/bin/bbb-webhooks
t "  unit gone" test ! -e /usr/lib/systemd/system/bbb-webhooks.service
t "  unit no longer enabled" test ! -e /etc/systemd/system/multi-user.target.wants/bbb-webhooks.service
t "  conffile kept" test -f /etc/bigbluebutton/bbb-webhooks.conf
t "  nginx snippet kept" test -f /etc/bigbluebutton/nginx/webhooks.nginx
echo "  -- purge"
t "  dpkg -P" dpkg -P bbb-webhooks
t "  conffile deleted" test ! -e /etc/bigbluebutton/bbb-webhooks.conf
t "  nginx snippet deleted" test ! -e /etc/bigbluebutton/nginx/webhooks.nginx
t "  package gone from dpkg" test -z "$(dpkg-query -W -f '${Status}' bbb-webhooks 2>/dev/null | grep -v not-installed)"
t "  user bigbluebutton kept (shared with BigBlueButton)" getent passwd bigbluebutton
if [ -n "$REDIS" ]; then
    t "  the stored hook survived remove and purge" redis-cli -p 16379 sismember bigbluebutton:webhooks:out:hooks "$HOOK_ID" \| grep -qx 1
    redis-cli -p 16379 shutdown nosave >/dev/null 2>&1
fi
exit "$f"
EOS
    chmod 755 "$work/in-chroot.sh"

    # Private mount namespace: an overlay whose lower layer is this machine's /
    # (read-only to it) and whose upper layer is a tmpfs that vanishes with the
    # namespace. dpkg inside the chroot changes only the tmpfs.
    unshare --mount --net --propagation private bash -c '
        set -e
        ip link set lo up
        ovl=$1 work=$2 deb=$3 version=$4
        mount -t tmpfs tmpfs "$ovl"
        mkdir -p "$ovl/upper" "$ovl/work" "$ovl/root"
        mount -t overlay overlay -o "lowerdir=/,upperdir=$ovl/upper,workdir=$ovl/work" "$ovl/root"
        mount --bind /proc "$ovl/root/proc"
        mount --bind /dev "$ovl/root/dev"
        mount -t tmpfs tmpfs "$ovl/root/tmp"
        mount -t tmpfs tmpfs "$ovl/root/run"
        cp "$deb" "$ovl/root/tmp/ours.deb"
        cp "$work/reference.deb" "$ovl/root/tmp/reference.deb"
        cp "$work/in-chroot.sh" "$ovl/root/tmp/in-chroot.sh"
        VERSION=$version chroot "$ovl/root" /tmp/in-chroot.sh
    ' _ "$ovl" "$work" "$deb" "$version" >"$work/install.log" 2>&1
    local rc=$?
    cat "$work/install.log"
    local n
    n=$(grep -c '^  FAIL' "$work/install.log")
    failures=$((failures + n))
    passes=$((passes + $(grep -c '^  ok' "$work/install.log")))
    if [ "$rc" -ne 0 ] && [ "$n" -eq 0 ]; then fail "throwaway install environment failed (exit $rc)"; fi
}

section "install / upgrade / rollback / purge (throwaway copy of this machine)"
if [ "$install_test" -eq 0 ]; then
    note "skipped (--no-install-test)"
elif [ "$(id -u)" -ne 0 ]; then
    note "skipped: needs root (mount namespace and overlayfs)"
elif ! unshare --mount --net --propagation private true 2>/dev/null; then
    note "skipped: cannot create mount and network namespaces here (an unprivileged container?)"
else
    install_test
fi

# --- result ---------------------------------------------------------------------------------
section "result"
echo "  $(basename "$deb"): $failures failure(s), $(( $(date +%s) - start_time )) s"
echo "check-deb: $passes passed, $failures failed"
[ "$failures" -eq 0 ]
