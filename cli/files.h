/* files.h: the CLI's files: what kind of file a path holds, the class-names file of
 * `classify --labels`, the labelled data set of `eval --data` (a folder per class or a list
 * file), and output files written atomically (`bench --json`, `eval --results-file`). Each
 * function prints one line through cli_error on a failure and returns -1. */
#ifndef IRV2_CLI_FILES_H
#define IRV2_CLI_FILES_H

#include <stddef.h>
#include <stdio.h>

typedef struct labels {
    char *text;              /* the file, lines split in place */
    char **names;
    size_t count;
} labels;

/* One class name per line; CRLF and a final newline (or none) are fine. */
int labels_read(const char *path, labels *l);
void labels_free(labels *l);

/* The data set: image paths and their labels (class indices in ImageNet's numbering). */
typedef struct dataset {
    char **paths;
    unsigned *labels;
    size_t count, cap;
} dataset;

/* A folder of class folders (sorted; class c is the c-th folder) of .jpg/.jpeg/.png files. */
int dataset_from_dir(const char *root, dataset *d);
/* Lines `path label`; the path (which may hold spaces) relative to the list's folder. */
int dataset_from_list(const char *list, dataset *d);
void dataset_free(dataset *d);

/* An output file written atomically: into a temporary file beside it (PATH.tmp.PID), renamed
 * over PATH by cli_output_commit, so that no reader sees it half written and a failure leaves
 * an existing file untouched. Messages name the command and option ("bench: --json PATH"). */
typedef struct cli_output {
    FILE *f;                 /* the temporary file while open, else NULL */
    char tmp[4200];
    const char *command, *option, *path;
} cli_output;

/* Creates the temporary file into o->f. */
int cli_output_open(cli_output *o, const char *command, const char *option, const char *path);
/* Closes the temporary file and renames it over the path; on failure removes it. */
int cli_output_commit(cli_output *o);
/* Closes and removes the temporary file (a failure before the commit); nothing if none. */
void cli_output_discard(cli_output *o);

#endif
