// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "engine/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE 256

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_lines[LOG_RING][LOG_LINE];
static enum log_level log_levels[LOG_RING];
static uint64_t log_n;
static int log_to_stderr;
static enum log_level log_stderr_min = LOG_INFO;
static FILE *log_file;
static char *log_path;
static int log_file_errno; /* the write to log_file that failed (it was then closed) */

static const char *const level_names[] = {"debug", "info", "warning", "error"};

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char line[LOG_LINE];
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One line each: libbpf messages end in '\n', ours may not. */
	len = strlen(line);
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';

	pthread_mutex_lock(&log_lock);
	memcpy(log_lines[log_n % LOG_RING], line, len + 1);
	log_levels[log_n % LOG_RING] = lvl;
	log_n++;
	if (log_to_stderr && lvl >= log_stderr_min)
		fprintf(stderr, "ecaptop: %s%s%s\n", lvl >= LOG_WARN ? level_names[lvl] : "",
			lvl >= LOG_WARN ? ": " : "", line);
	if (log_file) {
		struct timespec ts;
		struct tm tm;
		char stamp[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
		errno = 0;
		if (fprintf(log_file, "%s.%03ld %s %s\n", stamp, ts.tv_nsec / 1000000,
			    level_names[lvl], line) < 0 ||
		    fflush(log_file)) {
			/* Said once, where the user looks (stderr or the TUI's log), and
			 * the file is given up: a full disk must not cost every line. */
			log_file_errno = errno ? errno : EIO;
			fclose(log_file);
			log_file = NULL;
			snprintf(line, sizeof(line), "writing the log file %s failed: %s",
				 log_path ? log_path : "", strerror(log_file_errno));
			memcpy(log_lines[log_n % LOG_RING], line, strlen(line) + 1);
			log_levels[log_n % LOG_RING] = LOG_ERROR;
			log_n++;
			if (log_to_stderr)
				fprintf(stderr, "ecaptop: error: %s\n", line);
		}
	}
	pthread_mutex_unlock(&log_lock);
}

void log_set_stderr(int on, enum log_level min_level)
{
	pthread_mutex_lock(&log_lock);
	log_to_stderr = on;
	log_stderr_min = min_level;
	pthread_mutex_unlock(&log_lock);
}

int log_set_file(const char *path, char *err, size_t errlen)
{
	/* The rules of -w: O_NOFOLLOW (a symlink is refused), O_NONBLOCK so that a
	 * FIFO without a reader fails at once instead of hanging, and only a regular
	 * file, made 0600 if it was wider. */
	int fd =
	    open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	struct stat sb;
	char *name;
	FILE *f;
	int e;

	if (fd < 0) {
		e = errno;
		if (e == ELOOP)
			snprintf(err, errlen, "%s is a symbolic link: refusing to write through it",
				 path);
		else if (e == ENXIO)
			snprintf(err, errlen, "%s is a FIFO without a reader: not a regular file",
				 path);
		else
			snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		e = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
		snprintf(err, errlen, "%s is %s", path,
			 S_ISDIR(sb.st_mode) ? "a directory" : "not a regular file");
		close(fd);
		return -e;
	}
	if ((sb.st_mode & 07777) != 0600 && fchmod(fd, 0600) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot make %s private (mode 0600): %s", path, strerror(e));
		close(fd);
		return -e;
	}
	if (fcntl(fd, F_SETFL, O_APPEND) < 0 || !(name = strdup(path))) {
		e = errno ? errno : ENOMEM;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	f = fdopen(fd, "a");
	if (!f) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		free(name);
		close(fd);
		return -e;
	}
	pthread_mutex_lock(&log_lock);
	if (log_file)
		fclose(log_file);
	log_file = f;
	free(log_path);
	log_path = name;
	log_file_errno = 0;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

int log_file_error(void)
{
	int e;

	pthread_mutex_lock(&log_lock);
	e = log_file_errno;
	pthread_mutex_unlock(&log_lock);
	return e;
}

int log_get(size_t i, char *buf, size_t len, enum log_level *lvl)
{
	int ret = -1;

	pthread_mutex_lock(&log_lock);
	if (i < log_n && i < LOG_RING) {
		uint64_t idx = (log_n - 1 - i) % LOG_RING;

		snprintf(buf, len, "%s", log_lines[idx]);
		if (lvl)
			*lvl = log_levels[idx];
		ret = 0;
	}
	pthread_mutex_unlock(&log_lock);
	return ret;
}

uint64_t log_count(void)
{
	uint64_t n;

	pthread_mutex_lock(&log_lock);
	n = log_n;
	pthread_mutex_unlock(&log_lock);
	return n;
}

int log_close(void)
{
	int e;

	pthread_mutex_lock(&log_lock);
	if (log_file && fclose(log_file) && !log_file_errno)
		log_file_errno = errno ? errno : EIO;
	log_file = NULL;
	free(log_path);
	log_path = NULL;
	e = log_file_errno;
	pthread_mutex_unlock(&log_lock);
	return e;
}
