/* lanes.h: the VW-wide vector types of the conv kernels and the strided row load. Included
 * by cl/conv_direct.cl, cl/conv_gemm.cl, cl/winograd.cl, cl/winograd_1d.cl and cl/pack.cl after
 * their -D defaults; needs SH (1 or 2), the stride, or SX (1 or 2), the stride along rows where
 * it differs (SX defaults to SH). VW's default is here, the one place for every file that
 * includes it. */

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
#if SX != 1 && SX != 2
#error "SX (SH) must be 1 or 2"
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

/* VW lanes of an input row, every SX-th float from p: with SX = 2, the even lanes of two
 * contiguous loads (reading up to 2*VW floats). */
static floatV load_row(__global const float *p)
{
#if SX == 1
    return vloadV(0, p);
#else
    const floatV a = vloadV(0, p), b = vloadV(0, p + VW);
    return EVEN2(a, b);
#endif
}
