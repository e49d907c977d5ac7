/* checkpoint.c: opening, validating and reading safetensors checkpoints tensor by tensor. */
#include "io/checkpoint.h"
#include "io/halves.h"

#include "runtime/error.h"
#include "runtime/overflow.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "checkpoint.c reads F32 data straight into host floats: little-endian hosts only"
#endif

/* The header is JSON text held in memory while parsing; real ones are well under 1 MiB. */
#define CKPT_MAX_HEADER_BYTES (100u * 1024u * 1024u)
/* F16/BF16 data is converted through a bounce buffer of this many bytes. */
#define CKPT_CONVERT_CHUNK_BYTES (64u * 1024u)
/* One pread() call moves at most this much, well under SSIZE_MAX everywhere. */
#define CKPT_MAX_IO_BYTES (1u << 30)

struct checkpoint {
    char *path;
    int fd;
    uint64_t data_start;          /* file offset of the data section */
    uint64_t data_bytes;          /* size of the data section */
    size_t count;
    ckpt_tensor *tensors;         /* in file order (sorted by begin) */
    const ckpt_tensor **by_name;  /* sorted by name, for checkpoint_find */
};

/* ---- dtypes ----------------------------------------------------------------------------- */

typedef struct dtype_desc {
    const char *name;
    ckpt_dtype dtype;
    unsigned size;
} dtype_desc;

/* Every safetensors dtype, so that byte ranges are checked even for tensors we never read. */
static const dtype_desc known_dtypes[] = {
    {"F32", CKPT_F32, 4},     {"F16", CKPT_F16, 2},         {"BF16", CKPT_BF16, 2},
    {"F64", CKPT_OTHER, 8},   {"I64", CKPT_OTHER, 8},       {"I32", CKPT_OTHER, 4},
    {"I16", CKPT_OTHER, 2},   {"I8", CKPT_OTHER, 1},        {"U64", CKPT_OTHER, 8},
    {"U32", CKPT_OTHER, 4},   {"U16", CKPT_OTHER, 2},       {"U8", CKPT_OTHER, 1},
    {"BOOL", CKPT_OTHER, 1},  {"F8_E4M3", CKPT_OTHER, 1},   {"F8_E5M2", CKPT_OTHER, 1},
};

static const dtype_desc *find_dtype(const char *name)
{
    for (size_t i = 0; i < sizeof known_dtypes / sizeof known_dtypes[0]; i++)
        if (strcmp(known_dtypes[i].name, name) == 0) return &known_dtypes[i];
    return NULL;
}

/* ---- small helpers ---------------------------------------------------------------------- */

uint64_t ckpt_tensor_numel(const ckpt_tensor *t)
{
    uint64_t n = 1;
    for (unsigned i = 0; i < t->ndim; i++) n *= t->shape[i]; /* validated not to overflow */
    return n;
}

/* "[32,3,3,3]" into buf, for messages. */
static const char *format_shape(const ckpt_tensor *t, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (unsigned i = 0; i < t->ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%llu", i ? "," : "",
                                 (unsigned long long)t->shape[i]);
    if (used < size) snprintf(buf + used, size - used, "]");
    return buf;
}

/* Reads exactly len bytes at offset. Returns 0, or an errno value; *eof tells a file that
 * ended early (reported as EIO) from a failed read. */
