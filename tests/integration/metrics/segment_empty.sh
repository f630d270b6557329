#!/usr/bin/env bash
# Issue 18: with more segments than users (an Indexed Job of N pods for fewer
# users), a segment the shape gives no user and no arrival rate has nothing to
# do: it must not fail its Job (exit 0, one line saying so), while a run that
# planned requests and got no success still exits 1.
. "$AIOTEST_SRC/tests/integration/lib.sh"
. "$AIOTEST_SRC/tests/integration/metrics/mlib.sh"
m_need_replay
m_scenario shop
t_target --quiet

# 2 users over 4 segments: segments 2 and 3 get none.
m_replay seg3.log "$SCENARIO" --host "$TARGET_URL" -u 2 --iterations 2 --segment 3/4 \
    --report "$T_DIR/s3.json"
t_eq "segment 3/4 of 2 users: exit status" 0 "$M_RC"
t_check "one line says the segment had nothing to do" grep -q "nothing planned for segment 3/4" "$T_DIR/seg3.log"
t_eq "its report has no request" 0 "$(m_json "$T_DIR/s3.json" 'd["total"]["count"]')"
m_replay seg1.log "$SCENARIO" --host "$TARGET_URL" -u 2 --iterations 2 --segment 1/4 \
    --report "$T_DIR/s1.json"
t_eq "segment 1/4 of 2 users: exit status" 0 "$M_RC"
t_eq "segment 1/4 made its user's requests" 4 "$(m_json "$T_DIR/s1.json" 'd["total"]["count"]')"
# The empty segment's report merges with the others.
m_replay merge.log --merge "$T_DIR/s1.json" "$T_DIR/s3.json" --report "$T_DIR/m.json"
t_eq "merge with an empty segment: exit status" 0 "$M_RC"
t_eq "merged count" 4 "$(m_json "$T_DIR/m.json" 'd["total"]["count"]')"

# An open-model stage gives every segment a share of the rate: planned.
printf 'rate 1s 4\n' >"$T_DIR/rate.txt"
m_replay open.log "$SCENARIO" --host "http://127.0.0.1:1" --shape "$T_DIR/rate.txt" --segment 3/4 \
    --connect-timeout 1s
t_eq "open-model segment with no success: exit status" 1 "$M_RC"
t_check "... and no 'nothing planned' note" bash -c "! grep -q 'nothing planned' '$T_DIR/open.log'"
# Users planned, none succeeded (nothing listens): still a failed run.
m_replay down.log "$SCENARIO" --host "http://127.0.0.1:1" -u 2 --iterations 1 --segment 1/4 \
    --connect-timeout 1s
t_eq "planned user, no success: exit status" 1 "$M_RC"
t_check "says no request succeeded" grep -q "no request succeeded" "$T_DIR/down.log"
t_log "ok"
