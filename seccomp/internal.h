/* Private to seccomp/: where things are in a profile's text, for messages (position.c). */
#ifndef BERTH_SECCOMP_INTERNAL_H
#define BERTH_SECCOMP_INTERNAL_H

#include "seccomp.h"

/* A NUL-terminated copy of text with its leading '#' lines (and blank lines among them)
 * turned into spaces, so that offsets still count the file's own lines and columns. */
char *blank_comment_lines(const char *text, size_t len);
/* BERR_USAGE "seccomp profile NAME: line L, column C: ..." unless t is one JSON value. */
int check_json_syntax(const char *name, const char *t, size_t len, struct berr *err);
/* Offset of the first byte of the value at path in t (valid JSON): "syscalls[3].action",
 * "" for the top level. When path names nothing (a missing key), the nearest enclosing
 * value's. Parses t again: meant for the error path only. */
size_t locate_value(const char *t, size_t len, const char *path);
/* 1-based line and byte column of offset off in t. */
void line_col(const char *t, size_t off, size_t *line, size_t *col);

#endif
