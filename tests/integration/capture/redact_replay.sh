#!/usr/bin/env bash
# Redaction that keeps the replay working (issue 13 item 7): a shop session
# recorded with --redact-header Authorization --redact-body '$.password'
# --redact-form pin --secrets-out holds none of the three secrets anywhere in
# the file (grep of the bytes), the secrets file (0600) does; the login's token
# stays for the converter's correlation. The converted scenario refuses to run
# without --secrets (exit 2, the variables named), and with it replays with 0
# failures; a second capture in front of the target shows the replay sent the
# real password, static key and pin.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
for b in "$T_CONVERT" "$T_REPLAY"; do [ -x "$b" ] || t_skip "$(basename "$b") is not built"; done
t_need curl python3
t_target --quiet
PW=PW-s3cr3t-7781 KEY=c3RhdGljLWtleS05OTQy PIN=FORM-PIN-5521
REC="$T_DIR/rec.mp" SECRETS="$T_DIR/secrets.json"
cap_start -o "$REC" --session-cookie session --redact-header Authorization --redact-body '$.password' \
    --redact-form pin --secrets-out "$SECRETS"
c() { curl -sS -f --max-time 10 -x "$CAP_PROXY" -b "$T_DIR/jar" -c "$T_DIR/jar" "$@"; }
login=$(c -H 'Content-Type: application/json' -d '{"user": "alice", "password": "'$PW'"}' "$TARGET_URL/api/login") ||
    t_fail "login through the proxy"
token=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["token"])' "$login") || t_fail "no token: $login"
c -H "Authorization: Basic $KEY" "$TARGET_URL/api/search?q=shoes" >/dev/null || t_fail search
c -H "Authorization: Bearer $token" "$TARGET_URL/api/profile" >/dev/null || t_fail profile
c -H 'Content-Type: application/json' -d '{"item": 3, "qty": 1}' "$TARGET_URL/api/cart" >/dev/null || t_fail cart
page=$(c "$TARGET_URL/checkout") || t_fail checkout
csrf=$(sed -nE 's/.*name="csrf" value="([0-9a-f]+)".*/\1/p' <<<"$page" | head -1)
c -d "csrf=$csrf&pin=$PIN" "$TARGET_URL/api/order" >/dev/null || t_fail order
cap_stop INT

for s in "$PW" "$KEY" "$PIN"; do
    ! grep -aq -- "$s" "$REC" || t_fail "the recording holds the secret '$s'"
done
t_log "ok: none of the three secrets is in the recording's bytes"
t_eq "secrets file mode" 600 "$(stat -c %a "$SECRETS")"
python3 - "$SECRETS" "$PW" "Basic $KEY" "$PIN" <<'PY' || t_fail "secrets file: $(cat "$SECRETS")"
import json, sys
s = json.load(open(sys.argv[1]))
want = {"secret.password": sys.argv[2], "secret.authorization": sys.argv[3], "secret.pin": sys.argv[4]}
assert s == want, s
PY
t_log "ok: the secrets file holds the three values under their variables"
cap_dump "$REC" -H >"$T_DIR/dump-h.txt"
grep -q $'^\t> Authorization: {{secret.authorization}}$' "$T_DIR/dump-h.txt" || t_fail "static Authorization not a variable"
grep -q $'^\t> Authorization: Bearer '"$token"'$' "$T_DIR/dump-h.txt" || t_fail "the login's token was not left for correlation"
grep -q "1 left as recorded because an earlier response holds them" "$CAP_LOG" || t_fail "kept token not counted: $(tail -1 "$CAP_LOG")"
t_log "ok: $(tail -1 "$CAP_LOG")"

"$T_CONVERT" "$REC" -o "$T_DIR/scn.mp" 2>"$T_DIR/convert.log" || t_fail "convert: $(cat "$T_DIR/convert.log")"
"$T_CONVERT" --dump "$T_DIR/scn.mp" >"$T_DIR/scn.json"
grep -q 'Bearer {{token}}' "$T_DIR/scn.json" || t_fail "the converter did not correlate the login's token"
grep -q '{{secret.password}}' "$T_DIR/scn.json" || t_fail "the login body lost its {{secret.password}}"
t_log "ok: the converter correlates the token and keeps the secret variables"

# Without --secrets: refused, the variables named.
rc=0
"$T_REPLAY" "$T_DIR/scn.mp" --host "$TARGET_URL" -u 1 --iterations 1 -q >"$T_DIR/nosecrets.out" 2>&1 || rc=$?
t_eq "replay without --secrets: exit" 2 "$rc"
grep -q 'secret.password' "$T_DIR/nosecrets.out" || t_fail "the refusal does not name the variables: $(cat "$T_DIR/nosecrets.out")"
t_log "ok: $(head -1 "$T_DIR/nosecrets.out")"

# With --secrets, through a second capture that keeps what the replay sent.
SEEN="$T_DIR/seen.mp"
cap_start -o "$SEEN" --reverse "$TARGET_URL"
rc=0
"$T_REPLAY" "$T_DIR/scn.mp" --secrets "$SECRETS" --host "$CAP_PROXY" -u 2 --iterations 2 --think-scale 0 \
    --timeout 10s --report "$T_DIR/r.json" -q >"$T_DIR/replay.out" 2>&1 || rc=$?
cap_stop INT
t_eq "replay with --secrets: exit" 0 "$rc"
python3 - "$T_DIR/r.json" <<'PY' || t_fail "the replay reported failures"
import json, sys
r = json.load(open(sys.argv[1]))
bad = [(e["method"], e["name"], e["failures"]) for e in r["entries"] if e["failures"]]
print("replay: %d requests, %d failures %s" % (r["total"]["count"], r["total"]["failures"], bad))
sys.exit(1 if r["total"]["failures"] or r["total"]["count"] < 12 else 0)
PY
for s in "$PW" "$KEY" "$PIN"; do
    grep -aq -- "$s" "$SEEN" || t_fail "the replay did not send the secret '$s'"
done
t_log "ok: the replay sent the real password, key and pin, 0 failures"
