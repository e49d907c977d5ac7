/* files.c: the CLI's files: what kind of file a path holds (cli_file_kind), the class-names
 * file of `classify --labels`, the data set of `eval --data`, and output files written
 * atomically. Kept apart from the commands so that the fuzz targets build them alone. */
#include "cli.h"
#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LABEL_BYTES (64u * 1024u * 1024u)

const char *cli_file_kind(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return NULL;
    if (S_ISDIR(sb.st_mode)) return "a folder";
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char b[16] = {0};
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return "a JPEG image";
    if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0) return "a PNG image";
    if (n >= 6 && memcmp(b, "\x93NUMPY", 6) == 0) return "a .npy array";
    if (n >= 9 && b[8] == '{' && b[5] == 0 && b[6] == 0 && b[7] == 0)
        return "a safetensors checkpoint";
    if (n >= 4 && memcmp(b, "PK\x03\x04", 4) == 0) return "a zip archive (a PyTorch .pt/.pth?)";
    if (n >= 2 && b[0] == 0x80 && b[1] >= 2 && b[1] <= 5) return "a Python pickle (.pt/.pth?)";
    return NULL;
}

/* One class name per line; CRLF and a final newline (or none) are fine. */
int labels_read(const char *path, labels *l)
{
    memset(l, 0, sizeof *l);
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_error("%s: cannot open the labels file: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, len = 0, got;
    l->text = malloc(cap);
    while (l->text && (got = fread(l->text + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len < 2) {
            char *t = cap < MAX_LABEL_BYTES ? realloc(l->text, cap * 2) : NULL;
            if (!t) free(l->text);
            l->text = t, cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!l->text || bad) {
        cli_error("%s: cannot read the labels file%s", path,
                  bad ? "" : " (too large or out of memory)");
        free(l->text);
        return -1;
    }
    if (memchr(l->text, '\0', len)) {
        const char *kind = cli_file_kind(path);
        cli_error("%s: not a text file of class names (one per line)%s%s%s", path,
                  kind ? ": it is " : "", kind ? kind : "", kind ? "" : ": it holds NUL bytes");
        free(l->text);
        return -1;
    }
    l->text[len] = '\0';
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) lines += l->text[i] == '\n';
    lines += len > 0 && l->text[len - 1] != '\n';
    l->names = malloc((lines + 1) * sizeof *l->names);
    if (!l->names) {
        cli_error("%s: out of host memory", path);
        free(l->text);
        return -1;
    }
    for (char *p = l->text; *p && l->count < lines;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        size_t n = strlen(p);
        if (n && p[n - 1] == '\r') p[n - 1] = '\0';
        l->names[l->count++] = p;
        p = nl ? nl + 1 : p + n;
    }
    return 0;
}

void labels_free(labels *l)
{
    free(l->text);
    free(l->names);
}

/* "dir/name" (name alone when it is absolute or dir is empty), malloc'ed; NULL if out of
 * memory. */
static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    if (!path) return NULL;
    if (*dir && name[0] != '/') {
        strcpy(path, dir);
        strcat(path, "/");
        strcat(path, name);
    } else {
        strcpy(path, name);
    }
    return path;
}

static int dataset_add(dataset *d, const char *dir, const char *name, unsigned label)
{
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 1024;
        char **p = realloc(d->paths, cap * sizeof *p);
        if (p) d->paths = p;
        unsigned *l = p ? realloc(d->labels, cap * sizeof *l) : NULL;
        if (!l) return -1;
        d->labels = l, d->cap = cap;
    }
    char *path = join(dir, name);
    if (!path) return -1;
    d->paths[d->count] = path;
    d->labels[d->count++] = label;
    return 0;
}

void dataset_free(dataset *d)
{
    for (size_t i = 0; i < d->count; i++) free(d->paths[i]);
    free(d->paths);
    free(d->labels);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_image_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 ||
                   strcasecmp(dot, ".png") == 0);
}

/* Sorted names of the entries of dir that are folders (want_dirs) or image files. */
static char **list_dir(const char *dir, int want_dirs, size_t *count)
{
    DIR *dp = opendir(dir);
    *count = 0;
    if (!dp) return NULL;
    size_t cap = 64, n = 0;
    char **names = malloc(cap * sizeof *names);
    struct dirent *e;
    while (names && (e = readdir(dp))) {
        if (e->d_name[0] == '.') continue;
        struct stat st;
        char *path = join(dir, e->d_name);
        int found = path && stat(path, &st) == 0;
        free(path);
        if (!found) continue;
        if (want_dirs ? !S_ISDIR(st.st_mode) : !(S_ISREG(st.st_mode) && has_image_ext(e->d_name)))
            continue;
        if (n == cap) {
            char **p = realloc(names, (cap *= 2) * sizeof *p);
            if (!p) {
                for (size_t i = 0; i < n; i++) free(names[i]);
                free(names);
            }
            names = p;
        }
        if (names && !(names[n++] = strdup(e->d_name))) n--;
    }
    closedir(dp);
    if (names) qsort(names, n, sizeof *names, cmp_str);
    *count = n;
    return names;
}

