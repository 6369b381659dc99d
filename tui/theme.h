/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Colour roles and themes. Everything on screen is drawn with a role (what the
 * text is), never a colour; a theme file maps roles to colours:
 *
 *   # comment
 *   ROLE = FG BG [bold] [underline] [reverse] [dim]
 *
 * FG/BG: default, black, red, green, yellow, blue, magenta, cyan, white,
 * bright-black ... bright-white, or a number 0-255. Roles a file does not name
 * keep the monochrome attribute of the table below. Without colour support, or
 * with NO_COLOR set, every theme is shown in monochrome (attributes only).
 *
 * A new role is added in one place: the TUI_ROLES list.
 */
#ifndef ECAPTOP_TUI_THEME_H
#define ECAPTOP_TUI_THEME_H

#include <stdbool.h>
#include <stddef.h>

/* X(enum suffix, name in theme files, monochrome attribute) */
#define TUI_ROLES(X)                                                                               \
	X(NORMAL, "normal", A_NORMAL)                                                              \
	X(HEADER, "header", A_BOLD)                                                                \
	X(HEADER_VALUE, "header-value", A_BOLD)                                                    \
	X(TAB, "tab", A_NORMAL)                                                                    \
	X(TAB_FOCUS, "tab-focus", A_REVERSE | A_BOLD)                                              \
	X(COLUMNS, "columns", A_REVERSE)                                                           \
	X(SELECTION, "selection", A_REVERSE)                                                       \
	X(TAGGED, "tagged", A_BOLD | A_UNDERLINE)                                                  \
	X(DIM, "dim", A_DIM)                                                                       \
	X(ERROR, "error", A_BOLD | A_REVERSE)                                                      \
	X(LOST, "lost", A_BOLD | A_REVERSE)                                                        \
	X(PAUSED, "paused", A_BOLD | A_REVERSE)                                                    \
	X(STATUS, "status", A_NORMAL)                                                              \
	X(KEY, "key", A_REVERSE)                                                                   \
	X(KEY_LABEL, "key-label", A_NORMAL)                                                        \
	X(HTTP_METHOD, "http-method", A_BOLD)                                                      \
	X(STATUS_OK, "status-ok", A_NORMAL)                                                        \
	X(STATUS_REDIRECT, "status-redirect", A_NORMAL)                                            \
	X(STATUS_ERROR, "status-error", A_BOLD)                                                    \
	X(PROTO, "proto", A_NORMAL)                                                                \
	X(COMMAND, "command", A_NORMAL)                                                            \
	X(QUERY, "query", A_NORMAL)                                                                \
	X(SEND, "send", A_NORMAL)                                                                  \
	X(RECV, "recv", A_NORMAL)                                                                  \
	X(HEX_OFFSET, "hex-offset", A_DIM)                                                         \
	X(SEARCH, "search", A_UNDERLINE)                                                           \
	X(POPUP, "popup", A_NORMAL)                                                                \
	X(POPUP_TITLE, "popup-title", A_BOLD)

#define TUI_ROLE_ENUM(e, n, a) ROLE_##e,
enum tui_role { TUI_ROLES(TUI_ROLE_ENUM) ROLE_MAX };
#undef TUI_ROLE_ENUM

/* Set up colours for the running curses screen and load theme name (or the
 * saved choice, or "dark"). dir: an extra directory to search first, or NULL.
 * 0, or -errno when the theme file was not found or is invalid (a message
 * describing the line is logged; the monochrome table is used). */
int theme_init(const char *name, const char *dir);
/* Switch to another theme. 0 or -errno (the current theme stays). */
int theme_load(const char *name);
/* The curses attribute (colour pair and flags) of a role. */
int theme_attr(enum tui_role role);
/* Name of the theme in use ("mono" when colour is off). */
const char *theme_name(void);
/* Whether colours are in use (false: NO_COLOR, no colour terminal). */
bool theme_has_color(void);
/* Names of the themes found, sorted; returns how many (at most max). Each name
 * is written into names[i] (max_len bytes). */
size_t theme_list(char names[][32], size_t max);
/* Remember name in ~/.config/ecaptop/config. 0 or -errno. */
int theme_save_choice(const char *name);
/* The saved choice, or NULL. Returns a static buffer. */
const char *theme_saved_choice(void);

#endif
