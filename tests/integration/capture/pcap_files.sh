#!/usr/bin/env bash
# aiotest-capture --pcap on the shared real captures (../shared/testdata/pcap,
# see its SOURCES.md): the number of exchanges written equals the table's
# "Exchanges" column (TShark's count of HTTP/1 requests plus HTTP/2 requests),
# read from SOURCES.md at test time. Rule: every request seen is one exchange,
# answered or not; a request whose answer is missing or cut by a capture gap
# is still written, flagged incomplete. Then deep facts of a few files.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/capture/caplib.sh"
SHARED=$(t_shared) || exit $?
[ -f "$SHARED/SOURCES.md" ] || t_skip "$SHARED/SOURCES.md is absent"

# Files where our count differs from TShark's, with the reason.
declare -A EXCEPT=(
    # 49 connections, one request-line variant each. http_parser is strict:
    # a truncated version ("GET / HTTP/1."), an unknown method (CCM_POST) or a
    # request line without a target is not a request to it, while TShark's
    # heuristics accept them. The refused ones are counted as skipped.
    [zeek__http__methods.pcap]=15
)

# file -> expected exchanges, from the pcap table of SOURCES.md
awk -F'|' '/^\| `[^`]*\.pcap(ng)?`/ { f = $2; gsub(/[ `]/, "", f); n = $10; gsub(/[ *]/, "", n); print f, n }' \
    "$SHARED/SOURCES.md" >"$T_DIR/expected"
total=$(wc -l <"$T_DIR/expected")
[ "$total" -ge 40 ] || t_fail "SOURCES.md lists $total pcap files, expected 40"

bad=0
while read -r f want; do
    [ -f "$SHARED/pcap/$f" ] || t_fail "$f is listed in SOURCES.md but absent"
    rec="$T_DIR/$f.mp"
    if ! "$T_CAPTURE" --pcap "$SHARED/pcap/$f" -o "$rec" 2>"$T_DIR/$f.err"; then
        cat "$T_DIR/$f.err" >&2
        t_log "FAIL: $f: aiotest-capture failed"
        bad=$((bad + 1))
        continue
    fi
    grep -q 'done: .* packets' "$T_DIR/$f.err" || t_fail "$f: no counter line"
    cap_dump "$rec" >"$T_DIR/$f.dump"
    got=$(wc -l <"$T_DIR/$f.dump")
    exp=${EXCEPT[$f]:-$want}
    note=""
    [ -n "${EXCEPT[$f]:-}" ] && note=" (TShark: $want; documented difference)"
    if [ "$got" = "$exp" ]; then
        t_log "ok: $f: $got exchanges$note"
    else
        t_log "FAIL: $f: $got exchanges, expected $exp$note"
        bad=$((bad + 1))
    fi
done <"$T_DIR/expected"
[ "$bad" = 0 ] || t_fail "$bad of $total files differ"

# Deep facts. recdump columns: 1 method, 2 url, 3 status, 6 flags, 7 stream,
# 8 conn, 9 client, 13 req_len, 14 resp_len, 15 truncated, 18 error, 19 version.
d="$T_DIR/filesamples__simple_http.pcap.dump"
t_eq "simple_http: requests" "GET http://localhost:56789/ 200 1;GET http://localhost:56789/favicon.ico 404 2;" \
    "$(cut -f1,2,3,8 "$d" | tr '\t' ' ' | tr '\n' ';')"
t_eq "simple_http SLL2 (other port): same methods, statuses, bodies" "$(cut -f1,3-5 "$d")" \
    "$(cut -f1,3-5 "$T_DIR/filesamples__simple_http_sll2.pcap.dump")"

d="$T_DIR/pcap_file_ex__http2_sample.pcapng.dump"
t_eq "h2c sample: streams 1..41, all h2 and 404" \
    "$(seq 1 2 41 | sed 's/$/ 404 h2 HTTP\/2/' | tr '\n' ';')" \
    "$(cut -f3,6,7,19 "$d" | awk -F'\t' '{ print $3, $1, $2, $4 }' | tr '\n' ';')"
t_eq "h2c sample: 15 GET + 6 POST on one connection" "15 GET 6 POST 1" \
    "$(cut -f1 "$d" | sort | uniq -c | awk '{ printf "%s %s ", $1, $2 }')$(cut -f8 "$d" | sort -u | wc -l)"

