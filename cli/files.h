/* files.h: the CLI's input files: what kind of file a path holds, the class-names file of
 * `classify --labels` and the labelled data set of `eval --data` (a folder per class or a
 * list file). Each reader prints one line through cli_error on a refusal and returns -1. */
#ifndef IRV2_CLI_FILES_H
#define IRV2_CLI_FILES_H

#include <stddef.h>

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

#endif
