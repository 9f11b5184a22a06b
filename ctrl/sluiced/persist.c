/* SPDX-License-Identifier: BSD-3-Clause */
/* The state file: atomic writes, strict reads. See persist.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errmsg.h"
#include "log.h"
#include "persist.h"

void persist_default_path(const char *config_path, char *out, size_t len)
{
	size_t n = strlen(config_path);

	if (n > 5 && strcmp(config_path + n - 5, ".json") == 0)
		snprintf(out, len, "%.*s.state.json", (int)(n - 5), config_path);
	else
		snprintf(out, len, "%s.state.json", config_path);
}

int persist_load(const char *path, struct overlay *ov, json_t **ids, char *err, size_t errlen)
{
	json_t *host = NULL;
	int rc = persist_load_all(path, ov, ids, &host, err, errlen);

	json_decref(host);
	return rc;
}

int persist_load_all(const char *path, struct overlay *ov, json_t **ids, json_t **host, char *err,
		     size_t errlen)
{
	static const char *const keys[] = {"version", "overlay", "ids", "host", NULL};
	char msg[512] = "";
	struct ju_err e = {msg, sizeof(msg)};
	json_error_t jerr;
	json_t *root;
	__u32 version = 0;
	bool present;
	int rc;

	memset(ov, 0, sizeof(*ov));
	*ids = NULL;
	*host = NULL;
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (jerr.line < 0)
			return sluice_errf(err, errlen, -EINVAL, "state file %s: %s", path,
					   jerr.text);
		return sluice_errf(err, errlen, -EINVAL, "state file %s:%d:%d: %s", path,
				   jerr.line, jerr.column, jerr.text);
	}
	if ((rc = ju_expect_object(&e, root, "(top level)")) < 0 ||
	    (rc = ju_check_keys(&e, root, "(top level)", keys)) < 0 ||
	    (rc = ju_get_u32(&e, root, "version", "", 0, 0xffffffffu, &version, &present)) < 0)
		goto fail;
	if (!present) {
		rc = ju_fail(&e, "version", "missing");
		goto fail;
	}
	if (version != PERSIST_VERSION) {
		rc = ju_fail(&e, "version", "%u: this sluiced reads version %u", version,
			     PERSIST_VERSION);
		goto fail;
	}
	if (json_object_get(root, "overlay") &&
	    (rc = overlay_from_json(json_object_get(root, "overlay"), "overlay", ov, &e)) < 0)
		goto fail;
	*ids = json_incref(json_object_get(root, "ids"));
	*host = json_incref(json_object_get(root, "host"));
	json_decref(root);
	return 0;
fail:
	sluice_errf(err, errlen, 0, "state file %s: %s", path, msg);
	json_decref(root);
	return rc;
}

char *persist_render(const struct overlay *ov, const json_t *ids)
{
	return persist_render_all(ov, ids, NULL);
}

char *persist_render_all(const struct overlay *ov, const json_t *ids, const json_t *host)
{
	json_t *root = json_pack("{s:i, s:o}", "version", PERSIST_VERSION, "overlay",
				 overlay_to_json(ov));
	char *text;

	if (!root)
		return NULL;
	if (ids)
		json_object_set(root, "ids", (json_t *)ids);
	if (host)
		json_object_set(root, "host", (json_t *)host);
	text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(root);
	return text;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int persist_write(const char *path, const char *text, char *err, size_t errlen)
{
	char tmp[4096], dir[4096];
	const char *parent;
	int fd, rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		return sluice_errf(err, errlen, -ENAMETOOLONG, "state file %s: path too long",
				   path);
	}
	/* Whoever can write to the directory could leave a symlink at the
	 * temporary name; opening through it would overwrite its target with
	 * the state (as root), and the rename would then put the link in the
	 * state file's place. So the name is cleared (a leftover from a crash,
	 * or such a link: unlink removes the link, not its target) and created
	 * afresh: O_EXCL fails on anything there, a link included, should one
	 * reappear in between, and O_NOFOLLOW says so for good measure. */
	if (unlink(tmp) < 0 && errno != ENOENT) {
		rc = -errno;
		return sluice_errf(err, errlen, rc, "cannot remove the leftover %s: %s", tmp,
				   strerror(-rc));
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		return sluice_errf(err, errlen, rc, "cannot create %s: %s", tmp, strerror(-rc));
	}
	rc = write_all(fd, text, strlen(text));
	if (rc == 0)
		rc = write_all(fd, "\n", 1);
	/* The data must be on disk before the name points at it. */
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0) {
		sluice_errf(err, errlen, 0, "cannot write %s: %s", tmp, strerror(-rc));
		unlink(tmp);
		return rc;
	}
	if (rename(tmp, path) < 0) {
		rc = -errno;
		sluice_errf(err, errlen, 0, "cannot rename %s to %s: %s", tmp, path,
			    strerror(-rc));
		unlink(tmp);
		return rc;
	}
	/* And the rename itself must survive a power cut. If that fails the
	 * new file is in place all the same, and a restart reads it: failing
	 * here would make the caller undo a change that comes back after a
	 * restart. Only a crash may still lose it; say so and succeed. */
	snprintf(dir, sizeof(dir), "%s", path);
	parent = dirname(dir);
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		slog(SLOG_WARN, "state file %s: written, but syncing %s failed (%s): "
				"a crash now may lose the change",
		     path, parent, strerror(errno));
	if (fd >= 0)
		close(fd);
	return 0;
}
