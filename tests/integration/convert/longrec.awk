# longrec.awk: one client's session of n exchanges as conv-mkrec lines (the
# columns of mkrec.c), of the kinds correlation looks at: a login token sent
# back in every request, an identical ETag and a unique request id in every
# response, a cursor every 10th answer that the next request sends back, JSON
# item lists, a client-made UUID per request. Used by long.sh and
# bench/convert:  awk -v n=200000 -f longrec.awk | conv-mkrec OUT.mp
BEGIN {
    OFS = "\t"; H = "http://127.0.0.1:8080"; tok = "tok-5f3a9c0e71b24d88"; t = 0
    printf "c1\t0\t5\tPOST\t%s/api/login\t200\tapplication/json\t{\"token\": \"%s\"}\t{\"user\": \"bench\"}\tETag: \"65a-264\"\n", H, tok
    cursor = ""
    for (i = 1; i < n; i++) {
        t += 7
        url = H "/api/items?page=" (i % 50)
        if (cursor != "") url = url "&after=" cursor
        cursor = ""
        if (i % 10 == 0) {
            cursor = sprintf("cur%dx%08x", i, (i * 2654435761) % 4294967296)
            body = sprintf("{\"next\": \"%s\", \"count\": %d}", cursor, i)
        } else {
            body = sprintf("[{\"id\": %d, \"sku\": \"SKU-%06d\"}, {\"id\": %d, \"sku\": \"SKU-%06d\"}]", 100000 + i, i, 200000 + i, i + 1)
        }
        uuid = sprintf("%08x-face-4bcd-a%03x-%012x", i, (i * 7) % 4096, i * 31)
        rh = sprintf("ETag: \"65a-264\"|X-Request-Id: req-%d-%x", i, i * 40503)
        qh = sprintf("Authorization: Bearer %s|X-Trace: %s", tok, uuid)
        print "c1", t, t + 3, "GET", url, 200, "application/json", body, "", rh, qh
    }
}
