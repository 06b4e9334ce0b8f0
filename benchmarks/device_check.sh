#!/usr/bin/env bash
# The GPU checks of keras_seq, prepared to run unattended. Step budgets: 7 minutes
# for throughput and cuDNN, G2P_MINUTES + 1 for G2P. A lease allows 10 minutes a
# call and 15 in all, so a lent machine runs them as two calls (see ONLY),
# after benchmarks/device_bootstrap.sh has carried TensorFlow there:
#
#   eval "$(bash benchmarks/device_bootstrap.sh install CHUNKS)"
#   ONLY="throughput cudnn" bash benchmarks/device_check.sh OUT
#   ONLY=g2p G2P_MINUTES=3 bash benchmarks/device_check.sh OUT2
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
#   cudnn_graph_ops.txt        op types of the traced step and the branch the batch
#                              takes (the verdict when the trace holds no device ops)
#   g2p_transformer.txt        8 minutes of G2P Transformer training, then the test set
#                              decoded (WER/PER), benchmarks/g2p_cmudict.py
#   summary.txt                one line per step: ok / failed / timed out
#
# G2P_MINUTES (default 8) and G2P_DATA (default ../shared/g2p) size and place
# step 4; THROUGHPUT_BUDGET (default 150 s) bounds the float32 throughput step
# (the other two get 2/3 of it); ONLY="throughput cudnn g2p" picks steps, and
# ONLY=ensemble runs step 5 (issue 16's members, average and ensemble), which
# runs only when named.
# On the lent machine, TensorFlow comes from benchmarks/device_bootstrap.sh.
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
# ONLY="throughput cudnn" (or "g2p") runs some of steps 2-4, e.g. one call each
# where a lease's call is shorter than the whole script.
wanted() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }
# Every step is a new process: keep the kernels the driver compiles from PTX
# (see step 2) for the next one; the default cache (256 MB) is too small.
export CUDA_CACHE_MAXSIZE=${CUDA_CACHE_MAXSIZE:-4294967296}
export CUDA_CACHE_PATH=${CUDA_CACHE_PATH:-/tmp/keras_seq_cuda_cache}

# The folders steps 4 and 5 write models into and remove afterwards (no
# weights in the results): refuse an OUT_DIR that already holds one, which
# would be someone else's.
for own in g2p_transformer_run ensemble_runs; do
  if [ -e "$out/$own" ]; then
    echo "device_check.sh: $out/$own already exists; the script writes and then" \
      "removes a folder of that name, so give it an OUT_DIR without one." | tee -a "$summary"
    exit 2
  fi
done

seconds_for() {  # seconds_for MINUTES EXTRA_SECONDS: a step's budget
  awk -v minutes="$1" -v extra="$2" 'BEGIN { print int(minutes * 60) + extra }'
}

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
  # A GPU step takes milliseconds; tracing and the first use of each kernel
  # dominate (TensorFlow 2.21 ships PTX, not machine code, for Hopper: the
  # driver compiles every kernel at first use). On the H200 (2026-11-30) 70 s
  # held three of the five families.
  budget=${THROUGHPUT_BUDGET:-150}
  xla_families=(luong-feeding transformer)
  mixed_families=(luong transformer)
fi
tp=benchmarks/train_throughput.py
if ! wanted throughput; then :
elif [ $dry -eq 1 ]; then
  # Tiny sizes measure nothing: the dry run (itself a test) overlaps this step
  # with the others to halve its time. On a GPU every step runs alone.
  step throughput_float32 $budget "$out/throughput_float32.md" "$PY" $tp "${sizes[@]}" &
else
  step throughput_float32 $budget "$out/throughput_float32.md" "$PY" $tp "${sizes[@]}"
fi
if wanted throughput; then
  step throughput_xla $((budget * 2 / 3)) "$out/throughput_xla.md" \
    "$PY" $tp "${sizes[@]}" --jit-compile 1 --kernel loop --families "${xla_families[@]}"
  step throughput_mixed_float16 $((budget * 2 / 3)) "$out/throughput_mixed_float16.md" \
    "$PY" $tp "${sizes[@]}" --policy mixed_float16 --families "${mixed_families[@]}"
fi

# 3. Is cuDNN really used? The executed op types of a profiled training step
# (device ops appear only when TensorFlow finds CUPTI, libcupti.so.12), and
# the traced step's op types with the branch this batch takes (no CUPTI needed).
if [ $dry -eq 1 ]; then
  prof=(--units 16 --layers 1 --batch-size 8 --repeats 1)
  prof_budget=30
else
  prof=(--repeats 2)
  prof_budget=60
