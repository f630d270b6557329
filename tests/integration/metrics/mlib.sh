# Helpers for the metrics and report tests (issue 5). Source after lib.sh.

# m_need_replay: skips (exit 77) until aiotest-replay with --metrics, aiotest-target
# and aiotest-convert (to build the scenario) are built in this checkout.
m_need_replay() {
    [ -x "$T_REPLAY" ] || t_skip "aiotest-replay is not built in this checkout yet"
    "$T_REPLAY" --help 2>&1 | grep -q -- --metrics ||
        t_skip "aiotest-replay has no --metrics option yet"
    [ -x "$T_TARGET" ] || t_skip "aiotest-target is not built in this checkout yet"
    [ -x "$T_CONVERT" ] || t_skip "aiotest-convert is not built (it turns the test scenario into .mp)"
}

# m_scenario NAME: writes $T_DIR/NAME.mp, one class that loops over GET /api/search
# and GET /api/item/{id} without waiting (both subject to the target's delay and
# fail rate). Sets SCENARIO.
m_scenario() {
    cat >"$T_DIR/$1.json" <<'JSON'
{
  "format": "aiotest-scenario",
  "version": [1, 0],
  "tool": "tests/integration/metrics",
  "hosts": [{"base_url": "http://127.0.0.1:1", "proto": "h1"}],
  "classes": [
    {
      "name": "reader",
      "weight": 1,
      "wait": {"kind": "none"},
      "tasks": [
        {"requests": [{"name": "GET /api/search", "method": "GET", "url": "/api/search?q=shoes"}]},
        {"requests": [{"name": "GET /api/item/{id}", "method": "GET", "url": "/api/item/{{random_int 1 100}}"}]}
      ]
    }
  ]
}
JSON
    "$T_CONVERT" --from-json "$T_DIR/$1.json" -o "$T_DIR/$1.mp" >"$T_DIR/convert-$1.log" 2>&1 ||
        t_fail "aiotest-convert --from-json rejected the test scenario: $(cat "$T_DIR/convert-$1.log")"
    SCENARIO=$T_DIR/$1.mp
}

# m_json FILE EXPR: prints the Python expression EXPR over the JSON document d.
m_json() {
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# m_replay LOG ARGS...: runs aiotest-replay in the foreground; output in $T_DIR/LOG;
# sets M_RC to its exit code.
m_replay() {
    local log=$1; shift
    timeout 120 "$T_REPLAY" "$@" >"$T_DIR/$log" 2>&1
    M_RC=$?
    [ "$M_RC" = 124 ] && t_fail "aiotest-replay did not end within 120 s: $(tail -5 "$T_DIR/$log")"
    m_no_sanitizer_report "$T_DIR/$log"
}

# m_no_sanitizer_report LOG: fails when a sanitizer build reported an error in LOG
# (ASan exits 1, which would pass for a failed threshold).
m_no_sanitizer_report() {
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$1"; then
        grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$1" | head -40
        t_fail "sanitizer report in $(basename "$1")"
    fi
    return 0
}

# m_prometheus PORT... : starts a real Prometheus scraping 127.0.0.1:PORT for each
# PORT every second (extra flags in M_PROM_FLAGS); waits until it is ready and has
# tried every target once (so it sees a run from its start). Sets PPORT.
m_prometheus() {
    local targets="" p
    for p in "$@"; do targets="$targets'127.0.0.1:$p', "; done
    cat >"$T_DIR/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: aiotest
    static_configs:
      - targets: [${targets%, }]
YML
    m_prometheus_start $#
}

# m_prometheus_pods RUN PORT... : the same with deploy/kubernetes/scrape-config.yaml
# (its relabelling), every 1 s, each PORT standing for pod K of an Indexed Job of
# run RUN: file discovery gives the labels Kubernetes discovery would
# (Debian's Prometheus has no Kubernetes discovery); with the recording rules of
# deploy/kubernetes/rules.yaml.
m_prometheus_pods() {
    local run=$1 k=0 p sep=""
    shift
    {
        echo "["
        for p in "$@"; do
            printf '%s{"targets": ["127.0.0.1:%s"], "labels": {' "$sep" "$p"
            printf '"__meta_kubernetes_pod_label_app_kubernetes_io_name": "aiotest", '
            printf '"__meta_kubernetes_pod_annotation_prometheus_io_scrape": "true", '
            printf '"__meta_kubernetes_pod_container_port_name": "metrics", '
            printf '"__meta_kubernetes_pod_label_aiotest_io_run": "%s", ' "$run"
            printf '"__meta_kubernetes_pod_annotation_batch_kubernetes_io_job_completion_index": "%s", ' "$k"
            printf '"__meta_kubernetes_pod_name": "aiotest-%s-%s"}}\n' "$run" "$k"
            sep=","
            k=$((k + 1))
        done
        echo "]"
    } >"$T_DIR/pods.json"
    sed -e 's/kubernetes_sd_configs:/file_sd_configs:/' \
        -e "s|- role: pod|- files: ['$T_DIR/pods.json']|" \
        -e 's/scrape_interval: .*/scrape_interval: 1s/' -e 's/scrape_timeout: .*/scrape_timeout: 900ms/' \
        "$AIOTEST_SRC/deploy/kubernetes/scrape-config.yaml" >"$T_DIR/prometheus.yml"
    # The shipped recording rules, evaluated every second.
    sed 's/interval: .*/interval: 1s/' "$AIOTEST_SRC/deploy/kubernetes/rules.yaml" >"$T_DIR/rules.yaml"
    printf 'rule_files: [%s]\n' "'$T_DIR/rules.yaml'" >>"$T_DIR/prometheus.yml"
    m_prometheus_start $#
}

# m_prometheus_start N: starts Prometheus with $T_DIR/prometheus.yml and waits
# until it has tried its N targets once. Sets PPORT.
m_prometheus_start() {
    PPORT=$(t_port)
    # shellcheck disable=SC2086
    t_bg prometheus prometheus --config.file="$T_DIR/prometheus.yml" \
        --web.listen-address="127.0.0.1:$PPORT" --storage.tsdb.path="$T_DIR/tsdb" ${M_PROM_FLAGS:-}
    t_wait_port "$PPORT" 30
    local i
    for i in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$PPORT/-/ready" >/dev/null && break
        sleep 0.2
    done
    curl -sf "http://127.0.0.1:$PPORT/-/ready" >/dev/null ||
        t_fail "prometheus not ready: $(tail -3 "$T_DIR/prometheus.log")"
    for i in $(seq 1 150); do
        [ "$(curl -sf "http://127.0.0.1:$PPORT/api/v1/targets" | grep -o '"lastScrape":"[^0]' | wc -l)" -ge "$1" ] && return 0
        sleep 0.2
    done
    t_fail "prometheus did not scrape its $1 targets within 30 s"
}

# m_promq EXPR [TIME]: the value of an instant query (at Unix TIME when given), as a
# number with up to 3 decimals ("none" when the result is empty).
m_promq() {
    curl -sf "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" \
        ${2:+--data-urlencode "time=$2"} |
        python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(("%.3f" % float(r[0]["value"][1])).rstrip("0").rstrip(".") if r else "none")'
}
