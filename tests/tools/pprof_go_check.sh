#!/bin/sh
# pprof_go_check.sh - a profile pprobe writes loads in the real
# `go tool pprof` and shows what was put in: functions, inlined frames,
# labels, mapping flags, and -tagfocus filtering.
#
# usage: pprof_go_check.sh PPROF_SAMPLE GO
# Exit 0 pass, 1 fail, 77 skip (no go, or go without its pprof tool).
set -u

sample=$1
go=${2:-}
case $go in
"" | *NOTFOUND)
	echo "SKIP: go not found (install golang-go to run this test)"
	exit 77
	;;
esac
if [ ! -x "$go" ]; then
	echo "SKIP: $go is not executable"
	exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pprof_go_check.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT INT TERM
# go wants a home and a cache; the test's environment points them at the
# build tree, and a manual run gets a scratch directory.
HOME=${HOME:-$work/home}
GOCACHE=${GOCACHE:-$work/gocache}
PPROF_TMPDIR=${PPROF_TMPDIR:-$work/pprof}
export HOME GOCACHE PPROF_TMPDIR
mkdir -p "$HOME" "$GOCACHE" "$PPROF_TMPDIR" || exit 1

if ! "$go" tool -n pprof >/dev/null 2>&1; then
	echo "SKIP: '$go tool pprof' is not available"
	exit 77
fi

fail=0
# expect NAME FILE ERE: FILE has a line matching ERE.
expect() {
	if ! grep -Eq -- "$3" "$2"; then
		echo "FAIL: $1: no line matches /$3/"
		fail=1
	fi
}
# refuse NAME FILE ERE: FILE has no line matching ERE.
refuse() {
	if grep -Eq -- "$3" "$2"; then
		echo "FAIL: $1: unexpected line matching /$3/:"
		grep -E -- "$3" "$2" | sed 's/^/    /'
		fail=1
	fi
}
# pprof NAME ARGS...: run go tool pprof, output in $work/NAME.out/.err.
pprof() {
	name=$1
	shift
	if ! "$go" tool pprof "$@" "$work/s.pb.gz" >"$work/$name.out" 2>"$work/$name.err"; then
		echo "FAIL: go tool pprof $*:"
		sed 's/^/    /' "$work/$name.err"
		fail=1
	fi
}

"$sample" "$work/s.pb.gz" || {
	echo "FAIL: $sample did not write a profile"
	exit 1
}

pprof raw -raw
expect raw "$work/raw.out" 'thread:\[worker\]'
expect raw "$work/raw.out" 'thread:\[main\]'
expect raw "$work/raw.out" 'tid:\[101\]'
# One location, two lines: the inlined callee first, then its caller.
expect raw "$work/raw.out" 'compute demo/compute\.c:12'
expect raw "$work/raw.out" '^ +work demo/work\.c:40'
expect raw "$work/raw.out" 'lib_hash lib/hash\.c:3'
expect raw "$work/raw.out" '/usr/lib/libdemo\.so .*\[FN\]\[FL\]\[LN\]\[IN\]'
expect raw "$work/raw.out" '/usr/bin/demo abcdef0123 \[FN\]\[FL\]\[LN\]\[IN\]'

pprof top -top
expect top "$work/top.out" '^Type: cpu'
expect top "$work/top.out" 'Total samples = 650ms'
expect top "$work/top.out" '^ +300ms .* compute \(inline\)$'
expect top "$work/top.out" '^ +200ms .* lib_hash$'
expect top "$work/top.out" '^ +100ms .* 650ms +100%  main$'
expect top "$work/top.out" ' 500ms .* work$'
# recurse;recurse;main counts once in cum.
expect top "$work/top.out" '^ +50ms .* 50ms .* recurse$'
# Mapping flags set: pprof must not try to symbolize again.
refuse top "$work/top.err" '[Ss]ymbolization'

pprof tagfocus -top -tagfocus=thread=main
expect tagfocus "$work/tagfocus.out" '150ms +[0-9.]+% +main$'
expect tagfocus "$work/tagfocus.out" 'recurse$'
refuse tagfocus "$work/tagfocus.out" 'compute|lib_hash|work'

if [ "$fail" -ne 0 ]; then
	for f in raw top tagfocus; do
		echo "--- go tool pprof output ($f)"
		cat "$work/$f.out" "$work/$f.err"
	done
	exit 1
fi
echo "ok: go tool pprof reads the profile"
exit 0
