#!/bin/bash
# Every command berth lists in `berth --help` has its page docs/man/berth-COMMAND.1.md, and the
# flags of its --help (and of its subcommands' --help, `berth image prune`) are the ones its
# OPTIONS headings name, both ways: a flag the code accepts is documented, and a page documents
# no flag the code refuses. Likewise berth(1) for the global flags, berth-nsenter(1) for the
# nsenter front end, worker-launcher(8) for --checksetup and every mode its usage lists,
# berth-oci(8) for its global flags and every command its usage lists.
# Usage: man-flags.sh BUILD_DIR MAN_DIR   (exit 1 and one line per finding when they differ)
set -u
build=${1:?build dir} man=${2:?man dir}
berth=$build/berth
fail=0
say() { echo "man-flags: $*" >&2; fail=1; }

# "-c, --cpu-shares string  ..." -> "-c --cpu-shares", one flag a line
help_flags() {
    sed -n '/^Options:/,/^$/p' | grep -oE '^ +(-[A-Za-z], )?--[a-z0-9-]+' |
        tr -d ',' | tr ' ' '\n' | grep -v '^$' | sort -u
}
# the flags in the headings of the page's OPTIONS section: "#### **-c**, **--cpu-shares**=*N*"
page_flags() {
    sed -n '/^# OPTIONS/,/^# [A-Z]/p' "$1" | grep '^####' |
        grep -oE '\*\*-{1,2}[A-Za-z0-9][a-z0-9-]*\*\*' | tr -d '*' | sort -u
}
compare() { # what, page, flags-from-code
    local page=$1 code_flags=$2 doc_flags
    doc_flags=$(page_flags "$page")
    for f in $code_flags; do
        grep -qxF -- "$f" <<<"$doc_flags" || say "$page: $f is accepted but not documented"
    done
    for f in $doc_flags; do
        grep -qxF -- "$f" <<<"$code_flags" || say "$page: $f is documented but not accepted"
    done
}

commands=$("$berth" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
[ -n "$commands" ] || say "berth --help lists no commands"
for c in $commands; do
    page=$man/berth-$c.1.md
    if [ ! -f "$page" ]; then
        say "berth $c has no man page $page"
        continue
    fi
    help=$("$berth" "$c" --help)
    flags=$(help_flags <<<"$help")
    # subcommands (image ls, image prune, ...): their flags belong on the same page
    for sub in $(sed -n '/^Commands:/,/^$/p' <<<"$help" | awk 'NR > 1 && NF { print $1 }'); do
        grep -q -- "\*\*berth $c $sub\*\*" "$page" || say "$page: no section for berth $c $sub"
        flags=$(printf '%s\n%s\n' "$flags" "$("$berth" "$c" "$sub" --help | help_flags)" |
            grep -v '^$' | sort -u)
    done
    compare "$page" "$flags"
    grep -q "^berth-$c - " "$page" || say "$page: NAME is not 'berth-$c - ...'"
    grep -qF -- "berth-$c(1)" "$man/berth.1.md" || say "berth.1.md does not list berth-$c(1)"
done
for page in "$man"/berth-*.1.md; do
    c=$(basename "$page" .1.md)
    c=${c#berth-}
    [ "$c" = nsenter ] || grep -qxF -- "$c" <<<"$commands" || say "$page: berth has no command $c"
done

compare "$man/berth.1.md" "$(printf -- '--root\n--runroot\n--help\n')"
compare "$man/berth-nsenter.1.md" "$("$build/berth-nsenter" --help | help_flags)"

wl=$man/worker-launcher.8.md
grep -qF -- '**--checksetup**' "$wl" || say "$wl: --checksetup is not documented"
modes=$("$build/worker-launcher" 2>&1 | grep -oE ': [a-z-]+ <' | tr -d ':< ')
[ -n "$modes" ] || say "worker-launcher's usage lists no modes"
for m in $modes artifacts-dir blob; do
    grep -qF -- "**$m**" "$wl" || say "$wl: mode $m is not documented"
done
# berth-oci(8): every command its usage lists, and its global flags
oci=$man/berth-oci.8.md
if [ ! -f "$oci" ]; then
    say "berth-oci has no man page $oci"
else
    oci_help=$("$build/berth-oci" --help)
    oci_cmds=$(sed -n '/Commands:$/,$p' <<<"$oci_help" | awk 'NR > 1 && NF { print $1 }')
    [ -n "$oci_cmds" ] || say "berth-oci --help lists no commands"
    for c in $oci_cmds; do
        grep -q -- "^#### \*\*$c\*\*" "$oci" || say "$oci: no section for berth-oci $c"
    done
    oci_flags=$(head -1 <<<"$oci_help" | grep -oE -- '--[a-z-]+' | sort -u)
    compare "$oci" "$(printf '%s\n' "$oci_flags" --help -h --version -v --debug --systemd-cgroup |
        sort -u)"
fi
[ -f "$man/berth.conf.5.md" ] || say "no berth.conf(5)"
# every key conf.c accepts (its list of known keys), each with its heading under KEYS
keys=$(sed -n '/known\[\] = {/,/};/p' "$(dirname "$0")/../../conf/conf.c" | grep -oE '"[a-z-]+"' |
    tr -d '"')
[ -n "$keys" ] || say "no berth.conf keys found in conf/conf.c"
for k in $keys; do
    grep -qE -- "^#### \*\*$k\*\*=" "$man/berth.conf.5.md" ||
        say "berth.conf.5.md: key $k is not documented"
done
exit $fail
