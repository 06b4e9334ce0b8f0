"""What a SavedModel's graph may run: the op types keras_seq's exports hold.

A SavedModel is a program: loading it runs its resource initializers, and
calling a signature runs whatever its functions say (a crafted one can read
and write files). `keras-seq predict` therefore reads `saved_model.pb` as a
protocol buffer first, without running anything, and refuses a graph that
holds an op type outside `ALLOWED_OPS` unless the user trusts it
explicitly (`--trust-graph`).

`ALLOWED_OPS` is the union of the op types of real exports of every model
family and decoding method; `tests/export/test_graph_ops.py` derives it
again from exports and checks that it has not drifted, and that it holds
no op that touches files or runs Python.

The checkpoint saver's functions (`SaveV2`, `RestoreV2`, ...), which every
SavedModel carries but which neither `tf.saved_model.load` nor a signature
call runs, are left out of the check when nothing else calls them.
"""

import os

# Generated from exports (tests/export/test_graph_ops.py prints a new list
# when it drifts); none touches a file or runs Python.
ALLOWED_OPS = frozenset({
    "AddV2", "All", "Any", "ArgMax", "AsString", "Assert", "BatchMatMulV2",
    "BiasAdd", "BroadcastTo", "Cast", "ConcatV2", "Const", "Cumsum",
    "DenseBincount", "Einsum", "Equal", "ExpandDims",
    "FastWordpieceTokenizeWithOffsets", "Fill", "FloorDiv", "FloorMod", "GatherV2",
    "Greater", "GreaterEqual", "HashTableV2", "Identity", "Less", "LessEqual",
    "LogSoftmax", "LogicalAnd", "LogicalNot", "LogicalOr", "LookupTableFindV2",
    "LookupTableImportV2", "MatMul", "Max", "Maximum", "Mean", "Minimum", "Mul",
    "Neg", "NoOp", "NormalizeUTF8", "NotEqual", "Pack", "Pad", "Placeholder",
    "Pow", "Prod", "RaggedTensorToTensor", "Range", "ReadVariableOp", "RealDiv",
    "Relu", "Reshape",
    "Rsqrt", "SelectV2", "Shape", "Sigmoid", "Size", "Softmax", "Split",
    "SquaredDifference", "Squeeze", "StatefulPartitionedCall",
    "StaticRegexReplace", "StopGradient", "StridedSlice", "StringJoin",
    "StringLength", "StringLower", "StringSplitV2", "Sub", "Sum", "Tanh", "Tile", "TopKV2",
    "Transpose", "UnicodeDecode", "UnicodeEncode", "UnicodeTranscode",
    "UnsortedSegmentJoin", "VarHandleOp", "Where", "While", "ZerosLike",
})


def op_types(path):
    """The op types a SavedModel folder's graph can run, by reading it.

    Args:
        path: str. A SavedModel folder (holding `saved_model.pb`).

    Returns:
        set of str: the op types of the top-level graph and of every
        library function, except functions only the checkpoint saver calls.

    Raises:
        ValueError: when `saved_model.pb` cannot be read as a SavedModel.
    """
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    try:
        with open(os.path.join(path, "saved_model.pb"), "rb") as f:
            proto.ParseFromString(f.read())
    except Exception as e:
        raise ValueError(f"{path} is not a readable SavedModel ({e})") from None
    types = set()
    for graph in proto.meta_graphs:
        library = {f.signature.name: f for f in graph.graph_def.library.function}
        saver = {graph.saver_def.save_tensor_name.split(":")[0].lstrip("^"),
                 graph.saver_def.restore_op_name.split(":")[0].lstrip("^")} - {""}
        roots = [node for node in graph.graph_def.node if node.name not in saver]
        called = _reachable(roots, library)
        called |= _reachable_functions(
            graph.object_graph_def.concrete_functions.keys(), library)
        saver_only = _reachable(
            [n for n in graph.graph_def.node if n.name in saver], library) - called
        types |= {node.op for node in roots if node.op not in library}
        for name, function in library.items():
            if name not in saver_only:  # a direct call's op is a function name
                types |= {n.op for n in function.node_def if n.op not in library}
    return types


def foreign_ops(path):
    """The op types of `path`'s graph that keras_seq's exports never hold."""
    return op_types(path) - ALLOWED_OPS


def _called(node):
    """Function names a node calls (`f`, `body`, `then_branch`, ...), and its
    op type, which names the function of a direct call."""
    names = [node.op]
    for value in node.attr.values():
        if value.HasField("func"):
            names.append(value.func.name)
        names += [f.name for f in value.list.func]
    return names


def _reachable(nodes, library):
    return _reachable_functions([n for node in nodes for n in _called(node)], library)


def _reachable_functions(names, library):
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen or name not in library:
            continue
        seen.add(name)
        for node in library[name].node_def:
            todo += _called(node)
    return seen