d="$T_DIR/ndpi__http_ua_splitted_in_two_pkts.pcapng.dump"
t_eq "37 keep-alive GETs: method, connections, complete" "37 GET 1 0" \
    "$(cut -f1 "$d" | sort | uniq -c | awk '{ printf "%s %s ", $1, $2 }')$(cut -f8 "$d" | sort -u | wc -l) $(grep -c incomplete "$d")"
"$T_RECDUMP" -H "$T_DIR/ndpi__http_ua_splitted_in_two_pkts.pcapng.mp" | grep -q '> User-Agent: .*Android' ||
    t_fail "User-Agent split over two segments not read whole"
t_log "ok: User-Agent split over two segments read whole"

d="$T_DIR/zeek__http__http-post-large.pcap.dump"
t_eq "two 61484-byte POST bodies" "POST 61484 0,0;POST 61484 0,0;" "$(cut -f1,13,15 "$d" | tr '\t' ' ' | tr '\n' ';')"
t_eq "multipart upload POST body" "POST 449" "$(grep POST "$T_DIR/arkime__http-post-upload.pcap.dump" | cut -f1,13 | tr '\t' ' ')"
t_eq "h2c POST of 131072 bytes over many DATA frames" "POST 131072 415" \
    "$(cut -f1,13,3 "$T_DIR/suricata-verify__dns-over-http2-limit__input.pcap.dump" | awk -F'\t' '{ print $1, $3, $2 }')"
"$T_CAPTURE" --pcap "$SHARED/pcap/zeek__http__http-post-large.pcap" --max-body 1000 -o "$T_DIR/cap.mp" 2>/dev/null ||
    t_fail "--max-body run"
t_eq "--max-body 1000: bodies cut and flagged" "1000 1000 1,1;1000 1000 1,1;" \
    "$(cap_dump "$T_DIR/cap.mp" | cut -f13,14,15 | tr '\t' ' ' | tr '\n' ';')"

t_eq "100-continue: one POST, final 200, body 2001" "POST 200 2001 -" \
    "$(cut -f1,3,13,6 "$T_DIR/zeek__http__100-continue.pcap.dump" | awk -F'\t' '{ print $1, $2, $4, $3 }')"
t_eq "h2c upgrade: request on HTTP/1.1, answer on stream 1; then stream 3" \
    "GET http://nghttp2.org/robots.txt 200 1 HTTP/1.1;GET http://nghttp2.org/humans.txt 404 3 HTTP/2;" \
    "$(cut -f1,2,3,7,19 "$T_DIR/suricata-verify__http2-keywords2__input.pcap.dump" | tr '\t' ' ' | tr '\n' ';')"
t_eq "WebSocket upgrade: the 101 is the answer" "GET 101" "$(cut -f1,3 "$T_DIR/zeek__http__websocket.pcap.dump" | tr '\t' ' ')"
t_eq "absolute-URI request to a proxy" "http://bro.org/" "$(cut -f2 "$T_DIR/zeek__http__proxy.pcap.dump")"
t_eq "request without response: incomplete" "0 incomplete no response in the capture" \
    "$(cut -f3,6,18 "$T_DIR/zeek__http__multipart-form-data.pcap.dump" | tr '\t' ' ')"
grep -P '\tincomplete\t' "$T_DIR/zeek__http__bro.org.pcap.dump" | cut -f18 | grep -q 'capture gap of 7240 bytes in the response' ||
    t_fail "bro.org: the response cut by a capture gap is not flagged"
t_log "ok: a response cut by a capture gap is flagged incomplete"
t_eq "IPv6 client key" "::1" "$(cut -f9 "$T_DIR/suricata-verify__http-ipv6__input.pcap.dump")"
# pcapng with two interfaces of different link types: read past libpcap's
# limit, --filter compiled for the packets' own link type.
f="$SHARED/pcap/pcap_file_ex__sample_multi_nanosecond.pcapng"
for flt in 'tcp port 8899:4' 'udp:0'; do
    "$T_CAPTURE" --pcap "$f" --filter "${flt%:*}" -o "$T_DIR/multi.mp" 2>/dev/null || t_fail "--filter '${flt%:*}'"
    t_eq "two-interface pcapng with --filter '${flt%:*}'" "${flt#*:}" "$(cap_dump "$T_DIR/multi.mp" | wc -l)"
done