static int pread_full(int fd, void *dst, size_t len, uint64_t offset, int *eof)
{
    unsigned char *p = dst;
    *eof = 0;
    while (len > 0) {
        size_t step = len < CKPT_MAX_IO_BYTES ? len : CKPT_MAX_IO_BYTES;
        ssize_t got = pread(fd, p, step, (off_t)offset);
        if (got < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (got == 0) {
            *eof = 1;
            return EIO;
        }
        p += got;
        len -= (size_t)got;
        offset += (uint64_t)got;
    }
    return 0;
}

static uint64_t load_u64_le(const unsigned char *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

/* ---- validation of one header entry ----------------------------------------------------- */

static irv2_status parse_dtype(const char *path, const char *name, json_t *entry,
                               ckpt_tensor *t, const dtype_desc **desc)
{
    json_t *dtype = json_object_get(entry, "dtype");
    if (!dtype) return irv2_fail(IRV2_ERR_FORMAT, "%s: tensor '%s': no \"dtype\"", path, name);
    if (!json_is_string(dtype))
        return irv2_fail(IRV2_ERR_FORMAT, "%s: tensor '%s': \"dtype\" is not a string", path,
                         name);
    const char *text = json_string_value(dtype);
    if (strlen(text) >= sizeof t->dtype_name)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: tensor '%s': dtype '%.40s' is not a safetensors "
                         "dtype", path, name, text);
    memcpy(t->dtype_name, text, strlen(text) + 1);
    *desc = find_dtype(text);
    /* Unknown dtypes are kept (as CKPT_OTHER, refused when read) but their sizes are unknown. */
    t->dtype = *desc ? (*desc)->dtype : CKPT_OTHER;
    return IRV2_OK;
}

static irv2_status parse_shape(const char *path, const char *name, json_t *entry,
                               ckpt_tensor *t)
{
    json_t *shape = json_object_get(entry, "shape");
    if (!shape) return irv2_fail(IRV2_ERR_FORMAT, "%s: tensor '%s': no \"shape\"", path, name);
    if (!json_is_array(shape))
        return irv2_fail(IRV2_ERR_FORMAT, "%s: tensor '%s': \"shape\" is not an array", path,
                         name);
    size_t ndim = json_array_size(shape);
    if (ndim > CKPT_MAX_DIMS)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: tensor '%s': shape has %zu dimensions, at most %d "
                         "are supported", path, name, ndim, CKPT_MAX_DIMS);
    uint64_t numel = 1;
    for (size_t i = 0; i < ndim; i++) {
        json_t *dim = json_array_get(shape, i);
        if (!json_is_integer(dim) || json_integer_value(dim) < 0)
            return irv2_fail(IRV2_ERR_FORMAT, "%s: tensor '%s': shape[%zu] is not a non-negative "
                             "integer", path, name, i);
        t->shape[i] = (uint64_t)json_integer_value(dim);
        if (u64_mul_overflows(numel, t->shape[i], &numel))
            return irv2_fail(IRV2_ERR_FORMAT, "%s: tensor '%s': shape has too many elements",
                             path, name);
    }
    t->ndim = (unsigned)ndim;
    return IRV2_OK;
}

static irv2_status parse_offsets(const char *path, const char *name, json_t *entry,
                                 uint64_t data_bytes, ckpt_tensor *t)
{
    json_t *offsets = json_object_get(entry, "data_offsets");
    if (!offsets)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: tensor '%s': no \"data_offsets\"", path, name);
    json_t *begin = json_array_get(offsets, 0), *end = json_array_get(offsets, 1);
    if (!json_is_array(offsets) || json_array_size(offsets) != 2 || !json_is_integer(begin) ||
        !json_is_integer(end) || json_integer_value(begin) < 0 || json_integer_value(end) < 0)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: tensor '%s': \"data_offsets\" is not two "
                         "non-negative integers", path, name);
    t->begin = (uint64_t)json_integer_value(begin);
    t->end = (uint64_t)json_integer_value(end);
    if (t->begin > t->end)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu) begin "
                         "after end", path, name, (unsigned long long)t->begin,
                         (unsigned long long)t->end);
    if (t->end > data_bytes)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu) run past "
                         "the data section (%llu bytes; file truncated?)", path, name,
                         (unsigned long long)t->begin, (unsigned long long)t->end,
                         (unsigned long long)data_bytes);
    return IRV2_OK;
}

static irv2_status check_byte_size(const char *path, const ckpt_tensor *t,
                                   const dtype_desc *desc)
{
    if (!desc) return IRV2_OK;
    uint64_t bytes = 0;
    char shape[CKPT_MAX_DIMS * 21 + 3];
    if (u64_mul_overflows(ckpt_tensor_numel(t), desc->size, &bytes))
        return irv2_fail(IRV2_ERR_FORMAT, "%s: tensor '%s': byte size of %s x %s overflows "
                         "64 bits", path, t->name, t->dtype_name,
                         format_shape(t, shape, sizeof shape));
    if (bytes != t->end - t->begin)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu) disagree "
                         "with %s x %s = %llu bytes", path, t->name, (unsigned long long)t->begin,
                         (unsigned long long)t->end, t->dtype_name,
                         format_shape(t, shape, sizeof shape), (unsigned long long)bytes);
    return IRV2_OK;
}

