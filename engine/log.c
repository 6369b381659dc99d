// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "engine/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
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
		fprintf(log_file, "%s.%03ld %s %s\n", stamp, ts.tv_nsec / 1000000, level_names[lvl],
			line);
		fflush(log_file);
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

int log_set_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f;

	if (fd < 0)
		return -errno;
	f = fdopen(fd, "a");
	if (!f) {
		int err = -errno;

		close(fd);
		return err;
	}
	pthread_mutex_lock(&log_lock);
	if (log_file)
		fclose(log_file);
	log_file = f;
	pthread_mutex_unlock(&log_lock);
	return 0;
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

void log_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_file)
		fclose(log_file);
	log_file = NULL;
	pthread_mutex_unlock(&log_lock);
}
