// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Colour roles and theme files: see theme.h. */
#include "tui/theme.h"

#include <ctype.h>
#include <curses.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/log.h"

#define TUI_ROLE_NAME(e, n, a) n,
static const char *const role_names[ROLE_MAX] = {TUI_ROLES(TUI_ROLE_NAME)};
#undef TUI_ROLE_NAME
#define TUI_ROLE_MONO(e, n, a) (int)(a),
static const int role_mono[ROLE_MAX] = {TUI_ROLES(TUI_ROLE_MONO)};
#undef TUI_ROLE_MONO

#define MAX_DIRS 8

static struct {
	int attr[ROLE_MAX];
	bool color;
	char name[32];
	char dirs[MAX_DIRS][PATH_MAX];
	size_t n_dirs;
} th;

static void add_dir(const char *d)
{
	size_t n = d ? strlen(d) : 0;

	/* a longer path could not name a file anyway */
	if (n && n < PATH_MAX && th.n_dirs < MAX_DIRS)
		memcpy(th.dirs[th.n_dirs++], d, n + 1);
}

static void find_dirs(const char *extra)
{
	char exe[PATH_MAX], buf[PATH_MAX + 32];
	ssize_t n;

	th.n_dirs = 0;
	add_dir(extra);
	add_dir(getenv("ECAPTOP_THEME_DIR"));
	/* next to the binary: the source tree (./ecaptop, themes/) and an install
	 * prefix (bin/ecaptop, share/ecaptop/themes) */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(buf, sizeof(buf), "%s/themes", exe);
			add_dir(buf);
			snprintf(buf, sizeof(buf), "%s/../share/ecaptop/themes", exe);
			add_dir(buf);
		}
	}
	add_dir("themes");
	add_dir("/usr/local/share/ecaptop/themes");
	add_dir("/usr/share/ecaptop/themes");
}

static void set_mono(void)
{
	int i;

	for (i = 0; i < ROLE_MAX; i++)
		th.attr[i] = role_mono[i];
}

static const char *const color_names[] = {"black", "red",     "green", "yellow",
					  "blue",  "magenta", "cyan",  "white"};

/* A colour name or number; -1 is the terminal's default. -2 if invalid. */
static int parse_color(const char *s)
{
	char *end;
	long v;
	int i;

	if (!strcasecmp(s, "default"))
		return -1;
	for (i = 0; i < 8; i++) {
		if (!strcasecmp(s, color_names[i]))
			return i;
		if (!strncasecmp(s, "bright-", 7) && !strcasecmp(s + 7, color_names[i]))
			return i + 8;
	}
	v = strtol(s, &end, 10);
	if (*s && !*end && v >= 0 && v <= 255)
		return (int)v;
	return -2;
}

static int parse_flag(const char *s)
{
	if (!strcasecmp(s, "bold"))
		return A_BOLD;
	if (!strcasecmp(s, "underline"))
		return A_UNDERLINE;
	if (!strcasecmp(s, "reverse"))
		return A_REVERSE;
	if (!strcasecmp(s, "dim"))
		return A_DIM;
	if (!strcasecmp(s, "normal"))
		return A_NORMAL;
	return -1;
}

/* Parse one file into attr[]. 0 or -errno; a bad line is logged and fails the file
 * so a typo does not silently give a half theme. */
static int parse_file(const char *path, int attr[ROLE_MAX])
{
	FILE *f = fopen(path, "re");
	char line[256];
	int lineno = 0, err = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *eq, *tok, *save = NULL, *name;
		int role, fg, bg, flags = 0, ntok = 0;

		lineno++;
		p[strcspn(p, "#\r\n")] = '\0';
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			continue;
		eq = strchr(p, '=');
		if (!eq) {
			log_msg(LOG_WARN, "theme %s:%d: expected ROLE = FG BG [flags]", path,
				lineno);
			err = -EINVAL;
			break;
		}
		*eq = '\0';
		name = strtok_r(p, " \t", &save);
		for (role = 0; name && role < ROLE_MAX; role++)
			if (!strcmp(name, role_names[role]))
				break;
		if (!name || role == ROLE_MAX) {
			log_msg(LOG_WARN, "theme %s:%d: unknown role '%s'", path, lineno,
				name ? name : "");
			err = -EINVAL;
			break;
		}
		fg = bg = -1;
		save = NULL;
		for (tok = strtok_r(eq + 1, " \t", &save); tok;
		     tok = strtok_r(NULL, " \t", &save)) {
			int v;

			if (ntok < 2) {
				v = parse_color(tok);
				if (v == -2) {
					log_msg(LOG_WARN, "theme %s:%d: unknown colour '%s'", path,
						lineno, tok);
					err = -EINVAL;
					break;
				}
				if (ntok++ == 0)
					fg = v;
				else
					bg = v;
				continue;
			}
			v = parse_flag(tok);
			if (v < 0) {
				log_msg(LOG_WARN, "theme %s:%d: unknown attribute '%s'", path,
					lineno, tok);
				err = -EINVAL;
				break;
			}
			flags |= v;
		}
		if (err)
			break;
		/* colours beyond what the terminal has fall back to the basic eight */
		if (fg >= COLORS)
			fg = fg % 8;
		if (bg >= COLORS)
			bg = bg % 8;
		init_pair((short)(role + 1), (short)fg, (short)bg);
		attr[role] = (int)COLOR_PAIR(role + 1) | flags;
	}
	fclose(f);
	return err;
}