static irv2_status parse_entry(const char *path, const char *name, json_t *entry,
                               uint64_t data_bytes, ckpt_tensor *t)
{
    if (!json_is_object(entry))
        return irv2_fail(IRV2_ERR_FORMAT, "%s: tensor '%s': entry is not a JSON object", path,
                         name);
    const dtype_desc *desc = NULL;
    irv2_status st = parse_dtype(path, name, entry, t, &desc);
    if (st == IRV2_OK) st = parse_shape(path, name, entry, t);
    if (st == IRV2_OK) st = parse_offsets(path, name, entry, data_bytes, t);
    if (st != IRV2_OK) return st;
    t->name = strdup(name);
    if (!t->name)
        return irv2_fail(IRV2_ERR_HOST_MEMORY, "%s: tensor '%s': out of memory for its name",
                         path, name);
    return check_byte_size(path, t, desc);
}

/* ---- whole-file validation -------------------------------------------------------------- */

static int compare_by_begin(const void *a, const void *b)
{
    const ckpt_tensor *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int compare_by_name(const void *a, const void *b)
{
    const ckpt_tensor *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

/* Expects ck->tensors sorted by begin. Empty ranges overlap nothing. */
static irv2_status check_no_overlap(const checkpoint *ck)
{
    const ckpt_tensor *furthest = NULL; /* the non-empty range reaching furthest so far */
    for (size_t i = 0; i < ck->count; i++) {
        const ckpt_tensor *t = &ck->tensors[i];
        if (t->begin == t->end) continue;
        if (furthest && t->begin < furthest->end)
            return irv2_fail(IRV2_ERR_FORMAT, "%s: tensor '%s': bytes [%llu, %llu) overlap tensor "
                             "'%s' at [%llu, %llu)", ck->path, t->name,
                             (unsigned long long)t->begin, (unsigned long long)t->end,
                             furthest->name, (unsigned long long)furthest->begin,
                             (unsigned long long)furthest->end);
        if (!furthest || t->end > furthest->end) furthest = t;
    }
    return IRV2_OK;
}

static irv2_status parse_header(checkpoint *ck, json_t *root)
{
    size_t entries = json_object_size(root);
    ck->tensors = calloc(entries ? entries : 1, sizeof *ck->tensors);
    ck->by_name = calloc(entries ? entries : 1, sizeof *ck->by_name);
    if (!ck->tensors || !ck->by_name)
        return irv2_fail(IRV2_ERR_HOST_MEMORY, "%s: out of memory for %zu tensor entries",
                         ck->path, entries);
    const char *name;
    json_t *entry;
    json_object_foreach(root, name, entry) {
        if (strcmp(name, "__metadata__") == 0) continue;
        irv2_status st = parse_entry(ck->path, name, entry, ck->data_bytes,
                                     &ck->tensors[ck->count]);
        ck->count++; /* counted even on failure so that checkpoint_close frees its name */
        if (st != IRV2_OK) return st;
    }
    qsort(ck->tensors, ck->count, sizeof *ck->tensors, compare_by_begin);
    for (size_t i = 0; i < ck->count; i++) ck->by_name[i] = &ck->tensors[i];
    qsort(ck->by_name, ck->count, sizeof *ck->by_name, compare_by_name);
    return check_no_overlap(ck);
}

static irv2_status read_header_json(checkpoint *ck, uint64_t header_bytes, json_t **root)
{
    char *text = malloc(header_bytes ? header_bytes : 1);
    if (!text)
        return irv2_fail(IRV2_ERR_HOST_MEMORY, "%s: out of memory for a %llu-byte header",
                         ck->path, (unsigned long long)header_bytes);
    int eof;
    int err = pread_full(ck->fd, text, header_bytes, 8, &eof);
    if (err) {
        free(text);
        return irv2_fail(IRV2_ERR_IO, "%s: cannot read the header: %s", ck->path,
                         eof ? "unexpected end of file" : strerror(err));
    }
    json_error_t jerr;
    /* Duplicate names would make checkpoint_find ambiguous. */
    *root = json_loadb(text, header_bytes, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!*root)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: header is not valid JSON: %s (line %d, column %d)",
                         ck->path, jerr.text, jerr.line, jerr.column);
    if (!json_is_object(*root)) {
        const char *kind = json_is_array(*root) ? "an array" : "not an object";
        json_decref(*root);
        *root = NULL;
        return irv2_fail(IRV2_ERR_FORMAT, "%s: header JSON is %s, expected an object", ck->path,
                         kind);
    }
    return IRV2_OK;
}

/* Reads the 8-byte length prefix and locates the data section. */
static irv2_status read_layout(checkpoint *ck, uint64_t *header_bytes)
{
    struct stat st;
    if (fstat(ck->fd, &st) != 0)
        return irv2_fail(IRV2_ERR_IO, "%s: cannot stat: %s", ck->path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return irv2_fail(IRV2_ERR_IO, "%s: not a regular file", ck->path);
    uint64_t file_bytes = (uint64_t)st.st_size;
    if (file_bytes == 0) return irv2_fail(IRV2_ERR_FORMAT, "%s: empty file", ck->path);
    if (file_bytes < 8)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: %llu bytes, too short for a safetensors header "
                         "length (8 bytes)", ck->path, (unsigned long long)file_bytes);
    /* the 8-byte length, then the JSON header's opening brace */
    unsigned char prefix[9];
    const size_t want = file_bytes > 8 ? 9 : 8;
    int eof;
    int err = pread_full(ck->fd, prefix, want, 0, &eof);
    if (err)
        return irv2_fail(IRV2_ERR_IO, "%s: cannot read the header length: %s", ck->path,
                         eof ? "unexpected end of file" : strerror(err));
    if (want == 9 && prefix[8] != '{')
        return irv2_fail(IRV2_ERR_FORMAT, "%s: not a safetensors file (no JSON object after "
                         "its 8-byte header length)", ck->path);
    *header_bytes = load_u64_le(prefix);
    if (*header_bytes > file_bytes - 8)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: header length %llu exceeds the file (%llu bytes)",
                         ck->path, (unsigned long long)*header_bytes,
                         (unsigned long long)file_bytes);
    if (*header_bytes > CKPT_MAX_HEADER_BYTES)
        return irv2_fail(IRV2_ERR_FORMAT, "%s: header length %llu exceeds the %u-byte limit",
                         ck->path, (unsigned long long)*header_bytes, CKPT_MAX_HEADER_BYTES);
    ck->data_start = 8 + *header_bytes;
    ck->data_bytes = file_bytes - ck->data_start;
    return IRV2_OK;
}

