#!/bin/bash
# Correlation stays near-linear in session length (issue 21 item 3: one
# client's 20 000 exchanges took 72 s, a 130 000-exchange capture did not
# finish in 280 s). One client's 50 000 exchanges (longrec.awk) convert with
# correlation on in well under the bound below even under ASan; the quadratic
# scan needed about 6 x 72 s, so a return to it fails here by the time bound,
# not by a tight timing assertion. Checks what was correlated, too.
. "$AIOTEST_SRC/tests/integration/lib.sh"
MKREC="$AIOTEST_BUILD/tests/integration/convert/conv-mkrec"
N=50000

awk -v n=$N -f "$AIOTEST_SRC/tests/integration/convert/longrec.awk" | "$MKREC" "$T_DIR/long.mp" \
    || t_fail "conv-mkrec"
start=$(date +%s)
rc=0
timeout -k 5 200 "$T_CONVERT" "$T_DIR/long.mp" -o "$T_DIR/long-scn.mp" 2>"$T_DIR/report" || rc=$?
took=$(( $(date +%s) - start ))
[ "$rc" = 124 ] && t_fail "$N exchanges not converted in 200 s: correlation is quadratic again"
[ "$rc" = 0 ] || t_fail "aiotest-convert exit $rc: $(tail -3 "$T_DIR/report")"
t_log "ok: $N exchanges converted in ${took} s (bound 200 s)"
summary=$(grep -E '^aiotest-convert: [0-9]+ read;' "$T_DIR/report")
# The token once, a cursor every 10th answer (the last one unused), each
# request's one-off UUID.
t_eq "correlated" "$(( 1 + (N - 1) / 10 ))" "$(grep -oE '[0-9]+ correlated' <<<"$summary" | cut -d' ' -f1)"
t_eq "generated" "$(( N - 1 ))" "$(grep -oE '[0-9]+ generated' <<<"$summary" | cut -d' ' -f1)"
grep -q '{{token}} <- json \$.token' "$T_DIR/report" || t_fail "login token not correlated"
exit 0
