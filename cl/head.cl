/* head.cl: the network's output: logits stored [classes][N] (the classifier is a 1x1 conv
 * in channel-major layout) are written as [N][classes], as probabilities with -DSOFTMAX
 * (max-subtracted for range safety). NDRange (N).
 */
__kernel void head(__global const float *logits, uint off, __global float *out, int classes,
                   int N)
{
    const int n = get_global_id(0);
    __global const float *src = logits + off + n;
    __global float *dst = out + (size_t)n * classes;
#ifdef SOFTMAX
    float mx = src[0];
    for (int k = 1; k < classes; k++) mx = fmax(mx, src[k * N]);
    float sum = 0.0f;
    for (int k = 0; k < classes; k++) {
        const float e = exp(src[k * N] - mx);
        dst[k] = e;
        sum += e;
    }
    const float inv = 1.0f / sum;
    for (int k = 0; k < classes; k++) dst[k] *= inv;
#else
    for (int k = 0; k < classes; k++) dst[k] = src[k * N];
#endif
}
