/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The state file (persist.c): what is written is read back; a process that
 * dies between writing the new contents and renaming them over the old
 * file leaves the old state, whole; a failed rename changes nothing; a
 * symlink planted at the temporary name is not written through; a
 * file that cannot be trusted is refused with its name and the reason.
 *
 * rename() is wrapped (-Wl,--wrap=rename) so the test can kill the writer
 * at exactly that point, and fsync() (-Wl,--wrap=fsync) so that syncing
 * the directory can fail after the rename.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "persist.h"

enum rename_mode { RENAME_REAL, RENAME_CRASH, RENAME_FAIL };
static enum rename_mode rename_mode = RENAME_REAL;

int __real_rename(const char *from, const char *to);
int __wrap_rename(const char *from, const char *to);

int __wrap_rename(const char *from, const char *to)
{
	if (rename_mode == RENAME_CRASH)
		_exit(0); /* the power goes out: nothing after this runs */
	if (rename_mode == RENAME_FAIL) {
		errno = EXDEV;
		return -1;
	}
	return __real_rename(from, to);
}

static bool fail_dir_fsync;

int __real_fsync(int fd);
int __wrap_fsync(int fd);

int __wrap_fsync(int fd)
{
	struct stat sb;

	if (fail_dir_fsync && fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		errno = EIO;
		return -1;
	}
	return __real_fsync(fd);
}

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sluice-persist-test-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/sluice.state.json", dir);
	rename_mode = RENAME_REAL;
	fail_dir_fsync = false;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* An overlay with one backend entry of the given weight. */
static void one_entry(struct overlay *ov, __u32 weight)
{
	memset(ov, 0, sizeof(*ov));
	ov->backends = calloc(1, sizeof(*ov->backends));
	ov->n_backends = 1;
	sluice_vip_key_parse("10.0.0.1:80", &ov->backends[0].vip);
	sluice_addr_parse("10.0.1.1", &ov->backends[0].addr);
	ov->backends[0].has_weight = true;
	ov->backends[0].weight = weight;
}

static void save(__u32 weight)
{
	struct overlay ov;
	char err[512], *text;

	one_entry(&ov, weight);
	text = persist_render(&ov, NULL);
	assert_non_null(text);
	if (persist_write(path, text, err, sizeof(err)) < 0)
		fail_msg("write: %s", err);
	free(text);
	overlay_free(&ov);
}

static __u32 load_weight(void)
{
	struct overlay ov;
	json_t *ids;
	char err[512];
	__u32 w;

	if (persist_load(path, &ov, &ids, err, sizeof(err)) < 0)
		fail_msg("load: %s", err);
	assert_int_equal(ov.n_backends, 1);
	w = ov.backends[0].weight;
	overlay_free(&ov);
	json_decref(ids);
	return w;
}

static void test_round_trip(void **state)
{
	struct overlay ov;
	json_t *ids = json_pack("{s:i, s:i, s:[]}", "next_vip", 3, "next_backend", 9, "vips"), *back;
	char err[512], *text;
	struct stat sb;
	(void)state;

	/* No file yet: an empty state, not an error. */
	assert_int_equal(persist_load(path, &ov, &back, err, sizeof(err)), 0);
	assert_true(overlay_is_empty(&ov));
	assert_null(back);

	one_entry(&ov, 42);
	text = persist_render(&ov, ids);
	assert_int_equal(persist_write(path, text, err, sizeof(err)), 0);
	overlay_free(&ov);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(persist_load(path, &ov, &back, err, sizeof(err)), 0);
	assert_int_equal(ov.backends[0].weight, 42);
	assert_true(json_equal(back, ids));
	overlay_free(&ov);
	json_decref(back);
	json_decref(ids);
	free(text);
}

/* The writer dies after writing and syncing the new contents, before the
 * rename: the old state is what a restart reads, whole. */
static void test_crash_before_rename(void **state)
{
	char tmp[160];
	pid_t pid;
	int status;
	(void)state;

	save(1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		rename_mode = RENAME_CRASH;
		save(2); /* exits inside rename */
		_exit(1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The new contents were complete on disk next to it... */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), 0);
	/* ...but the state is the old one, and nothing is half-written. */
	assert_int_equal(load_weight(), 1);
	/* The next writer replaces the leftover and moves on. */
	save(3);
	assert_int_equal(load_weight(), 3);
	assert_int_equal(access(tmp, F_OK), -1);
}

