#!/usr/bin/env bash
# The GPU checks of keras_seq, prepared to run unattended in at most 12 minutes
# (the step budgets add up to 11.8 minutes).
#
#   bash benchmarks/device_check.sh OUT_DIR            # on a machine with a GPU
#   bash benchmarks/device_check.sh OUT_DIR --dry-run  # tiny sizes, any machine (a test runs it)
#
# Writes into OUT_DIR (each step its own file, so a step that fails or runs
# out of time leaves the others):
#   env.txt                    versions, GPUs seen by TensorFlow, nvidia-smi
#   throughput_float32.md      keras_seq vs hand-written Keras/keras-hub, every family
#                              (the "auto" kernel: cuDNN for LSTM recurrences on a GPU)
#   throughput_xla.md          the same with jit_compile=True (keras_seq's fused loop:
#                              XLA cannot compile cuDNN's op, as with Keras' own LSTM)
#   throughput_mixed_float16.md
#   cudnn_ops.txt              op types executed in a profiled training step, and
#                              whether CudnnRNN* was among them ("cuDNN used: yes/no")
#   g2p_transformer.txt        8 minutes of G2P Transformer training, then the test set
#                              decoded (WER/PER), benchmarks/g2p_cmudict.py
#   summary.txt                one line per step: ok / failed / timed out
#
# Installing: TensorFlow 2.21 must be importable by $PYTHON (default python3),
# or its wheels must lie in $WHEELS (default .whl/, pip --no-index). The
# package itself is installed from this checkout without touching the network.
set -uo pipefail
out=${1:?usage: device_check.sh OUT_DIR [--dry-run]}
dry=0
[ "${2:-}" = "--dry-run" ] && dry=1
cd "$(dirname "$0")/.."
mkdir -p "$out"
out=$(cd "$out" && pwd)
PY=${PYTHON:-python3}
export TF_CPP_MIN_LOG_LEVEL=2 KERAS_BACKEND=tensorflow PYTHONUNBUFFERED=1
summary="$out/summary.txt"
: >"$summary"

step() {  # step NAME SECONDS OUTFILE COMMAND...
  local name=$1 seconds=$2 file=$3
  shift 3
  local start=$SECONDS
  timeout "$seconds" "$@" >"$file" 2>"$file.stderr"
  local rc=$?
  local verdict=ok
  [ $rc -eq 124 ] && verdict="timed out after ${seconds}s"
  [ $rc -ne 0 ] && [ $rc -ne 124 ] && verdict="failed (exit $rc; see $(basename "$file").stderr)"
  echo "$name: $verdict ($((SECONDS - start)) s)" | tee -a "$summary"
}

# 1. Install, offline.
if ! "$PY" -c "import tensorflow, keras_hub, tensorflow_text" 2>/dev/null; then
  wheels=${WHEELS:-.whl}
  if [ -d "$wheels" ]; then
    "$PY" -m pip install -q --no-index --find-links "$wheels" tensorflow keras keras-hub \
      tensorflow-text 2>&1 | tail -3
  fi
fi
if ! "$PY" -c "import tensorflow" 2>/dev/null; then
  echo "install: failed: $PY cannot import tensorflow, and no wheels were found in" \
    "${WHEELS:-.whl}/; this machine reaches no package registry. Carry the wheels" \
    "of tensorflow 2.21, keras, keras-hub and tensorflow-text there." | tee -a "$summary"
  exit 2
fi
"$PY" -c "import keras_seq" 2>/dev/null ||
  "$PY" -m pip install -q --no-index --no-deps --no-build-isolation -e . 2>&1 | tail -3
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

{
  "$PY" - <<'EOF'
import platform, keras, tensorflow as tf, keras_hub
print("python", platform.python_version(), "tensorflow", tf.__version__,
      "keras", keras.__version__, "keras_hub", keras_hub.__version__)
print("GPUs:", tf.config.list_physical_devices("GPU"))
print("built with CUDA:", tf.test.is_built_with_cuda(), tf.sysconfig.get_build_info().get("cuda_version"),
      "cuDNN", tf.sysconfig.get_build_info().get("cudnn_version"))
EOF
  nvidia-smi 2>&1 | head -15
} >"$out/env.txt" 2>"$out/env.txt.stderr"
echo "env: $(head -2 "$out/env.txt" | tr '\n' ' ')" | tee -a "$summary"

