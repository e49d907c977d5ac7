/* conv_family.c: the table of conv kernel families (conv_family.h), and conv.h's questions
 * about forms answered by asking its rows: candidates, refinements, defaults, buffers,
 * weights, launches and the text of a form. */
#include "ops/conv_family.h"
#include "ops/pool.h"

#include <stdio.h>
#include <string.h>

/* ---- the table ---- */

static const conv_family *const families[CONV_FAMILIES] = {
    [CONV_CLBLAST] = &conv_clblast_row, [CONV_DIRECT] = &conv_direct_row,
    [CONV_PANELS] = &conv_panels_row,   [CONV_FUSED] = &conv_fused_row,
    [CONV_PHASE] = &conv_phase_row,     [CONV_WINOGRAD] = &conv_winograd_row,
    [CONV_WINOGRAD_1D] = &conv_winograd_1d_row, [CONV_WINOGRAD_2D] = &conv_winograd_2d_row,
    [CONV_WG] = &conv_wg_row,           [CONV_SIMT] = &conv_simt_row,
};

const conv_family *conv_family_of(conv_family_id id)
{
    return (unsigned)id < CONV_FAMILIES ? families[id] : NULL;
}

const char *conv_family_name(conv_family_id id)
{
    const conv_family *r = conv_family_of(id);
    return r ? r->name : "unknown";
}

static int row_chosen(const irv2_context *ctx, const conv_family *r, conv_rows rows)
{
    return (rows & (r->library ? ROWS_LIBRARY : ROWS_OWN)) && r->offered(ctx);
}

/* Rows [from, to) over the register tilings, listed tiling by tiling. */
static size_t tiled_candidates(const irv2_context *ctx, const conv_shape *s, size_t from,
                               size_t to, conv_rows rows, conv_form *out, size_t cap)
{
    conv_vec_params t[CONV_MAX_TILINGS];
    size_t nt = conv_vec_tilings(ctx, t, CONV_MAX_TILINGS), n = 0;
    for (size_t i = 0; i < nt; i++)
        for (size_t k = from; k < to; k++)
            if (row_chosen(ctx, families[k], rows) && families[k]->at_tiling(ctx, s, t[i]) && n < cap)
                out[n++] = conv_vec_form((conv_family_id)k, t[i].vw, t[i].tm, 0);
    return n;
}

static size_t all_candidates(const irv2_context *ctx, const conv_shape *s, int parts,
                             conv_rows rows, conv_form *out, size_t cap)
{
    size_t n = 0;
    for (size_t k = 0; k < CONV_FAMILIES;) {
        const conv_family *r = families[k];
        if (r->at_tiling) {
            size_t end = k;
            while (end < CONV_FAMILIES && families[end]->at_tiling) end++;
            n += tiled_candidates(ctx, s, k, end, rows, out + n, cap - n);
            k = end;
            continue;
        }
        if (row_chosen(ctx, r, rows)) n += r->candidates(ctx, s, parts, out + n, cap - n);
        k++;
    }
    return n;
}

size_t conv_candidates(const irv2_context *ctx, const conv_shape *s, int parts, conv_rows rows,
                       int fast, conv_form *out, size_t cap)
{
    size_t n = all_candidates(ctx, s, parts, rows, out, cap), kept = 0;
    if (!fast) return n;
    for (size_t i = 0; i < n; i++) {
        const conv_family *r = families[out[i].family];
        if (!r->fast || r->fast(ctx, &out[i])) out[kept++] = out[i];
    }
    return kept;
}

size_t conv_exclude(conv_form *forms, size_t n, unsigned exclude)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (!(families[forms[i].family]->excluded_by & exclude)) forms[kept++] = forms[i];
    return kept;
}

size_t conv_refinements(const conv_shape *s, const conv_form *best, int fast, conv_form *out,
                        size_t cap)
{
    const conv_family *r = conv_family_of(best->family);
    if (!r || !r->refinements || (fast && !r->fast_refines)) return 0;
    return r->refinements(s, best, out, cap);
}

