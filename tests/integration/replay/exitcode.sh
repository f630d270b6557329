# Exit status a CI job can trust (docs/aiotest-replay.md "Exit status"):
# without --fail-on a failed request means exit 1 (--exit-code-on-error N
# changes it, 0 keeps the run green); with --fail-on the thresholds decide;
# a run in which no request succeeded exits 1 whatever the options, and says so.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/replay/lib-replay.sh"
SCN="$AIOTEST_SRC/tests/integration/replay/api.json"

t_check "--help documents --exit-code-on-error" sh -c "'$T_REPLAY' --help | grep -q -- --exit-code-on-error"
r_replay "$SCN" --exit-code-on-error 256
t_eq "--exit-code-on-error 256: usage error" 2 "$R_RC"
r_replay "$SCN" --exit-code-on-error x
t_eq "--exit-code-on-error x: usage error" 2 "$R_RC"

# No failure: 0.
t_target --quiet
r_replay "$SCN" --host "$TARGET_URL" -u 2 --iterations 20 -t 30s --report "$T_DIR/ok.json"
t_eq "clean run: exit status" 0 "$R_RC"
t_eq "clean run: no failure" 0 "$(r_json "$T_DIR/ok.json" 'r["total"]["failures"]')"

# Some failures (10 % answered 500).
t_target --quiet --fail-rate 0.1
r_replay "$SCN" --host "$TARGET_URL" -u 2 --iterations 200 -t 60s --report "$T_DIR/some.json"
t_check "some failures: there are some" r_in 1 399 "$(r_json "$T_DIR/some.json" 'r["total"]["failures"]')"
t_eq "some failures, no --fail-on: exit status" 1 "$R_RC"
t_check "some failures: says why on stderr" grep -q "requests failed" "$T_DIR/replay.err"
r_replay "$SCN" --host "$TARGET_URL" -u 2 --iterations 200 -t 60s --exit-code-on-error 0
t_eq "some failures, --exit-code-on-error 0: exit status" 0 "$R_RC"
r_replay "$SCN" --host "$TARGET_URL" -u 2 --iterations 200 -t 60s --exit-code-on-error 3
t_eq "some failures, --exit-code-on-error 3: exit status" 3 "$R_RC"
r_replay "$SCN" --host "$TARGET_URL" -u 2 --iterations 200 -t 60s --fail-on 'errors<50%'
t_eq "some failures, passing --fail-on: exit status" 0 "$R_RC"
r_replay "$SCN" --host "$TARGET_URL" -u 2 --iterations 200 -t 60s --fail-on 'errors<0.5%' \
    --exit-code-on-error 0
t_eq "some failures, failing --fail-on: exit status" 1 "$R_RC"

# Every request answered 500: nothing succeeded.
t_target --quiet --fail-rate 1
r_replay "$SCN" --host "$TARGET_URL" -u 2 --iterations 20 -t 30s --exit-code-on-error 0 \
    --fail-on 'p99<10s'
t_eq "all failed (500), passing thresholds, --exit-code-on-error 0: exit status" 1 "$R_RC"
t_check "all failed: says so" grep -q "no request succeeded" "$T_DIR/replay.err"

# Target down: every request a connect failure.
DEAD=$(t_port)
r_replay "$SCN" --host "http://127.0.0.1:$DEAD" -u 2 -t 1s --exit-code-on-error 0
t_eq "target down, --exit-code-on-error 0: exit status" 1 "$R_RC"
t_check "target down: says so" grep -q "no request succeeded" "$T_DIR/replay.err"