/* A link at the temporary name, to a file the writer may overwrite (it
 * runs as root): the target is untouched and the state is a regular file. */
static void test_tmp_symlink_not_followed(void **state)
{
	char tmp[160], victim[160], buf[64] = "";
	struct stat sb;
	FILE *f;
	(void)state;

	snprintf(victim, sizeof(victim), "%s/victim", dir);
	f = fopen(victim, "w");
	assert_non_null(f);
	fputs("precious", f);
	fclose(f);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(symlink(victim, tmp), 0);
	save(7);
	f = fopen(victim, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "precious");
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(load_weight(), 7);
	assert_int_equal(lstat(tmp, &sb), -1);
}

static void test_failed_rename(void **state)
{
	struct overlay ov;
	char err[512], tmp[160], *text;
	(void)state;

	save(5);
	rename_mode = RENAME_FAIL;
	one_entry(&ov, 6);
	text = persist_render(&ov, NULL);
	assert_int_equal(persist_write(path, text, err, sizeof(err)), -EXDEV);
	assert_non_null(strstr(err, "cannot rename"));
	rename_mode = RENAME_REAL;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1); /* cleaned up */
	assert_int_equal(load_weight(), 5);
	free(text);
	overlay_free(&ov);
}

/* The new file took the name, then the directory would not sync: the
 * change is in place and a restart reads it, so it is reported done (an
 * error would have the caller roll back what the file already holds). */
static void test_failed_dir_sync(void **state)
{
	struct overlay ov;
	char err[512] = "", *text;
	(void)state;

	save(5);
	fail_dir_fsync = true;
	one_entry(&ov, 6);
	text = persist_render(&ov, NULL);
	if (persist_write(path, text, err, sizeof(err)) < 0)
		fail_msg("reported as failed: %s", err);
	fail_dir_fsync = false;
	assert_int_equal(load_weight(), 6);
	free(text);
	overlay_free(&ov);
}

static void write_raw(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_corrupt_refused(void **state)
{
	static const struct {
		const char *text, *expect;
	} cases[] = {
		{"{\"version\": 1, \"overlay\": {\"backends\": [", ":1:"},
		{"", ":1:0: '[' or '{' expected near end of file"},
		{"{\"version\": 2}", ": version: 2: this sluiced reads version 1"},
		{"{\"overlay\": {}}", ": version: missing"},
		{"{\"version\": 1, \"oops\": 1}", ": (top level): unknown key \"oops\""},
		{"{\"version\": 1, \"overlay\": {\"backends\": [{\"vip\": \"10.0.0.1:80\", "
		 "\"address\": \"10.0.1.1\", \"state\": \"gone\"}]}}",
		 ": overlay.backends[0].state: \"gone\" is not one of"},
		{"[1, 2]", ": (top level): expected an object"},
	};
	struct overlay ov;
	json_t *ids;
	char err[512], prefix[200];
	(void)state;

	snprintf(prefix, sizeof(prefix), "state file %s", path);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_raw(cases[i].text);
		err[0] = '\0';
		assert_int_equal(persist_load(path, &ov, &ids, err, sizeof(err)), -EINVAL);
		if (strncmp(err, prefix, strlen(prefix)) || !strstr(err, cases[i].expect))
			fail_msg("case %zu: \"%s\" does not say \"%s...%s\"", i, err, prefix,
				 cases[i].expect);
	}
}

static void test_default_path(void **state)
{
	char out[256];
	(void)state;

	persist_default_path("/etc/sluice/sluice.json", out, sizeof(out));
	assert_string_equal(out, "/etc/sluice/sluice.state.json");
	persist_default_path("/etc/sluice/lb.conf", out, sizeof(out));
	assert_string_equal(out, "/etc/sluice/lb.conf.state.json");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_before_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmp_symlink_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_dir_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_refused, setup, teardown),
		cmocka_unit_test(test_default_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
