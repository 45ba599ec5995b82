#!/bin/bash
# The bash completion, driven through bash's own machinery: the file is sourced, `complete -p`
# must name its function for berth and berth-nsenter, and each case sets COMP_WORDS and
# COMP_CWORD as readline would, calls that function and compares COMPREPLY. Names, ids and
# image references come from a real berth (build/berth as `berth` on PATH) over temporary
# stores holding a running container, a stopped one and berth/worker:latest.
# Usage (root, from the source tree): tests/pkg/completion.sh [BUILD_DIR]
set -u
build=$(cd "${1:-build}" && pwd)
src=$PWD/dist/berth.bash-completion
[ "$(id -u)" -eq 0 ] || { echo "completion.sh: needs root (real containers)" >&2; exit 1; }
T=$(mktemp -d /tmp/berth-compl-test.XXXXXX)
export PATH=$build:$PATH
S=(--root "$T/root" --runroot "$T/run")
cleanup() {
    berth "${S[@]}" rm -f compl-one compl-two >/dev/null 2>&1
    rm -rf -- "${T:?}"
}
trap cleanup EXIT
fails=0

berth "${S[@]}" run -d --name compl-one berth/worker:latest sleep 300 >/dev/null ||
    { echo "completion.sh: cannot start a container" >&2; exit 1; }
berth "${S[@]}" run -d --name compl-two berth/worker:latest true >/dev/null
berth "${S[@]}" wait compl-two >/dev/null
short=$(berth "${S[@]}" ps --format '{{.ID}}' --filter name=compl-one)

# shellcheck source=/dev/null
. "$src"
[[ $(complete -p berth) == "complete -F _berth berth" ]] || { echo "FAIL: complete -p berth: $(complete -p berth)"; fails=1; }
fn=$(complete -p berth-nsenter | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
[ "$fn" = _berth_nsenter ] || { echo "FAIL: complete -p berth-nsenter"; fails=1; }

# expect "WANTED WORDS (space separated, any order)" WORD...: the last WORD is being completed
expect() {
    local want=$1
    shift
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    local f
    f=$(complete -p "$1" | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
    "$f" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    local have
    have=$(printf '%s\n' "${COMPREPLY[@]}" | grep -v '^$' | sort | tr '\n' ' ')
    want=$(tr ' ' '\n' <<<"$want" | grep -v '^$' | sort | tr '\n' ' ')
    if [ "$have" != "$want" ]; then
        echo "FAIL: [$*]: got '$have', wanted '$want'"
        fails=1
    fi
}

commands=$(berth --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }' | tr '\n' ' ')
expect "$commands" berth ""
expect "run" berth ru
expect "--root --runroot --help" berth -
expect "--cpus --cpu-period --cpu-quota --cpu-shares --cpuset-cpus --cpuset-mems" berth run --rm --cpu
expect "host none" berth run --net ""
expect "host none" berth run --network = ""
expect "berth/worker:latest" berth "${S[@]}" run --rm -e A=1 ber
expect "berth/worker:latest" berth "${S[@]}" run --name x -v /tmp:/tmp ""
expect "compl-one compl-two" berth "${S[@]}" rm compl-
expect "compl-one compl-two" berth "${S[@]}" start compl-
expect "berth/worker:latest" berth "${S[@]}" create --name x --rm ber
expect "always missing never" berth create --pull ""
expect "" berth create berth/worker:latest --cpu
expect "compl-one" berth "${S[@]}" stop compl-
expect "$short" berth "${S[@]}" kill "${short:0:6}"
expect "compl-one compl-two" berth "${S[@]}" logs -f compl
expect "" berth "${S[@]}" logs compl-one ""
expect "compl-one compl-two" berth --root="$T/root" --runroot="$T/run" inspect --format '{{.Id}}' comp
expect "import inspect load ls prune rm save tag" berth "${S[@]}" image ""
expect "-a --all -f --force" berth "${S[@]}" image prune -
expect "berth/worker:latest" berth "${S[@]}" image rm b
expect "berth/worker:latest" berth "${S[@]}" rmi ""
expect "berth/worker:latest" berth "${S[@]}" tag ""
expect "berth/worker:latest" berth "${S[@]}" save ""
expect "berth/worker:latest" berth "${S[@]}" save -o /tmp/x.tar berth/worker:latest b
expect "/tmp" berth save -o /tm
expect "berth/worker:latest" berth "${S[@]}" image save --output=/tmp/x.tar ""
expect "berth/worker:latest" berth "${S[@]}" image inspect -f '{{.Id}}' ""
expect "berth/worker:latest" berth "${S[@]}" pull ""
expect "" berth "${S[@]}" pull berth/worker:latest ""
expect "" berth "${S[@]}" login ""
expect "" berth "${S[@]}" logout ""
expect "check" berth seccomp ""
expect "-q --quiet --no-trunc --digests --format" berth images -
expect "/tmp" berth run -v /tm
expect "KILL" berth kill -s KIL
expect "--target" berth-nsenter --ta
# after the image the words are the container's command, not berth's flags
expect "" berth run berth/worker:latest --cpu
# no stores to read: nothing offered, nothing printed
expect "" berth --root "$T/none/r" --runroot "$T/none/s" rm ""

[ $fails -eq 0 ] && echo "completion.sh: ok"
exit $fails
