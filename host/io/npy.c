/* npy.c: reading and atomically writing float32 C-order NumPy .npy files. */
#include "irv2.h"

#include "runtime/atomic_file.h"
#include "runtime/error.h"
#include "runtime/overflow.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c moves '<f4' data straight to and from host floats: little-endian hosts only"
#endif

#define NPY_MAX_DIMS 8
#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_BYTES 6
/* NumPy itself refuses headers over 10000 bytes by default; allow some slack. */
#define NPY_MAX_HEADER_BYTES 65536u
/* Preambles are padded to this so the data is aligned (NumPy does the same). */
#define NPY_ALIGNMENT 64
/* One read() call moves at most this much, well under SSIZE_MAX everywhere. */
#define NPY_MAX_IO_BYTES (1u << 30)

/* ---- I/O helpers ------------------------------------------------------------------------ */

/* Reads up to len bytes, stopping early only at end of file. Returns 0 or an errno value;
 * *got receives the bytes read. */
static int read_upto(int fd, void *dst, size_t len, size_t *got)
{
    unsigned char *p = dst;
    *got = 0;
    while (*got < len) {
        size_t want = len - *got < NPY_MAX_IO_BYTES ? len - *got : NPY_MAX_IO_BYTES;
        ssize_t n = read(fd, p + *got, want);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (n == 0) break;
        *got += (size_t)n;
    }
    return 0;
}

/* Bytes of float32 data for a shape, or -1 when that overflows. */
static int data_bytes_for(unsigned ndim, const uint64_t *shape, uint64_t *bytes)
{
    uint64_t n;
    if (u64_product_overflows(sizeof(float), shape, ndim, &n) || n > SIZE_MAX) return -1;
    *bytes = n;
    return 0;
}

/* ---- header dictionary parsing ------------------------------------------------------------
 * The header is a Python dict literal written by NumPy, e.g.
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * Only this fixed grammar is accepted: quoted string keys, a quoted string, True/False or a
 * tuple of non-negative integers as values, optional trailing commas, any whitespace. */

typedef struct header_parser {
    const char *path;
    const char *start, *p, *end;
} header_parser;

typedef struct npy_header {
    char descr[32];
    int fortran_order;
    unsigned ndim;
    uint64_t shape[NPY_MAX_DIMS];
    int have_descr, have_fortran, have_shape;
} npy_header;

static void skip_space(header_parser *hp)
{
    while (hp->p < hp->end &&
           (*hp->p == ' ' || *hp->p == '\t' || *hp->p == '\n' || *hp->p == '\r'))
        hp->p++;
}

static int accept_char(header_parser *hp, char c)
{
    skip_space(hp);
    if (hp->p < hp->end && *hp->p == c) {
        hp->p++;
        return 1;
    }
    return 0;
}

static int accept_word(header_parser *hp, const char *word)
{
    size_t len = strlen(word);
    skip_space(hp);
    if ((size_t)(hp->end - hp->p) >= len && memcmp(hp->p, word, len) == 0) {
        hp->p += len;
        return 1;
    }
    return 0;
}

static irv2_status syntax_error(const header_parser *hp, const char *expected)
{
    return irv2_fail(IRV2_ERR_FORMAT, "%s: malformed header: expected %s at offset %td",
                     hp->path, expected, hp->p - hp->start);
}

/* A '...' or "..." string without escapes (NumPy never writes any in these headers). */
static irv2_status parse_string(header_parser *hp, char *out, size_t size)
{
    skip_space(hp);
    if (hp->p >= hp->end || (*hp->p != '\'' && *hp->p != '"'))
        return syntax_error(hp, "a quoted string");
    char quote = *hp->p++;
    const char *start = hp->p;
    while (hp->p < hp->end && *hp->p != quote && *hp->p != '\\') hp->p++;
    if (hp->p >= hp->end || *hp->p != quote) return syntax_error(hp, "a closing quote");
    size_t len = (size_t)(hp->p - start);
    hp->p++;
    if (len >= size)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: malformed header: string '%.*s...' too long",
                         hp->path, 20, start);
    memcpy(out, start, len);
    out[len] = '\0';
    return IRV2_OK;
}

