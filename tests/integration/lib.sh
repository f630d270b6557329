# Shared helpers for integration tests. Source it: . "$AIOTEST_SRC/tests/integration/lib.sh"
# Every process a test starts is recorded and stopped by PID on exit.
set -u
: "${AIOTEST_BUILD:?run through meson test (AIOTEST_BUILD unset)}"
: "${AIOTEST_SRC:?run through meson test (AIOTEST_SRC unset)}"

T_DIR=$(mktemp -d /tmp/aiotest-test.XXXXXX)
T_PIDS=()
T_NAME=$(basename "${0%.sh}")

t_cleanup() {
    local pid
    for pid in "${T_PIDS[@]:-}"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null
    done
    for pid in "${T_PIDS[@]:-}"; do
        [ -n "$pid" ] && wait "$pid" 2>/dev/null
    done
    if [ "${T_KEEP:-0}" = 1 ]; then echo "kept $T_DIR"; else rm -rf "$T_DIR"; fi
}
trap t_cleanup EXIT

# Binaries of this build.
T_TARGET="$AIOTEST_BUILD/target/aiotest-target"
T_CAPTURE="$AIOTEST_BUILD/capture/aiotest-capture"
T_CONVERT="$AIOTEST_BUILD/convert/aiotest-convert"
T_REPLAY="$AIOTEST_BUILD/replay/aiotest-replay"

t_log() { echo "[$T_NAME] $*"; }
t_fail() { echo "[$T_NAME] FAIL: $*" >&2; exit 1; }
t_skip() { echo "[$T_NAME] SKIP: $*"; exit 77; }

# t_check DESCRIPTION COMMAND...: runs the command, fails the test when it fails.
t_check() {
    local what=$1; shift
    if "$@"; then t_log "ok: $what"; else t_fail "$what"; fi
}

# t_eq DESCRIPTION EXPECTED ACTUAL
t_eq() {
    if [ "$2" = "$3" ]; then t_log "ok: $1 ($3)"; else t_fail "$1: expected '$2', got '$3'"; fi
}

# t_port: a free TCP port on 127.0.0.1 (bound once by the kernel, then released).
t_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# t_wait_port PORT [SECONDS]: waits until something listens on 127.0.0.1:PORT.
t_wait_port() {
    local port=$1 deadline=$((SECONDS + ${2:-10}))
    while [ $SECONDS -lt $deadline ]; do
        if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    t_fail "nothing listens on 127.0.0.1:$port after ${2:-10}s"
}

# t_bg NAME COMMAND...: starts a process in the background, output to $T_DIR/NAME.log;
# its PID is in T_LAST_PID and stopped at exit.
t_bg() {
    local name=$1; shift
    "$@" >"$T_DIR/$name.log" 2>&1 &
    T_LAST_PID=$!
    T_PIDS+=("$T_LAST_PID")
}

# t_need CMD...: skips the test when a peer program is missing.
t_need() {
    local c
    for c in "$@"; do command -v "$c" >/dev/null 2>&1 || t_skip "$c is not installed"; done
}

# t_target [ARGS...]: starts aiotest-target on a free port; sets TARGET_PORT, TARGET_URL, TARGET_PID.
t_target() {
    [ -x "$T_TARGET" ] || t_fail "aiotest-target not built"
    TARGET_PORT=$(t_port)
    t_bg "target-$TARGET_PORT" "$T_TARGET" --port "$TARGET_PORT" "$@"
    TARGET_PID=$T_LAST_PID
    t_wait_port "$TARGET_PORT"
    TARGET_URL="http://127.0.0.1:$TARGET_PORT"
}

# t_shared: path of ../shared/testdata beside the checkout, or skip.
t_shared() {
    local d="$AIOTEST_SRC/../shared/testdata"
    [ -d "$d" ] || t_skip "../shared/testdata is absent (tests that need real captures are skipped)"
    echo "$(cd "$d" && pwd)"
}

# t_selfsigned NAME [CN]: makes $T_DIR/NAME.crt/.key for 127.0.0.1 and localhost.
t_selfsigned() {
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=${2:-localhost}" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$T_DIR/$1.key" -out "$T_DIR/$1.crt" >/dev/null 2>&1 || t_fail "openssl req"
}

# t_nginx CONF_BODY: writes an nginx.conf around the given http{} body and starts
# nginx in the foreground as the current user; sets NGINX_PID. The body may use
# $T_DIR paths. Logs go to $T_DIR/nginx-*.log.
t_nginx() {
    t_need nginx
    mkdir -p "$T_DIR/nginx-tmp"
    cat >"$T_DIR/nginx.conf" <<NGX
daemon off;
master_process off;
worker_processes 1;
pid $T_DIR/nginx.pid;
error_log $T_DIR/nginx-error.log warn;
events { worker_connections 4096; }
http {
    client_body_temp_path $T_DIR/nginx-tmp/body;
    proxy_temp_path $T_DIR/nginx-tmp/proxy;
    fastcgi_temp_path $T_DIR/nginx-tmp/fastcgi;
    uwsgi_temp_path $T_DIR/nginx-tmp/uwsgi;
    scgi_temp_path $T_DIR/nginx-tmp/scgi;
    log_format proto '\$request_method \$uri \$status \$server_protocol';
$1
}
NGX
    t_bg nginx nginx -c "$T_DIR/nginx.conf" -e "$T_DIR/nginx-error.log"
    NGINX_PID=$T_LAST_PID
}