static int find_file(const char *name, char *path, size_t len)
{
	size_t i;

	/* a theme name is a file name, not a path */
	if (!name[0] || strchr(name, '/') || name[0] == '.')
		return -EINVAL;
	for (i = 0; i < th.n_dirs; i++) {
		snprintf(path, len, "%s/%s.theme", th.dirs[i], name);
		if (access(path, R_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

int theme_load(const char *name)
{
	int attr[ROLE_MAX], i, err;
	char path[PATH_MAX + 64];

	if (!th.color) {
		/* monochrome whatever was asked for: remember the choice's name only so
		 * the picker shows what is saved */
		set_mono();
		snprintf(th.name, sizeof(th.name), "mono");
		return 0;
	}
	err = find_file(name, path, sizeof(path));
	if (err) {
		log_msg(LOG_WARN,
			"theme '%s' not found (searched themes/ next to the binary, "
			"./themes and /usr/share/ecaptop/themes)",
			name);
		return err;
	}
	for (i = 0; i < ROLE_MAX; i++) {
		/* unnamed roles: default colours with the monochrome attribute */
		init_pair((short)(i + 1), -1, -1);
		attr[i] = (int)COLOR_PAIR(i + 1) | role_mono[i];
	}
	err = parse_file(path, attr);
	if (err)
		return err;
	memcpy(th.attr, attr, sizeof(attr));
	snprintf(th.name, sizeof(th.name), "%s", name);
	return 0;
}

int theme_init(const char *name, const char *dir)
{
	const char *nc = getenv("NO_COLOR");
	int err;

	find_dirs(dir);
	set_mono();
	snprintf(th.name, sizeof(th.name), "mono");
	/* https://no-color.org: any non-empty value turns colour off */
	th.color = has_colors() && !(nc && nc[0]);
	if (th.color) {
		start_color();
		use_default_colors();
		th.color = COLOR_PAIRS > ROLE_MAX;
	}
	if (!name)
		name = theme_saved_choice();
	if (!name)
		name = "dark";
	err = theme_load(name);
	if (err && strcmp(name, "dark"))
		err = theme_load("dark");
	return err;
}

int theme_attr(enum tui_role role)
{
	return role < ROLE_MAX ? th.attr[role] : (int)A_NORMAL;
}

const char *theme_name(void)
{
	return th.name;
}

bool theme_has_color(void)
{
	return th.color;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

size_t theme_list(char names[][32], size_t max)
{
	size_t n = 0, i, j;

	for (i = 0; i < th.n_dirs; i++) {
		DIR *d = opendir(th.dirs[i]);
		struct dirent *de;

		if (!d)
			continue;
		while ((de = readdir(d)) && n < max) {
			size_t len = strlen(de->d_name);

			if (len <= 6 || len - 6 >= 32 || strcmp(de->d_name + len - 6, ".theme") ||
			    de->d_name[0] == '.')
				continue;
			snprintf(names[n], 32, "%.*s", (int)(len - 6), de->d_name);
			for (j = 0; j < n && strcmp(names[j], names[n]); j++)
				;
			if (j == n)
				n++;
		}
		closedir(d);
	}
	qsort(names, n, 32, cmp_name);
	return n;
}

static int config_path(char *buf, size_t len, bool mkdirs)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char dir[PATH_MAX];

	if (xdg && xdg[0] == '/')
		snprintf(dir, sizeof(dir), "%s", xdg);
	else if (home && home[0] == '/')
		snprintf(dir, sizeof(dir), "%s/.config", home);
	else
		return -ENOENT;
	if (mkdirs && mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	if (strlen(dir) + 9 >= sizeof(dir))
		return -ENAMETOOLONG;
	strcat(dir, "/ecaptop");
	if (mkdirs && mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	if ((size_t)snprintf(buf, len, "%s/config", dir) >= len)
		return -ENAMETOOLONG;
	return 0;
}

const char *theme_saved_choice(void)
{
	static char name[32];
	char path[PATH_MAX], line[256];
	const char *found = NULL;
	FILE *f;
	int fd;

	if (config_path(path, sizeof(path), false))
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return NULL;
	}
	while (fgets(line, sizeof(line), f)) {
		char v[32];

		if (sscanf(line, " theme = %31[A-Za-z0-9_-]", v) == 1) {
			snprintf(name, sizeof(name), "%s", v);
			found = name;
		}
	}
	fclose(f);
	return found;
}

int theme_save_choice(const char *name)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], line[256];
	FILE *in, *out;
	int fd, err;

	err = config_path(path, sizeof(path), true);
	if (err)
		return err;
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	unlink(tmp);
	/* never through a symlink; 0600 like every file we create */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	out = fdopen(fd, "w");
	if (!out) {
		err = -errno;
		close(fd);
		unlink(tmp);
		return err;
	}
	/* keep every other setting of the file */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	in = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!in && fd >= 0)
		close(fd);
	if (in) {
		while (fgets(line, sizeof(line), in)) {
			char v[32];

			if (sscanf(line, " theme = %31s", v) != 1)
				fputs(line, out);
		}
		fclose(in);
	}
	fprintf(out, "theme = %s\n", name);
	if (fclose(out)) {
		err = -errno;
		unlink(tmp);
		return err;
	}
	if (rename(tmp, path)) {
		err = -errno;
		unlink(tmp);
		return err;
	}
	return 0;
}
