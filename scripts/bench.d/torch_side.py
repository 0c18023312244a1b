#!/usr/bin/python3
"""One of scripts/bench.d/torch_models.py's models in PyTorch, timed the way
scripts/bench times cnnlua (scripts/bench.d/cnnlua_side.lua).

Same architecture as the cnnlua side, Glorot-uniform weights, zero biases,
ADAM(1e-3), batch 128, shuffled, last short batch kept, Flux's losses; same
MNIST files. Prints one JSON line of measurements.

--precision bf16 runs the model's forward (training and evaluation) under
torch.autocast("cpu", dtype=torch.bfloat16) and the loss on its output
made FP32; parameters and the optimiser stay FP32.
"""
import contextlib
import argparse
import json
import os
import resource
import struct
import time

import torch

from torch_models import MODELS


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    ndims = data[3]
    dims = struct.unpack(">" + "I" * ndims, data[4 : 4 + 4 * ndims])
    body = data[4 + 4 * ndims :]
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(dims)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=0, help="train only this many batches")
    ap.add_argument("--model", choices=sorted(MODELS), default="notebook")
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    args = ap.parse_args()

    def compute():
        if args.precision == "bf16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    x = read_idx(os.path.join(args.data, "train-images-idx3-ubyte")).float().div_(255).unsqueeze(1)
    labels = read_idx(os.path.join(args.data, "train-labels-idx1-ubyte")).long()
    xt = read_idx(os.path.join(args.data, "t10k-images-idx3-ubyte")).float().div_(255).unsqueeze(1)

    model, loss_fn, target = MODELS[args.model]()
    y = torch.nn.functional.one_hot(labels, 10).float() if target == "labels" else x
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
        with compute():
            yhat = model(xb)
        loss = loss_fn(yhat.float(), yb)
        loss.backward()
        opt.step()
        images += len(idx)
    train_seconds = time.perf_counter() - start

    model.eval()
    with torch.no_grad(), compute():
        start = time.perf_counter()
        model(xt)
        eval_one_batch = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(0, xt.shape[0], 1000):
            model(xt[i : i + 1000])
        eval_batches = time.perf_counter() - start

    print(json.dumps({
        "side": "pytorch",
        "precision": args.precision,
        "images": images,
        "train_seconds": train_seconds,
        "images_per_second": images / train_seconds,
        "eval_one_batch_seconds": eval_one_batch,
        "eval_batches_of_1000_seconds": eval_batches,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
