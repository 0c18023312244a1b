--- The ops that pick or spread pixels and columns: resampling
-- (upsampling), adaptive pooling and embedding lookups.
-- @module cnn.ops.sampling

local core = require "cnn.core"
local autograd = require "cnn.autograd"

local op = autograd.op

local ops = {}

--- Resampling of x W×H×C×N to W'×H'×C×N on oneDNN: "nearest" repeats
-- each pixel (W' and H' whole multiples of W and H, as Flux's
-- upsample_nearest), "bilinear" interpolates as Flux's upsample_bilinear
-- and PyTorch's `interpolate(mode="bilinear", align_corners=False)`:
-- output pixel i samples the input at (i + 0.5)·W/W' − 0.5, clamped to
-- the image.
-- @function resample
-- @param mode "nearest" or "bilinear"
-- @tparam Tensor x W×H×C×N
-- @tparam table size {W', H'}
-- @treturn Tensor W'×H'×C×N
-- @usage cnn.resample("bilinear", cnn.rand(4, 4, 3, 1), {8, 8})
ops.resample = op{
  name = "resample",
  forward = function(ctx, mode, x, size)
    local y = core.resample(mode, x, size)
    if ctx.recording then ctx.mode, ctx.sizes = mode, x:size() end
    return y
  end,
  backward = function(ctx, gy)
    return nil, core.resample_backward(ctx.mode, core.contiguous(gy), ctx.sizes)
  end,
}

--- Adaptive max or mean pooling of x W×H×C×N to W'×H'×C×N, with
-- PyTorch's windows: output i along a dimension of input size I and
-- output size O pools inputs floor((i−1)·I/O) + 1 to ceil(i·I/O)
-- (1-based). A maximum is the first largest element of its window, NaN
-- if the window holds one. When O divides I this is `pool2d` with
-- window and stride I/O, which runs instead (on oneDNN).
-- @function adaptive_pool2d
-- @param kind "max" or "mean"
-- @tparam Tensor x W×H×C×N
-- @tparam table size {W', H'}
-- @treturn Tensor W'×H'×C×N
-- @usage cnn.adaptive_pool2d("mean", cnn.rand(7, 7, 8, 2), {3, 3})
ops.adaptive_pool2d = op{
  name = "adaptive_pool2d",
  forward = function(ctx, kind, x, size)
    local y = core.adaptive_pool2d(kind, x, size)
    if ctx.recording then
      ctx.kind = kind
      ctx:save(x)
    end
    return y
  end,
  backward = function(ctx, gy)
    return nil, core.adaptive_pool2d_backward(ctx.kind, core.contiguous(gy), ctx.saved[1])
  end,
}

--- The columns of w (out×in) at the 1-based Int32 indices, as Flux's
-- Embedding: out×(the indices' sizes). The gradient of w adds each
-- output column's gradient into the column of its index. An index
-- outside 1..in is refused, naming it and where it is.
-- @function embedding
-- @tparam Tensor w out×in
-- @tparam Tensor indices Int32, any sizes
-- @treturn Tensor out×(the indices' sizes)
-- @usage cnn.embedding(cnn.rand(4, 10), cnn.tensor{3, 1, 3}:int())
ops.embedding = op{
  name = "embedding",
  forward = function(ctx, w, indices)
    local y = core.embedding(w, indices)
    if ctx.recording then
      ctx.sizes = w:size()
      ctx:save(indices)
    end
    return y
  end,
  backward = function(ctx, gy)
    return core.embedding_backward(core.contiguous(gy), ctx.saved[1], ctx.sizes)
  end,
}

return ops
