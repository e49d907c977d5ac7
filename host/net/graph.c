/* graph.c: the whole network of a variant: its body (net_seed.c or net_tf.c), then the global
 * average pool and the classifier. */
#include "net/graph.h"

#include "net/builder.h"
#include "net/net_seed.h"
#include "net/net_tf.h"
#include "runtime/error.h"

#include <string.h>

irv2_status net_build(net_variant variant, int classes, net *out)
{
    memset(out, 0, sizeof *out);
    if (classes <= 0) return irv2_fail(IRV2_ERR_SHAPE, "network: class count %d", classes);
    out->variant = variant;
    out->classes = classes;
    out->input = nb_tensor(out, "input", 3, 299, 299);
    int features = variant == NET_TF ? net_tf_body(out) : net_seed_body(out);
    int pooled = nb_pool(out, "avgpool", features, LAYER_GLOBAL_AVGPOOL);
    const char *head = variant == NET_TF ? "classif" : "classifier";
    out->logits = nb_conv(out, head, pooled, classes, 1, 1, 1, 0, 0, NB_FC);
    if (out->status != IRV2_OK) {
        irv2_status st = out->status;
        net_free(out);
        return st;
    }
    return IRV2_OK;
}
