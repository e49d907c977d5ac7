/* eltwise.cl: per-channel epilogue applied in place to a [C][N*H*W] range, for layers whose
 * main work ran elsewhere (a CLBlast GEMM, which cannot fuse it):
 *   v = x + bias[c]; if RELU1: v = max(v, 0); (a residual sum is already in x: the GEMM
 *   accumulated into the residual with beta = 1); if AFFINE: v = v*scale[c] + shift[c];
 *   if RELU2: v = max(v, 0).
 * NDRange (plane, C) where plane = N*H*W, local size left to the implementation, on every
 * device (the CPU and the work-group shape alike: dimension 0 runs along the plane, so
 * neighbouring work-items touch neighbouring floats).
 */
__kernel void channel_epilogue(__global float *x, uint off, __global const float *bias,
                               __global const float *scale, __global const float *shift,
                               int plane)
{
    const int i = get_global_id(0), c = get_global_id(1);
    __global float *p = x + off + (size_t)c * plane + i;
    float v = *p + bias[c];
#ifdef RELU1
    v = fmax(v, 0.0f);
#endif
#ifdef AFFINE
    v = v * scale[c] + shift[c];
#endif
#ifdef RELU2
    v = fmax(v, 0.0f);
#endif
    *p = v;
}