/* ---- public interface ------------------------------------------------------------------- */

void checkpoint_close(checkpoint *ck)
{
    if (!ck) return;
    for (size_t i = 0; i < ck->count; i++) free(ck->tensors[i].name);
    free(ck->tensors);
    free(ck->by_name);
    if (ck->fd >= 0) close(ck->fd);
    free(ck->path);
    free(ck);
}

static irv2_status open_validated(checkpoint *ck)
{
    ck->fd = open(ck->path, O_RDONLY | O_CLOEXEC);
    if (ck->fd < 0) return irv2_fail(IRV2_ERR_IO, "%s: cannot open: %s", ck->path, strerror(errno));
    uint64_t header_bytes = 0;
    irv2_status st = read_layout(ck, &header_bytes);
    if (st != IRV2_OK) return st;
    json_t *root = NULL;
    st = read_header_json(ck, header_bytes, &root);
    if (st != IRV2_OK) return st;
    st = parse_header(ck, root);
    json_decref(root);
    return st;
}

irv2_status checkpoint_open(const char *path, checkpoint **out)
{
    irv2_clear_error();
    if (!path || !out)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "checkpoint_open: NULL %s",
                         path ? "out" : "path");
    *out = NULL;
    checkpoint *ck = calloc(1, sizeof *ck);
    if (!ck) return irv2_fail(IRV2_ERR_HOST_MEMORY, "%s: out of memory", path);
    ck->fd = -1;
    ck->path = strdup(path);
    if (!ck->path) {
        free(ck);
        return irv2_fail(IRV2_ERR_HOST_MEMORY, "%s: out of memory", path);
    }
    irv2_status st = open_validated(ck);
    if (st != IRV2_OK) {
        checkpoint_close(ck);
        return st;
    }
    *out = ck;
    return IRV2_OK;
}

