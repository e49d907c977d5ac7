/* table.h: a string key -> value table kept in a file of the on-disk cache ("key\tvalue"
 * lines), merged with what other processes wrote when it is saved. The context holds one for
 * the kernel choices measured on its device (plan/tune.c). */
#ifndef IRV2_TABLE_H
#define IRV2_TABLE_H

#include <stddef.h>

typedef struct table table;

/* An empty table backed by the file `name` in the cache folder dir (read at the first
 * lookup), or held in memory only when dir or name is NULL; NULL when out of host memory. */
table *table_new(const char *dir, const char *name);
void table_free(table *t);
/* The value for key, or NULL. */
const char *table_get(table *t, const char *key);
/* Sets key to value (replacing an old value); 0 on success, -1 when out of host memory. */
int table_set(table *t, const char *key, const char *value);
/* Writes the table to its file if anything was set since the last save (atomically, after
 * merging entries other processes added meanwhile; ours win). No file when the cache is off. */
void table_save(table *t);
/* The entries in the order they were added: how many, and entry i's key and value. */
size_t table_count(const table *t);
const char *table_key(const table *t, size_t i);
const char *table_value(const table *t, size_t i);

#endif
