/* epilogue.h: which steps of the fused epilogue (see net.h) a kernel applies: fixed at build
 * time by the -D flags RELU1, AFFINE, RELU2, or, with -DEPI_ARG (the compact kernel set, one
 * program for every layer), read from the bits of the kernel argument that the launcher
 * passes as `epi` (ops/op.h epilogue_bits). The residual sum is always an argument.
 *
 * EPI_RELU1_ON(epi), EPI_AFFINE_ON(epi), EPI_RELU2_ON(epi) are constants under the -D flags,
 * so the compiler removes the steps not taken. */
#define EPI_BIT_RELU1 1
#define EPI_BIT_AFFINE 4
#define EPI_BIT_RELU2 8

#ifdef EPI_ARG
#define EPI_RELU1_ON(epi) (((epi) & EPI_BIT_RELU1) != 0)
#define EPI_AFFINE_ON(epi) (((epi) & EPI_BIT_AFFINE) != 0)
#define EPI_RELU2_ON(epi) (((epi) & EPI_BIT_RELU2) != 0)
#else
#ifdef RELU1
#define EPI_RELU1_ON(epi) 1
#else
#define EPI_RELU1_ON(epi) 0
#endif
#ifdef AFFINE
#define EPI_AFFINE_ON(epi) 1
#else
#define EPI_AFFINE_ON(epi) 0
#endif
#ifdef RELU2
#define EPI_RELU2_ON(epi) 1
#else
#define EPI_RELU2_ON(epi) 0
#endif
#endif