int dataset_from_dir(const char *root, dataset *d)
{
    size_t nclasses;
    char **classes = list_dir(root, 1, &nclasses);
    int rc = classes ? 0 : -1;
    for (size_t c = 0; c < nclasses && rc == 0; c++) {
        size_t nfiles = 0;
        char *dir = join(root, classes[c]);
        char **files = dir ? list_dir(dir, 0, &nfiles) : NULL;
        if (!files) rc = -1;
        for (size_t i = 0; i < nfiles && rc == 0; i++)
            rc = dataset_add(d, dir, files[i], (unsigned)c);
        for (size_t i = 0; i < nfiles; i++) free(files[i]);
        free(files);
        free(dir);
    }
    for (size_t c = 0; c < nclasses; c++) free(classes[c]);
    free(classes);
    if (rc != 0) cli_error("%s: cannot list the folder", root);
    else if (nclasses == 0) cli_error("%s: no class folders inside", root), rc = -1;
    else if (d->count == 0)
        cli_error("%s: no images (.jpg, .jpeg, .png) in its %zu class folder%s", root, nclasses,
                  nclasses > 1 ? "s" : ""),
            rc = -1;
    return rc;
}

/* Lines `path label`; the path (which may hold spaces) relative to the list's folder. */
int dataset_from_list(const char *list, dataset *d)
{
    const char *kind = cli_file_kind(list);
    if (kind) {
        cli_error("%s: not a list file of 'path label' lines: it is %s", list, kind);
        return -1;
    }
    FILE *f = fopen(list, "r");
    if (!f) {
        cli_error("%s: cannot open the list file: %s", list, strerror(errno));
        return -1;
    }
    char *dir = strdup(list);
    if (!dir) {
        fclose(f);
        cli_error("%s: out of host memory", list);
        return -1;
    }
    char *slash = strrchr(dir, '/');
    if (slash) slash[slash == dir] = '\0'; /* "/x.txt" -> "/" */
    else strcpy(dir, ".");
    char line[8192];
    int rc = 0;
    for (unsigned no = 1; rc == 0 && fgets(line, sizeof line, f); no++) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
                     line[n - 1] == '\t'))
            line[--n] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (!*p || *p == '#') continue;
        char *sp = strrchr(p, ' '), *tab = strrchr(p, '\t');
        if (!sp || (tab && tab > sp)) sp = tab;
        char *end;
        unsigned long label = sp ? strtoul(sp + 1, &end, 10) : 0;
        if (!sp || sp[1] < '0' || sp[1] > '9' || *end || label > 1000000) {
            cli_error("%s:%u: expected 'path label'", list, no);
            rc = -1;
            break;
        }
        while (sp > p && (sp[-1] == ' ' || sp[-1] == '\t')) sp--;
        *sp = '\0';
        if (dataset_add(d, dir, p, (unsigned)label) != 0) {
            cli_error("%s: out of host memory", list);
            rc = -1;
        }
    }
    fclose(f);
    free(dir);
    if (rc == 0 && d->count == 0) cli_error("%s: no images listed", list), rc = -1;
    return rc;
}

/* ---- output files ---- */

int cli_output_open(cli_output *o, const char *command, const char *option, const char *path)
{
    *o = (cli_output){.command = command, .option = option, .path = path};
    snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%ld", path, (long)getpid());
    if ((o->f = fopen(o->tmp, "w"))) return 0;
    cli_error("%s: %s %s: cannot write %s: %s", command, option, path, o->tmp, strerror(errno));
    return -1;
}

int cli_output_commit(cli_output *o)
{
    int bad = ferror(o->f) != 0;
    bad |= fclose(o->f) != 0;
    o->f = NULL;
    if (!bad && rename(o->tmp, o->path) == 0) return 0;
    cli_error("%s: %s %s: cannot write it: %s", o->command, o->option, o->path,
              strerror(errno));
    remove(o->tmp);
    return -1;
}

void cli_output_discard(cli_output *o)
{
    if (!o->f) return;
    fclose(o->f);
    o->f = NULL;
    remove(o->tmp);
}