static irv2_status parse_uint(header_parser *hp, uint64_t *value)
{
    skip_space(hp);
    if (hp->p >= hp->end || *hp->p < '0' || *hp->p > '9')
        return syntax_error(hp, "a non-negative integer in 'shape'");
    uint64_t v = 0;
    while (hp->p < hp->end && *hp->p >= '0' && *hp->p <= '9') {
        unsigned digit = (unsigned)(*hp->p++ - '0');
        if (u64_mul_overflows(v, 10, &v) || u64_add_overflows(v, digit, &v))
            return irv2_fail(IRV2_ERR_FORMAT, "%s: malformed header: a 'shape' dimension "
                             "overflows 64 bits", hp->path);
    }
    if (hp->p < hp->end && *hp->p == 'L') hp->p++; /* Python 2 longs: (3L, 4L) */
    *value = v;
    return IRV2_OK;
}

/* "()" or "(n,)" or "(n, m)" or "(n, m,)": a 1-tuple needs its comma, as in Python. */
static irv2_status parse_shape(header_parser *hp, npy_header *h)
{
    if (!accept_char(hp, '(')) return syntax_error(hp, "'(' opening 'shape'");
    h->ndim = 0;
    int commas = 0;
    while (!accept_char(hp, ')')) {
        if (h->ndim == NPY_MAX_DIMS)
            return irv2_fail(IRV2_ERR_SHAPE, "%s: shape has more than %d dimensions", hp->path,
                             NPY_MAX_DIMS);
        irv2_status st = parse_uint(hp, &h->shape[h->ndim++]);
        if (st != IRV2_OK) return st;
        if (accept_char(hp, ',')) {
            commas++;
            continue;
        }
        if (accept_char(hp, ')')) break;
        return syntax_error(hp, "',' or ')' in 'shape'");
    }
    if (h->ndim == 1 && commas == 0)
        return syntax_error(hp, "',' after the only dimension of 'shape' (a 1-tuple)");
    return IRV2_OK;
}

static irv2_status parse_bool(header_parser *hp, int *value)
{
    if (accept_word(hp, "True")) *value = 1;
    else if (accept_word(hp, "False")) *value = 0;
    else return syntax_error(hp, "True or False for 'fortran_order'");
    return IRV2_OK;
}

static irv2_status parse_entry(header_parser *hp, npy_header *h)
{
    char key[32];
    irv2_status st = parse_string(hp, key, sizeof key);
    if (st != IRV2_OK) return st;
    if (!accept_char(hp, ':')) return syntax_error(hp, "':' after a key");
    int *seen;
    if (strcmp(key, "descr") == 0) {
        seen = &h->have_descr;
        st = parse_string(hp, h->descr, sizeof h->descr);
    } else if (strcmp(key, "fortran_order") == 0) {
        seen = &h->have_fortran;
        st = parse_bool(hp, &h->fortran_order);
    } else if (strcmp(key, "shape") == 0) {
        seen = &h->have_shape;
        st = parse_shape(hp, h);
    } else {
        return irv2_fail(IRV2_ERR_FORMAT, "%s: malformed header: unexpected key '%s'", hp->path,
                         key);
    }
    if (st != IRV2_OK) return st;
    if (*seen)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: malformed header: key '%s' appears twice",
                         hp->path, key);
    *seen = 1;
    return IRV2_OK;
}

static irv2_status parse_header(const char *path, const char *text, size_t len, npy_header *h)
{
    header_parser hp = {path, text, text, text + len};
    memset(h, 0, sizeof *h);
    if (!accept_char(&hp, '{')) return syntax_error(&hp, "'{'");
    while (!accept_char(&hp, '}')) {
        irv2_status st = parse_entry(&hp, h);
        if (st != IRV2_OK) return st;
        if (accept_char(&hp, ',')) continue;
        if (accept_char(&hp, '}')) break;
        return syntax_error(&hp, "',' or '}'");
    }
    skip_space(&hp);
    if (hp.p != hp.end) return syntax_error(&hp, "the end of the header after '}'");
    if (!h->have_descr || !h->have_fortran || !h->have_shape)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: malformed header: missing key '%s'", path,
                         !h->have_descr ? "descr" : !h->have_fortran ? "fortran_order" : "shape");
    return IRV2_OK;
}

