/* reduce.h: a tree reduction in local memory, shared by the kernels that end the network
 * with a softmax (cl/head.cl, cl/classifier.cl). */
#ifndef IRV2_REDUCE_H
#define IRV2_REDUCE_H

/* A tree reduction (max or sum) of part[0 .. L) into part[0], L a power of two, called by
 * every item of the work-group after writing its own part[j]; part[0] is final when it
 * returns. */
static void tree_reduce(__local float *part, int j, int L, int is_max)
{
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int step = L / 2; step > 0; step /= 2) {
        if (j < step)
            part[j] = is_max ? fmax(part[j], part[j + step]) : part[j] + part[j + step];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

#endif