const char *checkpoint_path(const checkpoint *ck) { return ck->path; }

size_t checkpoint_count(const checkpoint *ck) { return ck->count; }

const ckpt_tensor *checkpoint_at(const checkpoint *ck, size_t i)
{
    return i < ck->count ? &ck->tensors[i] : NULL;
}

const ckpt_tensor *checkpoint_find(const checkpoint *ck, const char *name)
{
    size_t lo = 0, hi = ck->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(name, ck->by_name[mid]->name);
        if (cmp == 0) return ck->by_name[mid];
        if (cmp < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

static irv2_status read_failed(const checkpoint *ck, const ckpt_tensor *t, int err, int eof)
{
    return irv2_fail(IRV2_ERR_IO, "%s: tensor '%s': cannot read its data: %s", ck->path, t->name,
                     eof ? "unexpected end of file (file changed since it was opened?)"
                         : strerror(err));
}

/* F16/BF16: read through a bounce buffer and widen element by element. */
static irv2_status read_16bit(const checkpoint *ck, const ckpt_tensor *t, float *dst,
                              size_t count)
{
    unsigned char *chunk = malloc(CKPT_CONVERT_CHUNK_BYTES);
    if (!chunk)
        return irv2_fail(IRV2_ERR_HOST_MEMORY, "%s: tensor '%s': out of memory for conversion",
                         ck->path, t->name);
    const size_t per_chunk = CKPT_CONVERT_CHUNK_BYTES / 2;
    uint64_t offset = ck->data_start + t->begin;
    for (size_t done = 0; done < count;) {
        size_t n = count - done < per_chunk ? count - done : per_chunk;
        int eof;
        int err = pread_full(ck->fd, chunk, n * 2, offset, &eof);
        if (err) {
            free(chunk);
            return read_failed(ck, t, err, eof);
        }
        for (size_t i = 0; i < n; i++) {
            uint16_t bits = (uint16_t)(chunk[2 * i] | (chunk[2 * i + 1] << 8));
            dst[done + i] = t->dtype == CKPT_F16 ? half_to_float(bits) : bf16_to_float(bits);
        }
        done += n;
        offset += (uint64_t)n * 2;
    }
    free(chunk);
    return IRV2_OK;
}

irv2_status checkpoint_read_f32(const checkpoint *ck, const ckpt_tensor *t, float *dst,
                                size_t count)
{
    if (!ck || !t || (!dst && count > 0))
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "checkpoint_read_f32: NULL argument");
    if (t->dtype == CKPT_OTHER)
        return irv2_fail(IRV2_ERR_DTYPE, "%s: tensor '%s': dtype %s cannot be read as float32 "
                         "(only F32, F16 and BF16 can)", ck->path, t->name, t->dtype_name);
    uint64_t numel = ckpt_tensor_numel(t);
    if (numel != (uint64_t)count) {
        char shape[CKPT_MAX_DIMS * 21 + 3];
        return irv2_fail(IRV2_ERR_SHAPE, "%s: tensor '%s': has %llu elements (%s), expected %zu",
                         ck->path, t->name, (unsigned long long)numel,
                         format_shape(t, shape, sizeof shape), count);
    }
    if (count == 0) return IRV2_OK;
    if (t->dtype != CKPT_F32) return read_16bit(ck, t, dst, count);
    int eof;
    int err = pread_full(ck->fd, dst, count * sizeof *dst, ck->data_start + t->begin, &eof);
    return err ? read_failed(ck, t, err, eof) : IRV2_OK;
}