fi
if wanted cudnn; then
  step cudnn_profile $prof_budget "$out/cudnn_profile.md" "$PY" \
    benchmarks/profile_training_step.py --attention luong --input-feeding 0 "${prof[@]}" \
    --op-types "$out/cudnn_ops.txt" --graph-op-types "$out/cudnn_graph_ops.txt"
  if grep -q "^CudnnRNN" "$out/cudnn_ops.txt" 2>/dev/null; then
    verdict="yes (CudnnRNN* among the executed ops)"
  elif grep -q "^CudnnRNN" "$out/cudnn_graph_ops.txt" 2>/dev/null &&
    grep -q "takes the cuDNN branch: yes" "$out/cudnn_graph_ops.txt"; then
    verdict="yes (CudnnRNN* in the traced step, and this batch takes its branch;"
    verdict="$verdict the profile held no device ops to confirm it)"
  else
    verdict="no"
  fi
  echo "cuDNN used: $verdict" | tee -a "$out/cudnn_ops.txt" "$summary"
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
  g2p_minutes=${G2P_MINUTES:-8}
  g2p_data=${G2P_DATA:-../shared/g2p}
  # XLA off: on the H200 (2026-11-30) epoch 1 had not ended after 4 minutes
  # under Keras' "auto", which compiles the Transformer's step per batch shape
  # (likely the cause; G2P_JIT=auto measures it again).
  g2p=(--train "$g2p_data/g014b2b.train" --test "$g2p_data/g014b2b.ref" --units 256
       --layers 3 --batch-size 512 --learning-rate 2e-3 --schedule cosine
       --minutes "$g2p_minutes" --jit-compile "${G2P_JIT:-off}")
  # the training minutes, then loading and decoding 12,000 words
  g2p_budget=$(seconds_for "$g2p_minutes" 60)
fi
if wanted g2p; then
  step g2p_transformer $g2p_budget "$out/g2p_transformer.txt" "$PY" benchmarks/g2p_cmudict.py \
    --model transformer "${g2p[@]}" --save "$out/g2p_transformer_run"
  rm -rf "$out/g2p_transformer_run"  # the model stays on the machine: no weights in results
fi
wait  # the dry run's overlapped step
grep -E "^\| keras_seq|WER" "$out/g2p_transformer.txt" 2>/dev/null | tail -3 >>"$summary"

# 5. Issue 16 on a GPU, only when ONLY names "ensemble": ENSEMBLE_MEMBERS
# (default 3) Transformers of ENSEMBLE_MINUTES (default 2) each, seeds 1..N,
# each decoded; then the average of member 1's last 3 epochs, and the
# ensemble of all members, decoded on the test set. The weights stay there.
if [[ " ${ONLY:-} " == *" ensemble "* ]]; then
  members=${ENSEMBLE_MEMBERS:-3}
  if [ $dry -eq 1 ]; then
    member=(--minutes 1 --epochs 3)
    member_budget=120
  else
    member=(--minutes "${ENSEMBLE_MINUTES:-2}")
    member_budget=$(seconds_for "${ENSEMBLE_MINUTES:-2}" 90)
  fi
  runs=()
  for seed in $(seq 1 "$members"); do
    step "g2p_member_$seed" "$member_budget" "$out/g2p_member_$seed.txt" "$PY" \
      benchmarks/g2p_cmudict.py --model transformer "${g2p[@]}" "${member[@]}" \
      --seed "$seed" --save-every-epoch --save "$out/ensemble_runs/m$seed"
    runs+=("$out/ensemble_runs/m$seed")
  done
  last=($(ls -d "$out"/ensemble_runs/m1/epoch-* 2>/dev/null | tail -3))
  if [ ${#last[@]} -ge 2 ]; then
    step g2p_average "$member_budget" "$out/g2p_average.txt" "$PY" benchmarks/g2p_cmudict.py \
      --model transformer "${g2p[@]}" --load "${last[@]}" --average
  else
    echo "g2p_average: skipped (member 1 saved ${#last[@]} epochs)" | tee -a "$summary"
  fi
  step g2p_ensemble "$member_budget" "$out/g2p_ensemble.txt" "$PY" benchmarks/g2p_cmudict.py \
    --model transformer "${g2p[@]}" --load "${runs[@]}"
  rm -rf "$out/ensemble_runs"  # no weights in the results
  for name in $(seq -f "g2p_member_%g" 1 "$members") g2p_average g2p_ensemble; do
    grep -E "^\| keras_seq" "$out/$name.txt" 2>/dev/null | tail -1 | sed "s/^/$name: /" >>"$summary"
  done
fi
cat "$summary"