/* The rows with a default, asked in increasing rank (no two rows share one). */
conv_form conv_default_form(const irv2_context *ctx, const conv_shape *s)
{
    conv_form f;
    for (int last = -1;;) {
        const conv_family *next = NULL;
        for (size_t k = 0; k < CONV_FAMILIES; k++)
            if (families[k]->default_form && families[k]->default_rank > last &&
                (!next || families[k]->default_rank < next->default_rank))
                next = families[k];
        if (!next) return conv_vec_form(CONV_DIRECT, conv_default_tiling(ctx).vw,
                                        conv_default_tiling(ctx).tm, 0);
        if (next->default_form(ctx, s, &f)) return f;
        last = next->default_rank;
    }
}

/* ---- buffers and weights ---- */

size_t conv_scratch(const conv_shape *s, const conv_form *f)
{
    const conv_family *r = conv_family_of(f->family);
    return r && r->scratch ? r->scratch(s, f) : 0;
}

size_t conv_guard(const conv_shape *s, const conv_form *f)
{
    const conv_family *r = conv_family_of(f->family);
    return r && r->guard ? r->guard(s, f) : 0;
}

size_t conv_guard_bound(const conv_shape *s)
{
    size_t most = 0;
    for (size_t k = 0; k < CONV_FAMILIES; k++) {
        size_t one = families[k]->guard_bound ? families[k]->guard_bound(s) : 0;
        if (one > most) most = one;
    }
    return most;
}

size_t conv_scratch_offered(const irv2_context *ctx, const conv_shape *s)
{
    enum { CAP = 128 };
    conv_form f[CAP];
    size_t n = conv_candidates(ctx, s, 1, ROWS_ALL, 0, f, CAP / 2), most = 0;
    for (size_t i = 0, end = n; i < end; i++) n += conv_refinements(s, &f[i], 0, f + n, CAP - 1 - n);
    f[n++] = conv_default_form(ctx, s);
    for (size_t i = 0; i < n; i++)
        if (conv_scratch(s, &f[i]) > most) most = conv_scratch(s, &f[i]);
    return most;
}

int conv_reuse_key(const conv_shape *s, const conv_form *f)
{
    const conv_family *r = conv_family_of(f->family);
    return r && r->reuse_key ? r->reuse_key(s, f) : 0;
}

size_t conv_packed_count(const conv_shape *s, const conv_form *f)
{
    const conv_family *r = conv_family_of(f->family);
    return r ? r->packed_count(s, f) : 0;
}

void conv_pack(const conv_shape *s, const conv_form *f, const float *w, float *packed)
{
    const conv_family *r = conv_family_of(f->family);
    if (r) r->pack(s, f, w, packed);
}

/* ---- text ---- */

void conv_form_format(const conv_form *f, char *dst, size_t cap)
{
    const conv_family *r = conv_family_of(f->family);
    char params[64] = "";
    if (r && r->format) r->format(f, params, sizeof params);
    snprintf(dst, cap, "%s%s%s", conv_family_name(f->family), params[0] ? " " : "", params);
}

int conv_form_parse(const char *text, conv_form *f)
{
    for (size_t k = 0; k < CONV_FAMILIES; k++) {
        const conv_family *r = families[k];
        size_t len = strlen(r->name);
        if (strncmp(text, r->name, len) != 0 || (text[len] != ' ' && text[len] != '\0'))
            continue;
        memset(f, 0, sizeof *f);
        f->family = (conv_family_id)k;
        if (text[len] == '\0') return !r->parse || r->parse("", f);
        return r->parse && r->parse(text + len + 1, f);
    }
    return 0;
}

int conv_form_equal(const conv_form *a, const conv_form *b)
{
    char ta[96], tb[96];
    conv_form_format(a, ta, sizeof ta);
    conv_form_format(b, tb, sizeof tb);
    return strcmp(ta, tb) == 0;
}

/* ---- launches ---- */

