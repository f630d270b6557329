# Helpers of the HTTP/2 tests. Source after lib.sh and replay/lib-replay.sh.

# h2_count LOG REGEX: lines of a file matching the extended regex (0 when none).
h2_count() {
    grep -cE "$2" "$1" || true
}

# h2_proto_count REPORT PROTO: requests carried by PROTO ("h2", "http/1.1"),
# all entries together, from the report's per-protocol counts.
h2_proto_count() {
    r_json "$1" "sum(e.get('protocols', {}).get('$2', 0) for e in r['entries'])"
}

# h2_per_iteration REPORT [USERS]: the time of one pass of a user's tasks, in
# seconds: run length over completed iterations per user (USERS default 1).
h2_per_iteration() {
    r_json "$1" "round(r['duration_s'] * ${2:-1} / max(1, r['iterations']['completed']), 3)"
}

# h2_nginx_tls BODY: nginx with the given server{} blocks; makes $T_DIR/srv.crt
# (give it to --ca) and writes access logs in the 'proto' format.
h2_nginx() {
    [ -f "$T_DIR/srv.crt" ] || t_selfsigned srv
    t_nginx "$1"
}
