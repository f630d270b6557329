#!/usr/bin/env bash
# aiotest-capture --pcap writes the same recordings as the reference build:
# for every shared real capture (../shared/testdata/pcap), once with the
# defaults and once with a small --max-body, --redact-defaults and a session
# cookie, the JSON view (aiotest-convert --dump, without the header's
# created_us) and the counter line hash to what pcap_golden.ref says. The
# reference was made by main at 6092068 (before issue 20's round-2 changes to
# the pcap path), so a speed-up that changes one byte of a recording fails here.
# To remake it after a change that is meant to alter recordings, run this test
# with GOLDEN_WRITE=FILE and review the differences with --dump first.
. "$AIOTEST_SRC/tests/integration/lib.sh"
SHARED=$(t_shared) || exit $?
REF="$AIOTEST_SRC/tests/integration/capture/pcap_golden.ref"
[ -x "$T_CONVERT" ] || t_skip "aiotest-convert is not built"

out="$T_DIR/got"
: >"$out"
for f in "$SHARED"/pcap/*; do
    b=$(basename "$f")
    for v in plain capped; do
        opts=()
        [ "$v" = capped ] && opts=(--max-body 1000 --redact-defaults --session-cookie PHPSESSID)
        "$T_CAPTURE" --pcap "$f" -o "$T_DIR/g.mp" "${opts[@]}" 2>"$T_DIR/g.err"
        rc=$?
        d=$("$T_CONVERT" --dump "$T_DIR/g.mp" | grep -v '"created_us"' | sha256sum | cut -c1-64)
        e=$(grep 'done:' "$T_DIR/g.err" | sha256sum | cut -c1-64)
        echo "$b $v $rc $d $e" >>"$out"
        if ! grep -qxF "$b $v $rc $d $e" "$REF"; then
            t_log "differs: $b ($v): exit $rc; $(grep 'done:' "$T_DIR/g.err")"
        fi
    done
done
if [ -n "${GOLDEN_WRITE:-}" ]; then
    cp "$out" "$GOLDEN_WRITE"
    t_log "wrote $GOLDEN_WRITE"
fi
n=$(wc -l <"$REF")
[ "$n" -ge 80 ] || t_fail "$REF has $n lines, expected 2 per shared capture (>= 80)"
missing=$(cut -d' ' -f1,2 "$REF" | while read -r b v; do [ -f "$SHARED/pcap/$b" ] || echo "$b"; done | sort -u)
[ -z "$missing" ] || t_fail "captures of the reference absent from $SHARED/pcap: $missing"
bad=$(sort "$REF" | comm -23 - <(sort "$out") | wc -l)
[ "$bad" = 0 ] || t_fail "$bad of $n recordings differ from the reference (listed above)"
t_log "ok: $n recordings identical to the reference"