/* ---- reading ---------------------------------------------------------------------------- */

/* Reads the magic, version and header length; *preamble gets the offset of the data. */
static irv2_status read_preamble(int fd, const char *path, char **header, size_t *header_len,
                                 uint64_t *preamble)
{
    unsigned char fixed[12];
    size_t got;
    int err = read_upto(fd, fixed, 10, &got);
    if (err) return irv2_fail(IRV2_ERR_IO, "%s: cannot read: %s", path, strerror(err));
    if (got == 0) return irv2_fail(IRV2_ERR_FORMAT, "%s: empty file", path);
    if (got < NPY_MAGIC_BYTES || memcmp(fixed, NPY_MAGIC, NPY_MAGIC_BYTES) != 0)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: not a .npy file (bad magic)", path);
    if (got < 10) return irv2_fail(IRV2_ERR_FORMAT, "%s: truncated header", path);
    unsigned major = fixed[6], minor = fixed[7];
    if (major < 1 || major > 3 || minor != 0)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: unsupported .npy version %u.%u", path, major,
                         minor);
    size_t len_bytes = major == 1 ? 2 : 4;
    if (len_bytes == 4) {
        err = read_upto(fd, fixed + 10, 2, &got);
        if (err) return irv2_fail(IRV2_ERR_IO, "%s: cannot read: %s", path, strerror(err));
        if (got < 2) return irv2_fail(IRV2_ERR_FORMAT, "%s: truncated header", path);
    }
    uint32_t len = 0;
    for (size_t i = len_bytes; i-- > 0;) len = (len << 8) | fixed[8 + i];
    if (len > NPY_MAX_HEADER_BYTES)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: header length %u exceeds the %u-byte limit", path,
                         (unsigned)len, NPY_MAX_HEADER_BYTES);
    *header = malloc(len ? len : 1);
    if (!*header) return irv2_fail(IRV2_ERR_HOST_MEMORY, "%s: out of memory for the header", path);
    err = read_upto(fd, *header, len, &got);
    if (err) return irv2_fail(IRV2_ERR_IO, "%s: cannot read: %s", path, strerror(err));
    if (got < len)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: truncated header: expected %u bytes, found %zu",
                         path, (unsigned)len, got);
    *header_len = len;
    *preamble = 8 + len_bytes + len;
    return IRV2_OK;
}

static irv2_status check_header(const char *path, const npy_header *h)
{
    if (strcmp(h->descr, "<f4") != 0)
        return irv2_fail(IRV2_ERR_DTYPE, "%s: dtype '%s' is not supported (only '<f4', "
                         "little-endian float32)", path, h->descr);
    if (h->fortran_order)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: fortran_order is True; only C-order arrays are "
                         "supported", path);
    return IRV2_OK;
}

static irv2_status read_data(int fd, const char *path, const npy_header *h, uint64_t preamble,
                             float **data)
{
    uint64_t bytes = 0;
    if (data_bytes_for(h->ndim, h->shape, &bytes) != 0)
        return irv2_fail(IRV2_ERR_SHAPE, "%s: shape is too large to hold in memory", path);
    struct stat st;
    if (fstat(fd, &st) != 0)
        return irv2_fail(IRV2_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    uint64_t size = (uint64_t)st.st_size;
    uint64_t found = size > preamble ? size - preamble : 0;
    if (found != bytes)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: %s: expected %llu bytes of data, found %llu", path,
                         found < bytes ? "truncated" : "trailing bytes",
                         (unsigned long long)bytes, (unsigned long long)found);
    *data = malloc(bytes ? (size_t)bytes : 1);
    if (!*data)
        return irv2_fail(IRV2_ERR_HOST_MEMORY, "%s: out of memory for %llu bytes of data", path,
                         (unsigned long long)bytes);
    size_t got;
    int err = read_upto(fd, *data, (size_t)bytes, &got);
    if (err) return irv2_fail(IRV2_ERR_IO, "%s: cannot read: %s", path, strerror(err));
    if (got != bytes)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: truncated: expected %llu bytes of data, found %zu",
                         path, (unsigned long long)bytes, got);
    return IRV2_OK;
}

