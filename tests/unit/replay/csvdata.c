/* Tests of replay/csvdata.c: RFC 4180 edge cases, errors with lines, binding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "csvdata.h"

typedef struct fixture {
    tpl_symtab_t *st;
    tpl_vars_t *vars;
    csvdata_t *c;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    f->st = tpl_symtab_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    csvdata_free(f->c);
    tpl_vars_free(f->vars);
    tpl_symtab_free(f->st);
    free(f);
    return 0;
}

static const scn_data_t header_named = { .path = "users.csv" };

/* Parses text with header-row names (vars NULL) or the given names. */
static void parse_ok(fixture_t *f, const char *text, size_t len, char **vars, size_t n_vars)
{
    scn_data_t d = { .path = "users.csv", .vars = vars, .n_vars = n_vars };
    char err[256];
    f->c = csvdata_parse("users.csv", text, len, &d, f->st, err, sizeof(err));
    if (!f->c)
        fail_msg("parse: %s", err);
    f->vars = tpl_vars_new(tpl_symtab_count(f->st));
}

/* The value of variable name after binding row. */
static const char *cell(fixture_t *f, size_t row, const char *name, size_t *len)
{
    assert_int_equal(csvdata_bind(f->c, row, f->vars), 0);
    int i = tpl_symtab_find(f->st, name);
    assert_true(i >= 0);
    return tpl_vars_get(f->vars, (size_t)i, len);
}

static void expect_error(const char *text, size_t len, size_t n_vars, const char *msg)
{
    char *vars[] = { "a", "b", "c" };
    scn_data_t d = { .path = "d.csv", .vars = n_vars ? vars : NULL, .n_vars = n_vars };
    tpl_symtab_t *st = tpl_symtab_new();
    char err[256] = "";
    csvdata_t *c = csvdata_parse("d.csv", text, len, &d, st, err, sizeof(err));
    tpl_symtab_free(st);
    if (c) {
        csvdata_free(c);
        fail_msg("parsed: %s", text);
    }
    if (!strstr(err, msg))
        fail_msg("error \"%s\" lacks \"%s\"", err, msg);
}

static void test_header_row(void **state)
{
    fixture_t *f = *state;
    const char *t = "user,password\nalice,a1\nbob,b2\ncarol,c3\n";
    parse_ok(f, t, strlen(t), NULL, 0);
    assert_int_equal(csvdata_rows(f->c), 3);
    assert_int_equal(csvdata_cols(f->c), 2);
    assert_int_equal(tpl_symtab_count(f->st), 2);
    assert_string_equal(cell(f, 0, "user", NULL), "alice");
    assert_string_equal(cell(f, 1, "password", NULL), "b2");
    /* user N takes row N modulo the rows */
    assert_string_equal(cell(f, 3, "user", NULL), "alice");
    assert_string_equal(cell(f, 5, "user", NULL), "carol");
    assert_string_equal(cell(f, 1000001, "user", NULL), "carol");
}

static void test_named_vars(void **state)
{
    fixture_t *f = *state;
    char *vars[] = { "login", "pin" };
    const char *t = "alice,1\r\nbob,2";
    parse_ok(f, t, strlen(t), vars, 2);
    assert_int_equal(csvdata_rows(f->c), 2); /* no header row, no final newline */
    assert_string_equal(cell(f, 0, "login", NULL), "alice");
    assert_string_equal(cell(f, 1, "pin", NULL), "2");
}

static void test_quotes(void **state)
{
    fixture_t *f = *state;
    const char *t =
        "name,note,empty\r\n"
        "\"Smith, J.\",\"said \"\"hi\"\"\",\"\"\r\n"
        "\"multi\nline\r\ntext\",plain \"inner\" quote,\r\n"
        ",,\r\n";
    parse_ok(f, t, strlen(t), NULL, 0);
    assert_int_equal(csvdata_rows(f->c), 3);
    assert_string_equal(cell(f, 0, "name", NULL), "Smith, J.");
    assert_string_equal(cell(f, 0, "note", NULL), "said \"hi\"");
    size_t len = 9;
    assert_string_equal(cell(f, 0, "empty", &len), "");
    assert_int_equal(len, 0);
    assert_string_equal(cell(f, 1, "name", NULL), "multi\nline\r\ntext");
    assert_string_equal(cell(f, 1, "note", NULL), "plain \"inner\" quote");
    assert_string_equal(cell(f, 2, "name", NULL), "");
}

