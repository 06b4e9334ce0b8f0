"""The per-replica steps of `DistributedTrainer`, reduced across replicas."""

import tensorflow as tf

from keras_seq.constants import PAD
from keras_seq.metrics.masked_sparse_cross_entropy import token_cross_entropy

SUM = tf.distribute.ReduceOp.SUM


class ReplicaSteps:
    """A train step, an eval step and a broadcast, each run on every replica.

    Each is a `tf.function` that runs its replica function with
    `strategy.run` and returns the all-reduced sums (the same on every
    replica, so the first local result is the value).

    - `train(batch, stop_vote)`: one optimizer step on a split global batch;
      the loss is the mean over the real tokens of the whole global batch,
      gradients are summed across replicas and clipped per variable by
      `clipnorm`. Returns `[loss_sum, correct, tokens, stop_votes]`.
    - `evaluate(batch)`: `[loss_sum, correct, tokens]` of a split batch.
    - `broadcast(position)`: give every replica replica 0's model and
      optimizer variables and `position` (returned).

    Args:
        model: the Seq2Seq model, built under `strategy.scope()`.
        optimizer: its built Keras optimizer, without `clipnorm`.
        strategy: the `tf.distribute.Strategy`.
        clipnorm: float or None.
        label_smoothing: float.
    """

    def __init__(self, model, optimizer, strategy, clipnorm, label_smoothing):
        self.model = model
        self.optimizer = optimizer
        self.strategy = strategy
        self.clipnorm = clipnorm
        self.label_smoothing = label_smoothing
        self.replicas = strategy.num_replicas_in_sync
        self.train = tf.function(self._distributed_train_step, reduce_retracing=True)
        self.evaluate = tf.function(self._distributed_eval_step, reduce_retracing=True)
        self.broadcast = tf.function(self._distributed_broadcast)

    def _replica_sums(self, targets, logits):
        mask = tf.cast(tf.not_equal(targets, PAD), tf.float32)
        losses = token_cross_entropy(targets, logits, self.label_smoothing)
        predicted = tf.argmax(logits, axis=-1, output_type=tf.int32)
        correct = tf.cast(tf.equal(predicted, tf.cast(targets, tf.int32)), tf.float32)
        return tf.reduce_sum(losses * mask), tf.reduce_sum(correct * mask), mask

    def _replica_train_step(self, inputs, targets, stop_vote):
        context = tf.distribute.get_replica_context()
        tokens = context.all_reduce(
            SUM, tf.reduce_sum(tf.cast(tf.not_equal(targets, PAD), tf.float32)))
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            logits = self.model(inputs, training=True)
            loss_sum, correct, _ = self._replica_sums(targets, logits)
            loss = loss_sum / tf.maximum(tokens, 1.0)
        grads = tape.gradient(loss, variables)
        grads = [tf.zeros_like(v) if g is None else tf.convert_to_tensor(g)
                 for g, v in zip(grads, variables)]
        grads = context.all_reduce(SUM, grads)
        if self.clipnorm:
            grads = [tf.clip_by_norm(g, self.clipnorm) for g in grads]
        # The optimizer sums across replicas again: hand it 1/replicas each.
        grads = [g / float(self.replicas) for g in grads]
        self.optimizer.apply(grads, variables)
        # tf.identity: the same tensor object on every replica would be
        # merged into one value, not a per-replica one, by all_reduce.
        loss_sum, correct, votes = context.all_reduce(
            SUM, [loss_sum, correct, tf.identity(stop_vote)])
        return loss_sum, correct, tokens, votes

    def _distributed_train_step(self, batch, stop_vote):
        sums = self.strategy.run(self._replica_train_step, args=(*batch, stop_vote))
        return [self.strategy.experimental_local_results(s)[0] for s in sums]

    def _replica_eval_step(self, inputs, targets):
        context = tf.distribute.get_replica_context()
        logits = self.model(inputs, training=False)
        loss_sum, correct, mask = self._replica_sums(targets, logits)
        return context.all_reduce(SUM, [loss_sum, correct, tf.reduce_sum(mask)])

    def _distributed_eval_step(self, batch):
        sums = self.strategy.run(self._replica_eval_step, args=tuple(batch))
        return [self.strategy.experimental_local_results(s)[0] for s in sums]

    def _replica_broadcast(self, position):
        context = tf.distribute.get_replica_context()
        first = tf.equal(context.replica_id_in_sync_group, 0)
        values = [v.read_value() for v in self.state_variables()] + [position]
        # One all-reduce per tensor: a batched one would concatenate dtypes.
        return [context.all_reduce(SUM, tf.where(first, x, tf.zeros_like(x)))
                for x in values]

    def _distributed_broadcast(self, position):
        """Give every replica replica 0's variables and `position`."""
        results = self.strategy.run(self._replica_broadcast, args=(position,))
        results = [self.strategy.experimental_local_results(r)[0] for r in results]
        for v, value in zip(self.state_variables(), results):
            v.assign(value)
        return results[-1]

    def state_variables(self):
        """The model's and the optimizer's variables, in a fixed order."""
        return [v.value for v in self.model.variables] + \
               [v.value for v in self.optimizer.variables]
