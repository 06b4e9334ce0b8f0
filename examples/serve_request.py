"""Build (and send) TF Serving requests for an exported keras_seq model.

Run: `python examples/serve_request.py --model-name reverse hello world`
prints the JSON body of a REST `:predict` call and the text form of the gRPC
`PredictRequest`, and sends nothing. To send them to a model server:

    docker run -p 8501:8501 -p 8500:8500 \
        -v $PWD/saved_models/reverse:/models/reverse -e MODEL_NAME=reverse \
        tensorflow/serving
    python examples/serve_request.py --model-name reverse \
        --rest http://localhost:8501 --grpc localhost:8500 hello world

`--saved-model saved_models/reverse/1` runs the same request in this process
the way the server does: each input's TensorProto is read back with
`tf.make_ndarray` and fed to the signature of the loaded SavedModel.

The REST body uses the row ("instances") format, one object per example
with the input named: `{"signature_name": ..., "instances": [{"text": ...}]}`;
the server answers `{"predictions": [{"text": ..., "score": ...}, ...]}`.
For the `generate_ids` signature each positional argument is a
space-separated list of source ids ("5 6 7"), padded into `encoder_ids`.
"""

import argparse
import json
import os
import sys
import urllib.error
import urllib.request

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow_serving.apis import predict_pb2  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("texts", nargs="+", help="sources (ids for generate_ids)")
parser.add_argument("--model-name", default="reverse")
parser.add_argument("--signature", default="serving_default")
parser.add_argument("--rest", help="send the REST call, e.g. http://localhost:8501")
parser.add_argument("--grpc", help="send the gRPC call, e.g. localhost:8500")
parser.add_argument("--saved-model", help="run the request on this SavedModel")
parser.add_argument("--timeout", type=float, default=10.0)
args = parser.parse_args()


def fail(message):
    # Errors say what happened in one line; a traceback would be a bug.
    print(f"serve_request.py: {message}", file=sys.stderr)
    sys.exit(2)


# 1. Inputs: text in for serving_default, padded int32 ids for generate_ids.
if args.signature == "generate_ids":
    try:
        rows = [[int(i) for i in text.split()] for text in args.texts]
    except ValueError:
        fail("generate_ids takes source ids, e.g. '5 6 7'. Received: " + repr(args.texts))
    width = max(len(row) for row in rows)
    inputs = {"encoder_ids": np.array([row + [0] * (width - len(row)) for row in rows],
                                      np.int32)}  # (B, S), PAD = 0
else:
    inputs = {"text": np.array(args.texts, dtype=object)}  # (B,)

# 2. The REST body: one JSON object per example, inputs by name.
batch = len(args.texts)
columns = {name: value.tolist() for name, value in inputs.items()}
instances = [{name: column[i] for name, column in columns.items()} for i in range(batch)]
body = {"signature_name": args.signature, "instances": instances}
rest_path = f"/v1/models/{args.model_name}:predict"

# 3. The gRPC request: model, signature and each input as a TensorProto.
request = predict_pb2.PredictRequest()
request.model_spec.name = args.model_name
request.model_spec.signature_name = args.signature
for name, value in inputs.items():
    dtype = tf.string if name == "text" else tf.int32
    request.inputs[name].CopyFrom(tf.make_tensor_proto(value, dtype=dtype))


def show(outputs):
    # One line per example: every output of the signature, text decoded.
    for i in range(batch):
        fields = []
        for name, values in sorted(outputs.items()):
            value = values[i]
            value = value.decode() if isinstance(value, bytes) else value
            value = value.tolist() if isinstance(value, np.ndarray) else value
            fields.append(f"{name}={value!r}" if isinstance(value, str) else f"{name}={value}")
        print(f"  {args.texts[i]!r} -> " + ", ".join(fields))


# 4. Nothing to send to: print both requests.
if not (args.rest or args.grpc or args.saved_model):
    print(f"REST: POST {rest_path}")
    print(json.dumps(body, indent=2, ensure_ascii=False))
    print("\ngRPC: tensorflow.serving.PredictionService/Predict")
    print(request)

# 5. REST: POST the JSON body; predictions come back one object per example.
if args.rest:
    url = args.rest.rstrip("/") + rest_path
    post = urllib.request.Request(url, json.dumps(body).encode(),
                                  {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(post, timeout=args.timeout) as response:
            reply = json.load(response)
    except urllib.error.HTTPError as error:
        fail(f"{url} answered {error.code}: {error.read().decode(errors='replace')[:300]}")
    except (urllib.error.URLError, OSError, ValueError) as error:
        fail(f"could not reach {url}: {getattr(error, 'reason', error)}")
    rows = reply["predictions"]
    if not isinstance(rows[0], dict):  # a single output comes back bare
        rows = [{"output": row} for row in rows]
    print(f"REST {url}")
    show({name: [row[name] for row in rows] for name in rows[0]})

# 6. gRPC: the PredictionService stub; outputs are TensorProtos.
if args.grpc:
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    with grpc.insecure_channel(args.grpc) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        try:
            reply = stub.Predict(request, timeout=args.timeout)
        except grpc.RpcError as error:
            fail(f"gRPC {args.grpc} failed: {error.code().name}: {error.details()}")
    print(f"gRPC {args.grpc}")
    show({name: tf.make_ndarray(proto) for name, proto in reply.outputs.items()})

# 7. Local: what the server does with the request, on the loaded SavedModel.
if args.saved_model:
    import tensorflow_text  # noqa: F401  (registers the tokenizers' ops)

    try:
        signatures = tf.saved_model.load(args.saved_model).signatures
    except OSError as error:
        fail(f"cannot load {args.saved_model}: {error}")
    if args.signature not in signatures:
        fail(f"{args.saved_model} has no signature {args.signature!r}; "
             f"it has {sorted(signatures.keys())}")
    signature = signatures[args.signature]
    feed = {name: tf.constant(tf.make_ndarray(proto)) for name, proto in request.inputs.items()}
    outputs = signature(**feed)
    print(f"SavedModel {args.saved_model} ({args.signature})")
    show({name: value.numpy() for name, value in outputs.items()})