# 2. Throughput, three ways.
if [ $dry -eq 1 ]; then
  sizes=(--units 16 --layers 1 --dim 16 --transformer-layers 1 --batch-size 8
         --batches 3 --rounds 1 --no-export-row)
  budget=240  # on 2 CPU cores XLA compiles the tiny models for 70-90 s
  # The Transformer's XLA and mixed_float16 paths are covered by the test
  # suite; the dry run (itself a test) keeps to one family each, for time.
  xla_families=(luong-feeding)
  mixed_families=(luong)
else
  sizes=(--batches 9 --rounds 2 --no-export-row)
  budget=60  # a GPU step takes milliseconds: tracing dominates
  xla_families=(luong-feeding transformer)
  mixed_families=(luong transformer)
fi
tp=benchmarks/train_throughput.py
if [ $dry -eq 1 ]; then
  # Tiny sizes measure nothing: the dry run (itself a test) overlaps this step
  # with the others to halve its time. On a GPU every step runs alone.
  step throughput_float32 $budget "$out/throughput_float32.md" "$PY" $tp "${sizes[@]}" &
else
  step throughput_float32 $budget "$out/throughput_float32.md" "$PY" $tp "${sizes[@]}"
fi
step throughput_xla $((budget * 2 / 3)) "$out/throughput_xla.md" \
  "$PY" $tp "${sizes[@]}" --jit-compile 1 --kernel loop --families "${xla_families[@]}"
step throughput_mixed_float16 $((budget * 2 / 3)) "$out/throughput_mixed_float16.md" \
  "$PY" $tp "${sizes[@]}" --policy mixed_float16 --families "${mixed_families[@]}"

# 3. Is cuDNN really used? The executed op types of a profiled training step.
if [ $dry -eq 1 ]; then
  prof=(--units 16 --layers 1 --batch-size 8 --repeats 1)
else
  prof=(--repeats 2)
fi
step cudnn_profile 30 "$out/cudnn_profile.md" "$PY" benchmarks/profile_training_step.py \
  --attention luong --input-feeding 0 "${prof[@]}" --op-types "$out/cudnn_ops.txt"
if grep -q "^CudnnRNN" "$out/cudnn_ops.txt" 2>/dev/null; then
  echo "cuDNN used: yes" | tee -a "$out/cudnn_ops.txt" "$summary"
else
  echo "cuDNN used: no" | tee -a "$out/cudnn_ops.txt" "$summary"
fi

# 4. The G2P Transformer: 8 minutes of training, then the test set.
if [ $dry -eq 1 ]; then
  lexicon="$out/lexicon"
  mkdir -p "$lexicon"
  "$PY" - "$lexicon" <<'EOF'
import sys, random
random.seed(0)
phones = {"a": "AA", "b": "B", "d": "D", "e": "EH", "k": "K", "o": "OW", "s": "S", "t": "T"}
words = sorted({"".join(random.choice("abdekost") for _ in range(random.randint(2, 6)))
                for _ in range(300)})
for name, part in (("train", words[30:]), ("ref", words[:30])):
    with open(f"{sys.argv[1]}/{name}", "w") as f:
        f.writelines(w.upper() + "\t" + " ".join(phones[c] for c in w) + "\n" for w in part)
EOF
  g2p=(--train "$lexicon/train" --test "$lexicon/ref" --units 16 --layers 1
       --batch-size 16 --minutes 0.05 --method greedy)
  g2p_budget=120
else
  g2p=(--units 256 --layers 3 --batch-size 512 --learning-rate 2e-3 --schedule cosine
       --minutes 8)
  g2p_budget=540  # 480 s of training, then loading and decoding 12,000 words
fi
step g2p_transformer $g2p_budget "$out/g2p_transformer.txt" "$PY" benchmarks/g2p_cmudict.py \
  --model transformer "${g2p[@]}" --save "$out/g2p_transformer_run"
rm -rf "$out/g2p_transformer_run"  # the model stays on the machine: no weights in results
wait  # the dry run's overlapped step
grep -E "^\| keras_seq|WER" "$out/g2p_transformer.txt" | tail -3 >>"$summary"
cat "$summary"
