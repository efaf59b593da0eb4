/*
 * config.h - the one HDF configuration file (ClearSilver's format).
 *
 * Loaded once per process; read-only afterwards.  Keys are dotted HDF names
 * ("store.path").  Relative paths resolve against the config file's folder.
 * Every key is documented in conf/tokenportal.hdf.example.
 */
#ifndef AC_CONFIG_H
#define AC_CONFIG_H

#include <stddef.h>

struct _hdf;			/* ClearSilver's HDF, for the portal glue only */
typedef struct ac_config ac_config;

/*
 * Reads path.  Returns 0 and *out, AC_ERR_IO (cannot read: err names the
 * file and the reason), AC_ERR_TOO_LONG (over AC_MAX_CONFIG_FILE) or
 * AC_ERR_CONFIG (syntax error: err is "FILE:LINE: problem").  The structure
 * is checked before ClearSilver parses it: unbalanced braces, text after
 * '{' or '}', an unended '<<' value and NUL bytes are errors, and
 * `#include` is refused (the configuration is one file).
 */
int ac_config_load(const char *path, ac_config **out, char *err,
    size_t errlen);

/* Parses config text directly (tests); dir is the folder relative paths
 * resolve against (NULL: paths are returned as written). */
int ac_config_parse(const char *text, const char *dir, ac_config **out,
    char *err, size_t errlen);

void ac_config_free(ac_config *c);

/* The value of key, or def when it is absent or empty.  Owned by the config. */
const char *ac_config_get(const ac_config *c, const char *key,
    const char *def);

/*
 * An integer in [min, max]; def when absent.  Returns 0, or AC_ERR_CONFIG
 * with err naming the key and the problem (not a number, out of range).
 */
int ac_config_int(const ac_config *c, const char *key, long long def,
    long long min, long long max, long long *out, char *err, size_t errlen);

/* A boolean (0/1, yes/no, true/false, on/off); like ac_config_int. */
int ac_config_bool(const ac_config *c, const char *key, int def, int *out,
    char *err, size_t errlen);

/*
 * One of a fixed set of words (choices is NULL-terminated): *out is the
 * index.  def_index when absent.  AC_ERR_CONFIG names the key and the
 * allowed words.
 */
int ac_config_choice(const ac_config *c, const char *key,
    const char *const *choices, int def_index, int *out, char *err,
    size_t errlen);

/* Returns 0 if key is present and non-empty, else AC_ERR_CONFIG with
 * "missing required config key 'KEY' in FILE". */
int ac_config_require(const ac_config *c, const char *key, char *err,
    size_t errlen);

/*
 * A path value resolved against the config folder: a malloc'd string in
 * *out (caller frees), NULL when absent and def is NULL.  Returns 0 or
 * AC_ERR_NOMEM.
 */
int ac_config_path(const ac_config *c, const char *key, const char *def,
    char **out);

/* Calls fn for each child name under prefix ("resources" -> "vpn",
 * "ssh"...), in file order.  Stops and returns fn's value if non-zero. */
int ac_config_each_child(const ac_config *c, const char *prefix,
    int (*fn)(const char *name, void *arg), void *arg);

/* The file the config was read from ("" for parsed text). */
const char *ac_config_file(const ac_config *c);

/* The underlying HDF tree, for the portal's render glue to copy into each
 * request's dataset.  Owned by the config. */
struct _hdf *ac_config_hdf(const ac_config *c);

#endif
