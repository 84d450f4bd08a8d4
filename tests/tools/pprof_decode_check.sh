#!/bin/sh
# pprof_decode_check.sh - pprof_sample's profile, read back by
# pprof_decode, gives exactly the lines the sample put in.
#
# usage: pprof_decode_check.sh PPROF_SAMPLE PPROF_DECODE
set -u

sample=$1
decode=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/pprof_decode_check.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT INT TERM
tab=$(printf '\t')

"$sample" "$work/s.pb.gz" || exit 1
"$decode" "$work/s.pb.gz" >"$work/out" || exit 1
"$decode" --lines "$work/s.pb.gz" >"$work/lines" || exit 1
"$decode" --folded 0 "$work/s.pb.gz" >"$work/folded" || exit 1

cat >"$work/want" <<END
types samples/count cpu/nanoseconds
default_type cpu
period cpu/nanoseconds 10000000
time_nanos 1700000000000000000
duration_nanos 650000000
comment pprof_sample test profile
mapping 1 0x400000 0x500000 0x0 /usr/bin/demo abcdef0123
mapping 2 0x7f0000000000 0x7f0000100000 0x1000 /usr/lib/libdemo.so -
sample 30 300000000${tab}compute;work;main${tab}thread=worker tid=101
sample 20 200000000${tab}lib_hash;work;main${tab}thread=worker tid=101
sample 10 100000000${tab}main${tab}thread=main tid=100
sample 5 50000000${tab}recurse;recurse;main${tab}thread=main tid=100
END
cat >"$work/want_folded" <<END
main 10
main;recurse;recurse 5
main;work;compute 30
main;work;lib_hash 20
END

fail=0
diff -u "$work/want" "$work/out" || fail=1
diff -u "$work/want_folded" "$work/folded" || fail=1
grep -q "^sample 30 300000000${tab}compute@demo/compute.c:12;work@demo/work.c:40;main@demo/main.c:7${tab}" \
	"$work/lines" || {
	echo "FAIL: --lines:"
	cat "$work/lines"
	fail=1
}

# Bad input: one line on stderr, exit 1.
printf 'not a profile' >"$work/bad"
if "$decode" "$work/bad" >/dev/null 2>"$work/err"; then
	echo "FAIL: garbage accepted"
	fail=1
fi
grep -q '^pprof_decode: ' "$work/err" || {
	echo "FAIL: no error line:"
	cat "$work/err"
	fail=1
}
exit $fail