static irv2_status read_file(int fd, const char *path, unsigned *ndim, uint64_t shape[8],
                             float **data)
{
    char *text = NULL;
    size_t text_len = 0;
    uint64_t preamble = 0;
    npy_header h;
    irv2_status st = read_preamble(fd, path, &text, &text_len, &preamble);
    if (st == IRV2_OK) st = parse_header(path, text, text_len, &h);
    free(text);
    if (st == IRV2_OK) st = check_header(path, &h);
    if (st == IRV2_OK) st = read_data(fd, path, &h, preamble, data);
    if (st != IRV2_OK) return st;
    *ndim = h.ndim;
    memset(shape, 0, NPY_MAX_DIMS * sizeof *shape);
    memcpy(shape, h.shape, h.ndim * sizeof *shape);
    return IRV2_OK;
}

irv2_status irv2_npy_read(const char *path, unsigned *ndim, uint64_t shape[8], float **data)
{
    irv2_clear_error();
    if (!path || !ndim || !shape || !data)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_npy_read: NULL argument");
    *data = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return irv2_fail(IRV2_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    irv2_status st = read_file(fd, path, ndim, shape, data);
    close(fd);
    if (st != IRV2_OK) {
        free(*data);
        *data = NULL;
    }
    return st;
}

/* ---- writing ---------------------------------------------------------------------------- */

/* Magic, version 1.0, header length and the dict padded with spaces and a final '\n' so
 * the data starts on a 64-byte boundary. Returns the preamble length. */
static size_t format_preamble(unsigned ndim, const uint64_t *shape, char *buf, size_t size)
{
    char dict[256 + NPY_MAX_DIMS * 24];
    size_t n = (size_t)snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, "
                                "'shape': (");
    for (unsigned i = 0; i < ndim; i++)
        n += (size_t)snprintf(dict + n, sizeof dict - n, "%s%llu", i ? ", " : "",
                              (unsigned long long)shape[i]);
    n += (size_t)snprintf(dict + n, sizeof dict - n, "%s), }", ndim == 1 ? "," : "");
    size_t fixed = NPY_MAGIC_BYTES + 2 + 2;
    size_t total = (fixed + n + 1 + NPY_ALIGNMENT - 1) / NPY_ALIGNMENT * NPY_ALIGNMENT;
    if (total > size) return 0;
    size_t header_len = total - fixed;
    memcpy(buf, NPY_MAGIC, NPY_MAGIC_BYTES);
    buf[6] = 1;
    buf[7] = 0;
    buf[8] = (char)(header_len & 0xff);
    buf[9] = (char)(header_len >> 8);
    memcpy(buf + fixed, dict, n);
    memset(buf + fixed + n, ' ', total - fixed - n - 1);
    buf[total - 1] = '\n';
    return total;
}

irv2_status irv2_npy_write(const char *path, unsigned ndim, const uint64_t *shape,
                           const float *data)
{
    irv2_clear_error();
    if (!path || (ndim > 0 && !shape))
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_npy_write: NULL argument");
    if (ndim > NPY_MAX_DIMS)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "%s: %u dimensions, at most %d are supported",
                         path, ndim, NPY_MAX_DIMS);
    uint64_t bytes = 0;
    if (data_bytes_for(ndim, shape, &bytes) != 0)
        return irv2_fail(IRV2_ERR_SHAPE, "%s: shape is too large", path);
    if (bytes > 0 && !data)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "%s: NULL data", path);
    char preamble[512];
    size_t preamble_len = format_preamble(ndim, shape, preamble, sizeof preamble);
    if (preamble_len == 0) /* cannot happen with 8 dims of 20 digits; kept as a guard */
        return irv2_fail(IRV2_ERR_SHAPE, "%s: header does not fit", path);
    /* Flushed to the disk before the rename so a crash cannot leave a renamed but empty file. */
    const atomic_piece file[] = {{preamble, preamble_len}, {data, (size_t)bytes}};
    return atomic_write_pieces(path, ATOMIC_SYNC, file, 2);
}
