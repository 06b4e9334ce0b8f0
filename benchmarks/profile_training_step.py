"""Where a training step of an RNN seq2seq model spends its time.

Runs `train_on_batch` on fixed-padded batches under TensorFlow's profiler,
reads the trace (the XPlane protobuf the profiler writes) and adds up the
time of every executed op by the part of the model its node belongs to:
encoder loop, decoder loop (cells), attention, attentional layer, output
projection, buffer writes and masking selects inside the loops, loss,
optimizer; forward and gradient apart. Ops run on two threads, so the
shares are of summed op time (CPU time), not of wall time. It also counts
the ops in each while-loop body of the training graph, the work the loop
pays once per time step, and prints the costliest single ops.

    python benchmarks/profile_training_step.py --attention luong --batch-size 256
    python benchmarks/profile_training_step.py --kernel export   # the export-safe loops
"""

import argparse
import collections
import glob
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_seq  # noqa: E402
from tensorflow.tsl.profiler.protobuf import xplane_pb2  # noqa: E402
from keras_seq.layers.kernels import KERNELS, use_kernel  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--attention", default="luong", choices=("none", "bahdanau", "luong"))
parser.add_argument("--input-feeding", default=1, type=int, choices=(0, 1))
parser.add_argument("--units", type=int, default=256)
parser.add_argument("--layers", type=int, default=2)
parser.add_argument("--batch-size", type=int, default=256)
parser.add_argument("--source-length", type=int, default=22)
parser.add_argument("--target-length", type=int, default=21)
parser.add_argument("--repeats", type=int, default=3, help="timed and profiled steps")
parser.add_argument("--kernel", default="auto", choices=KERNELS)
parser.add_argument("--op-types", default=None, metavar="FILE",
                    help="also write the executed op types and their counts to FILE")
parser.add_argument("--graph-op-types", default=None, metavar="FILE",
                    help="also write the op types of the traced forward pass (its function "
                         "library included, so both branches of every cond) to FILE, and "
                         "whether this batch takes the cuDNN branch: a check that needs no "
                         "device trace (CUPTI) from the profiler")
args = parser.parse_args()
VOCAB = 40

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
B, S, T = args.batch_size, args.source_length, args.target_length
x = {
    "encoder_ids": tf.constant(rng.integers(4, VOCAB, (B, S)), tf.int32),
    "decoder_ids": tf.constant(rng.integers(4, VOCAB, (B, T)), tf.int32),
}
y = tf.constant(rng.integers(4, VOCAB, (B, T)), tf.int32)

with use_kernel(args.kernel):
    model = keras_seq.models.rnn_seq2seq(
        VOCAB, VOCAB, cell="lstm", units=args.units, num_layers=args.layers,
        bidirectional=True,
        attention=None if args.attention == "none" else args.attention,
        input_feeding=bool(args.input_feeding))
    model(x)
    model.compile(keras.optimizers.Adam(1e-3, clipnorm=1.0),
                  keras_seq.metrics.MaskedSparseCrossEntropy())
    model.train_on_batch(x, y)  # trace
    start = time.perf_counter()
    for _ in range(args.repeats):
        model.train_on_batch(x, y)
    step = (time.perf_counter() - start) / args.repeats
    logdir = tempfile.mkdtemp()
    tf.profiler.experimental.start(logdir)
    for _ in range(args.repeats):
        model.train_on_batch(x, y)
    tf.profiler.experimental.stop()
    if args.graph_op_types:
        from keras_seq.layers import cudnn_recurrence, kernels

        graph = tf.function(lambda ids: model(ids, training=True)).get_concrete_function(x)
        graph_def = graph.graph.as_graph_def()
        types = collections.Counter(node.op for node in graph_def.node)
        for function in graph_def.library.function:
            types.update(node.op for node in function.node_def)
        possible = kernels.cudnn_possible()
        taken = possible and bool(cudnn_recurrence.cudnn_mask_ok(x["encoder_ids"] != 0))
        with open(args.graph_op_types, "w") as f:
            for op, count in sorted(types.items()):
                f.write(f"{op} {count}\n")
            f.write(f"cuDNN possible: {'yes' if possible else 'no'}; "
                    f"this batch takes the cuDNN branch: {'yes' if taken else 'no'}\n")


def part_of(node):
    """The model part an op's node name belongs to."""
    where = "gradient" if node.startswith("gradient_tape") else "forward"
    leaf = node.split("/while/")[-1] if "/while" in node else node
    if "adam" in node.lower() or "clip" in node.lower():
        return "update", "optimizer"
    if "encoder" in node:
        return where, "encoder loop" if "/while" in node else "encoder, outside the loop"
    if "decoder" not in node:
        return where, "loss and the rest"
    if "output_projection" in leaf:
        return where, "output projection"
    if leaf.startswith("attentional"):
        return where, "attentional layer"
    if leaf.startswith("attention"):
        return where, "attention"
    if "/while" not in node:
        return where, "decoder, outside the loop"
    if leaf.startswith("cell_"):
        return where, "decoder cells"
    return where, "decoder loop: writes, masks, slicing"


def op_times(logdir):
    """`({node: summed seconds}, {op type: executions})` of the executed ops."""
    path = glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True)[-1]
    space = xplane_pb2.XSpace()
    with open(path, "rb") as f:
        space.ParseFromString(f.read())
    times, counts = collections.Counter(), collections.Counter()
    for plane in space.planes:
        names = {k: v.name for k, v in plane.event_metadata.items()}
        for line in plane.lines:
            for event in line.events:
                name = names.get(event.metadata_id, "")
                if ":" in name and "::" not in name and " " not in name:  # node:Op
                    times[name] += event.duration_ps * 1e-12
                    counts[name.rsplit(":", 1)[1]] += 1
    return times, counts


times, counts = op_times(logdir)
if args.op_types:
    with open(args.op_types, "w") as f:
        for op, count in sorted(counts.items()):
            f.write(f"{op} {count}\n")
total = sum(times.values())
parts = collections.Counter()
for name, seconds in times.items():
    part = part_of(name.split(":")[0])
    parts[part if isinstance(part, str) else " / ".join(part[::-1])] += seconds
print(f"\nLSTM {args.layers}x{args.units}, bidirectional encoder, "
      f"attention={args.attention}, input_feeding={bool(args.input_feeding)}, "
      f"kernel={args.kernel}, batch {B}, S={S}, T={T}: "
      f"{1000 * step:.0f} ms/step, {B / step:.0f} examples/s")
print("| part | share of op time |\n|---|--:|")
for part, seconds in parts.most_common():
    print(f"| {part} | {seconds / total:.1%} |")
print("\n| costliest ops | share |\n|---|--:|")
for name, seconds in times.most_common(8):
    node, op = name.rsplit(":", 1)
    print(f"| {op} {node.split('/while/')[-1][-60:]} | {seconds / total:.1%} |")

with use_kernel(args.kernel):
    @tf.function
    def gradients():
        with tf.GradientTape() as tape:
            loss = model.compute_loss(x, y, model(x, training=True))
        return tape.gradient(loss, model.trainable_variables)

    library = gradients.get_concrete_function().graph.as_graph_def().library
print("\n| while body | ops per iteration |\n|---|--:|")
for function in sorted(library.function, key=lambda f: -len(f.node_def)):
    name = function.signature.name
    if "while_body" in name and "rewritten" not in name:
        kind = "gradient" if "_grad_" in name else "forward"
        owner = "encoder" if "encoder" in name else "decoder"
        print(f"| {owner} {kind} ({name[-30:]}) | {len(function.node_def)} |")
