"""What single LiteRT ops cost inside a WHILE loop, at batch 1, 32 and 128.

The op-level half of `litert_step_profile.py`: each candidate op of a
Transformer step runs on a key/value cache `(B, L, H, Dh)` (decode_latency's
Transformer: L = 64, H = 4, Dh = 32) inside a 20-iteration `tf.while_loop`,
converted to a builtins-only `.tflite` of its own and invoked with the
stock interpreter (XNNPACK, 1 thread). Rows give ms per iteration and the
batch-32 / batch-1 ratio (32: nothing amortised). Programs take turns,
each cell the best of 3 rounds.

    python benchmarks/litert_op_costs.py
"""

import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # _litert_probes

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from _litert_probes import Timer, convert, runner_call  # noqa: E402

L, H, D, STEPS = 64, 4, 32, 20
BATCHES = (1, 32, 128)
CACHE_SPEC = tf.TensorSpec((None, L, H, D), tf.float32, name="cache")


def positions():
    return tf.reshape(tf.range(L), [1, L, 1, 1])


def head_major(c):  # the same bytes read as (B, H, L, Dh)
    return tf.reshape(c, [-1, H, L, D])


def weights(c):  # some (B, H, 1, L) attention weights read from the cache
    return tf.reshape(c[:, :1, 0, :], [-1, 1, 1, D])[..., :1] + tf.zeros([1, H, 1, L])


# name: op(t, cache, new (B, 1, H, Dh), query (B, 1, H, Dh)) -> (cache, (B,))
OPS = {
    "loop alone": lambda t, c, new, q: (c, c[:, 0, 0, 0]),
    "write: SELECT_V2, broadcast mask": lambda t, c, new, q: (
        tf.where(positions() == t, new, c), c[:, 0, 0, 0]),
    "write: arithmetic blend": lambda t, c, new, q: (
        c + tf.cast(positions() == t, tf.float32) * (new - c), c[:, 0, 0, 0]),
    "write: concat of slices": lambda t, c, new, q: (
        tf.reshape(tf.concat([c[:, :t], new, c[:, t + 1:]], 1), [-1, L, H, D]),
        c[:, 0, 0, 0]),
    "scores: MUL + SUM(last), (B,L,H,Dh)": lambda t, c, new, q: (
        c, tf.reduce_sum(tf.reduce_sum(q * c, -1), [1, 2])),
    "scores: BATCH_MATMUL adj_y, (B,H,L,Dh)": lambda t, c, new, q: (
        c, tf.reduce_sum(tf.matmul(tf.reshape(q, [-1, H, 1, D]), head_major(c),
                                   transpose_b=True), [1, 2, 3])),
    "scores: MUL + SUM, first t+1 slots only": lambda t, c, new, q: (
        c, tf.reduce_sum(tf.reduce_sum(q * c[:, :t + 1], -1), [1, 2])),
    "values: MUL + SUM(axis 1), (B,L,H,Dh)": lambda t, c, new, q: (
        c, tf.reduce_sum(tf.reduce_sum(c[:, :, :, :1] * c, 1), [1, 2])),
    "values: BATCH_MATMUL, (B,H,L,Dh)": lambda t, c, new, q: (
        c, tf.reduce_sum(tf.matmul(weights(c), head_major(c)), [1, 2, 3])),
    "beam reorder: GATHER rows": lambda t, c, new, q: (
        tf.gather(c, tf.reverse(tf.range(tf.shape(c)[0]), [0])), c[:, 0, 0, 0]),
}


def loop_program(op):
    def program(cache):
        new, query = cache[:, :1] * 0.5, cache[:, 1:2]

        def body(t, c, total):
            c, value = op(t, c, new, query)
            return t + 1, c, total + value

        _, cache, total = tf.while_loop(
            lambda t, c, total: t < STEPS, body,
            (tf.constant(0), cache, tf.zeros_like(cache[:, 0, 0, 0])),
            shape_invariants=(tf.TensorShape([]), tf.TensorShape([None, L, H, D]),
                              tf.TensorShape([None])))
        return {"cache": cache[:, :, 0, 0], "total": total}

    return program


def main():
    timer = Timer()
    with tempfile.TemporaryDirectory() as workdir:
        for i, (name, op) in enumerate(OPS.items()):
            path = convert(loop_program(op), CACHE_SPEC, os.path.join(workdir, f"op{i}.tflite"))
            for batch in BATCHES:
                cache = np.random.rand(batch, L, H, D).astype("float32")
                call, _ = runner_call(path, "program", {"cache": cache}, threads=1)
                timer.add((name, batch), call, reps=30 if batch == 1 else 5)
    best = {key: ms / STEPS for key, ms in timer.run(rounds=3).items()}
    print(f"| op, in a WHILE over a (B, {L}, {H}, {D}) cache | "
          + " | ".join(f"B={b} ms" for b in BATCHES) + " | ratio 32/1 |")
    print("|---|" + "--:|" * (len(BATCHES) + 1))
    for name in OPS:
        cells = " | ".join(f"{best[(name, b)]:.4f}" for b in BATCHES)
        print(f"| {name} | {cells} | {best[(name, 32)] / best[(name, 1)]:.1f} |")


if __name__ == "__main__":
    main()
