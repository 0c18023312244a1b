#!/usr/bin/python3
"""The notebook network in PyTorch, timed the way scripts/bench times cnnlua.

Same architecture, Glorot-uniform weights, zero biases, ADAM(1e-3), batch
128, shuffled, last short batch kept, softmax + Flux's crossentropy; same
MNIST files. Prints one JSON line of measurements.
"""
import argparse
import json
import os
import resource
import struct
import time

import torch
import torch.nn as nn


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    ndims = data[3]
    dims = struct.unpack(">" + "I" * ndims, data[4 : 4 + 4 * ndims])
    body = data[4 + 4 * ndims :]
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(dims)


def notebook_model():
    m = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(288, 10), nn.Softmax(dim=1),
    )
    for layer in m:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    return m


def crossentropy(yhat, y):
    eps = torch.finfo(torch.float32).eps
    return -(y * torch.log(yhat + eps)).sum(dim=1).mean()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=0, help="train only this many batches")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    x = read_idx(os.path.join(args.data, "train-images-idx3-ubyte")).float().div_(255).unsqueeze(1)
    labels = read_idx(os.path.join(args.data, "train-labels-idx1-ubyte")).long()
    y = torch.nn.functional.one_hot(labels, 10).float()
    xt = read_idx(os.path.join(args.data, "t10k-images-idx3-ubyte")).float().div_(255).unsqueeze(1)

    model = notebook_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-8)
    n = x.shape[0]
    batches = (n + 127) // 128
    if args.steps:
        batches = min(batches, args.steps)
    perm = torch.randperm(n)
    start = time.perf_counter()
    images = 0
    for b in range(batches):
        idx = perm[b * 128 : (b + 1) * 128]
        xb, yb = x[idx], y[idx]
        opt.zero_grad()
        loss = crossentropy(model(xb), yb)
        loss.backward()
        opt.step()
        images += len(idx)
    train_seconds = time.perf_counter() - start

    with torch.no_grad():
        start = time.perf_counter()
        model(xt)
        eval_one_batch = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(0, xt.shape[0], 1000):
            model(xt[i : i + 1000])
        eval_batches = time.perf_counter() - start

    print(json.dumps({
        "side": "pytorch",
        "images": images,
        "train_seconds": train_seconds,
        "images_per_second": images / train_seconds,
        "eval_one_batch_seconds": eval_one_batch,
        "eval_batches_of_1000_seconds": eval_batches,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
