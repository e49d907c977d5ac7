/* lanes.h: the VW-wide vector types of the conv kernels and the strided row load. Included
 * by cl/conv_direct.cl, cl/conv_gemm.cl, cl/winograd.cl, cl/winograd_fused.cl and cl/pack.cl
 * after their -D defaults; needs SH (1 or 2), the stride, or SX (1, 2 or 4), the stride along
 * rows where it differs (SX defaults to SH). VW's default is here, the one place for every
 * file that includes it. */

#ifndef VW
#define VW 8 // lanes per work-item: 8 or 16
#endif

#if VW == 8
#define floatV float8
#define intV int8
#define vloadV vload8
#define vstoreV vstore8
#define LANES ((int8)(0, 1, 2, 3, 4, 5, 6, 7))
#elif VW == 16
#define floatV float16
#define intV int16
#define vloadV vload16
#define vstoreV vstore16
#define LANES ((int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#else
#error "VW must be 8 or 16"
#endif

#ifndef SX
#define SX SH
#endif
#if SX != 1 && SX != 2 && SX != 4
#error "SX (SH) must be 1, 2 or 4"
#endif

/* EVEN2(a, b): the even lanes of a, then those of b (vectors of VW lanes), listed lane by
 * lane. Compiled with optimisation this is the one two-input shuffle that
 * (floatV)(a.even, b.even) gives; unoptimised, that concatenation widens each half with a
 * shuffle whose upper mask lanes are undefined, and Oclgrind 21.10's uninitialised-value
 * checker crashes (SIGSEGV) interpreting a shuffle mask lane that is undefined. */
#if VW == 8
#define EVEN2(a, b) ((floatV)((a).s0, (a).s2, (a).s4, (a).s6, (b).s0, (b).s2, (b).s4, (b).s6))
#else
#define EVEN2(a, b)                                                                            \
    ((floatV)((a).s0, (a).s2, (a).s4, (a).s6, (a).s8, (a).sa, (a).sc, (a).se, (b).s0, (b).s2,  \
              (b).s4, (b).s6, (b).s8, (b).sa, (b).sc, (b).se))
#endif

/* EVERY4(a, b, c, d): lanes 0, 4, 8, ... of a, then of b, c and d, listed as EVEN2 is. */
#if VW == 8
#define EVERY4(a, b, c, d)                                                                     \
    ((floatV)((a).s0, (a).s4, (b).s0, (b).s4, (c).s0, (c).s4, (d).s0, (d).s4))
#else
#define EVERY4(a, b, c, d)                                                                     \
    ((floatV)((a).s0, (a).s4, (a).s8, (a).sc, (b).s0, (b).s4, (b).s8, (b).sc, (c).s0, (c).s4,  \
              (c).s8, (c).sc, (d).s0, (d).s4, (d).s8, (d).sc))
#endif

/* VW lanes of an input row, every SX-th float from p: with SX = 2, the even lanes of two
 * contiguous loads, with SX = 4 every fourth of four (reading up to SX*VW floats). */
static floatV load_row(__global const float *p)
{
#if SX == 1
    return vloadV(0, p);
#elif SX == 2
    const floatV a = vloadV(0, p), b = vloadV(0, p + VW);
    return EVEN2(a, b);
#else
    const floatV a = vloadV(0, p), b = vloadV(0, p + VW), c = vloadV(0, p + 2 * VW),
                 d = vloadV(0, p + 3 * VW);
    return EVERY4(a, b, c, d);
#endif
}