static void test_blank_lines_bom_utf8(void **state)
{
    fixture_t *f = *state;
    const char *t = "\xEF\xBB\xBFid,city\n\n1,M\xC3\xBCnchen\n\r\n2,\xE6\x9D\xB1\xE4\xBA\xAC\n\n";
    parse_ok(f, t, strlen(t), NULL, 0);
    assert_int_equal(csvdata_rows(f->c), 2);
    assert_true(tpl_symtab_find(f->st, "id") >= 0); /* the BOM is not part of the name */
    assert_string_equal(cell(f, 0, "city", NULL), "M\xC3\xBCnchen");
    assert_string_equal(cell(f, 1, "city", NULL), "\xE6\x9D\xB1\xE4\xBA\xAC");
}

static void test_nul_bytes(void **state)
{
    fixture_t *f = *state;
    const char t[] = "v\na\0b\n";
    parse_ok(f, t, sizeof(t) - 1, NULL, 0);
    size_t len;
    const char *v = cell(f, 0, "v", &len);
    assert_int_equal(len, 3);
    assert_memory_equal(v, "a\0b", 3);
}

static void test_all_empty_cells(void **state)
{
    fixture_t *f = *state;
    char *vars[] = { "a", "b" };
    parse_ok(f, ",\n", 2, vars, 2);
    size_t len = 9;
    assert_string_equal(cell(f, 0, "b", &len), "");
    assert_int_equal(len, 0);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("", 0, 0, "d.csv:1: empty file");
    expect_error("\n\r\n", 3, 2, "d.csv:1: empty file");
    expect_error("a,b\n", 4, 0, "d.csv:2: no data rows");
    expect_error("a,b\n1,2\n3\n", 10, 0, "d.csv:3: expected 2 columns (as in line 1), found 1");
    expect_error("a,b\n\n\n1,2,3\n", 12, 0, "d.csv:4: expected 2 columns (as in line 1), found 3");
    expect_error("a,b\n1,\"2\n3,4\n", 13, 0, "d.csv:2: unterminated quote");
    expect_error("a,b\n\"x\ny\",1\n\"bad\"x,2\n", 21, 0, "d.csv:4: expected , or end of line after a closing quote");
    expect_error("1,2\n", 4, 3, "d.csv:1: expected 3 columns (one per variable), found 2");
    expect_error("x,,y\n1,2,3\n", 11, 0, "d.csv:1: column 2 has no variable name");
    expect_error("x,y,x\n1,2,3\n", 12, 0, "columns 1 and 3 are both bound to \"x\"");
}

static void test_unnamed_variable(void **state)
{
    fixture_t *f = *state;
    char *vars[] = { "a", "" };
    scn_data_t d = { .path = "d.csv", .vars = vars, .n_vars = 2 };
    char err[256] = "";
    assert_null(csvdata_parse("d.csv", "1,2\n", 4, &d, f->st, err, sizeof(err)));
    assert_string_equal(err, "d.csv: data source variable 2 has no name");
}

static void test_load_file(void **state)
{
    fixture_t *f = *state;
    char dir[] = "/tmp/csvtestXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof(path), "%s/users.csv", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("u,p\nx,1\ny,2\n", fp);
    fclose(fp);

    char err[256];
    f->c = csvdata_load(&header_named, dir, f->st, err, sizeof(err));
    assert_non_null(f->c);
    assert_int_equal(csvdata_rows(f->c), 2);
    csvdata_free(f->c);
    /* an absolute path ignores the base folder */
    scn_data_t abs = { .path = path };
    f->c = csvdata_load(&abs, "/nonexistent", f->st, err, sizeof(err));
    assert_non_null(f->c);

    scn_data_t missing = { .path = "nope.csv" };
    assert_null(csvdata_load(&missing, dir, f->st, err, sizeof(err)));
    assert_non_null(strstr(err, "nope.csv: cannot open"));

    /* errors name the file as it was opened */
    fp = fopen(path, "w");
    fputs("u,p\nx\n", fp);
    fclose(fp);
    csvdata_t *bad = csvdata_load(&header_named, dir, f->st, err, sizeof(err));
    assert_null(bad);
    char want[96];
    snprintf(want, sizeof(want), "%s:2: expected 2 columns", path);
    if (!strstr(err, want))
        fail_msg("error \"%s\" lacks \"%s\"", err, want);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_header_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_named_vars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quotes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blank_lines_bom_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_empty_cells, setup, teardown),
        cmocka_unit_test(test_errors),
        cmocka_unit_test_setup_teardown(test_unnamed_variable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
