"""Test helper: writes a Fashion-MNIST subset as the tensor files a user brings (docs/datasets.md), with NumPy only.
usage: write_tensor_dataset.py DATA_DIR OUT_DIR
DATA_DIR holds fashion-mnist/{train,t10k}-*-idx*-ubyte.gz. Writes, from all of their samples:
  OUT_DIR/train.npz           images uint8 [N, 28, 28], labels int64 [N], classes (10 names)    (numpy.savez_compressed)
  OUT_DIR/test.safetensors    images float32 [N, 1, 28, 28] in 0..1, labels int32 [N]             (safetensors, by hand)
  OUT_DIR/train-nhwc.npz      images uint8 [N, 28, 28, 3] (grey copied to three channels), labels uint8 (numpy.savez)"""
import gzip
import json
import os
import struct
import sys

import numpy

data_dir, out = sys.argv[1:]
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def idx(name, offset):
    with gzip.open(os.path.join(data_dir, "fashion-mnist", name)) as f:
        return numpy.frombuffer(f.read(), dtype=numpy.uint8, offset=offset)


def save_safetensors(path, arrays):
    """The safetensors layout: an 8-byte little-endian header length, a JSON header, the raw arrays."""
    dtypes = {numpy.dtype("uint8"): "U8", numpy.dtype("int32"): "I32", numpy.dtype("int64"): "I64", numpy.dtype("float32"): "F32"}
    header, offset = {}, 0
    for name, array in arrays.items():
        header[name] = {"dtype": dtypes[array.dtype], "shape": list(array.shape), "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    header["__metadata__"] = {"classes": json.dumps(CLASSES)}
    encoded = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)) + encoded)
        for array in arrays.values():
            f.write(numpy.ascontiguousarray(array).tobytes())


train_x = idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
train_y = idx("train-labels-idx1-ubyte.gz", 8)
test_x = idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
test_y = idx("t10k-labels-idx1-ubyte.gz", 8)

os.makedirs(out, exist_ok=True)
numpy.savez_compressed(os.path.join(out, "train.npz"), images=train_x, labels=train_y.astype(numpy.int64), classes=numpy.array(CLASSES))
save_safetensors(os.path.join(out, "test.safetensors"),
                 {"images": (test_x.astype(numpy.float32) / numpy.float32(255)).reshape(-1, 1, 28, 28), "labels": test_y.astype(numpy.int32)})
numpy.savez(os.path.join(out, "train-nhwc.npz"), images=numpy.repeat(train_x[..., None], 3, axis=3), labels=train_y)