static irv2_status out_args_of(const conv_out *o, int cout, out_args *a)
{
    int parts = o->parts < 1 ? 1 : o->parts;
    if (parts > OUT_MAX_PARTS || o->from[0] != 0)
        return irv2_fail(IRV2_ERR_SHAPE, "%d output parts (at most %d)", o->parts,
                         OUT_MAX_PARTS);
    for (int k = 1; k < parts; k++)
        if (o->from[k] <= o->from[k - 1] || o->from[k] >= cout)
            return irv2_fail(IRV2_ERR_SHAPE, "output part %d starts at channel %d of %d", k,
                             o->from[k], cout);
    *a = (out_args){o->mem,
                    parts,
                    (cl_uint)o->off[0],
                    parts > 1 ? (cl_uint)o->off[1] : 0,
                    parts > 2 ? (cl_uint)o->off[2] : 0,
                    parts > 1 ? o->from[1] : cout,
                    parts > 2 ? o->from[2] : cout};
    return IRV2_OK;
}

/* Fails with status st, the message naming the form before what went wrong. */
static irv2_status form_failure(irv2_status st, const conv_form *f)
{
    char msg[768], form[96];
    snprintf(msg, sizeof msg, "%s", irv2_last_error());
    conv_form_format(f, form, sizeof form);
    return irv2_fail(st, "conv %s: %s", form, msg);
}

int conv_takes_rider(const conv_form *f)
{
    const conv_family *r = conv_family_of(f->family);
    return r && r->takes_rider;
}

size_t conv_rider_outputs(const conv_rider *r)
{
    int ho, wo;
    pool_out_size(POOL_MAX3S2, r->h, r->w, &ho, &wo);
    return (size_t)r->c * r->n * ho * wo;
}

void conv_rider_args(const conv_job *j, rider_vals *v, kernel_arg *args)
{
    const conv_rider *r = j->b->rider;
    *v = (rider_vals){r->in.mem, r->out.mem, r->scale ? r->scale : r->in.mem,
                      r->shift ? r->shift : r->in.mem, (cl_uint)r->in.off, (cl_uint)r->out.off,
                      (cl_uint)conv_rider_outputs(r), epilogue_bits(r->epi), r->n, r->h, r->w};
    const kernel_arg a[RIDER_NARGS] = {ARG(v->in),    ARG(v->in_off), ARG(v->out),
                                       ARG(v->out_off), ARG(v->scale), ARG(v->shift),
                                       ARG(v->epi),   ARG(v->n),      ARG(v->h),
                                       ARG(v->w),     ARG(v->total)};
    memcpy(args, a, sizeof a);
}

/* The rider's shape, and that the family runs it. */
static irv2_status check_rider(const conv_family *r, const conv_rider *p)
{
    if (!p) return IRV2_OK;
    if (!r->takes_rider)
        return irv2_fail(IRV2_ERR_UNSUPPORTED, "the %s family runs no pool in its launches",
                         r->name);
    if (p->c <= 0 || p->n <= 0 || p->h < 3 || p->w < 3 || p->epi.relu1 || p->epi.residual ||
        conv_rider_outputs(p) > 0xffffffffu)
        return irv2_fail(IRV2_ERR_SHAPE, "a max pool of %d x %d planes of %dx%d cannot ride a "
                         "conv's launch", p->c, p->n, p->h, p->w);
    return IRV2_OK;
}

irv2_status conv_launches(irv2_context *ctx, const conv_shape *s, const conv_form *f,
                          op_epilogue epi, const conv_bufs *b, op_launch *ops, int *count)
{
    const conv_family *r = conv_family_of(f->family);
    conv_job j = {ctx, s, f, epi, epi.residual, b, b->scale ? b->scale : b->bias,
                  b->shift ? b->shift : b->bias, {0}};
    j.epi.residual = 0;
    int n = 0;
    irv2_status st = IRV2_OK;
    *count = 0;
    if (!r) st = irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "unknown family %d", (int)f->family);
    else if (epi.residual && epi.relu1)
        st = irv2_fail(IRV2_ERR_UNSUPPORTED, "ReLU before a residual sum");
    if (st == IRV2_OK) st = check_rider(r, b->rider);
    if (st == IRV2_OK) st = out_args_of(&b->out, s->cout, &j.o);
    if (st == IRV2_OK) st = r->launches(&j, ops, &n);
    if (st == IRV2_OK) {
        *count = n;
        return IRV2_OK;
    }
    while (n > 0) op_release(&ops[--n]);
    return form_failure(st, f);
}
