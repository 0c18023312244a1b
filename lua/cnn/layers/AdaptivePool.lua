--- AdaptiveMaxPool(out) and AdaptiveMeanPool(out): pooling to a given
-- output size, W×H×C×N → W'×H'×C×N, as Flux's `AdaptiveMeanPool((5, 5))`.
--
-- The windows are PyTorch's (and Flux's when they divide evenly): output
-- i (1-based) along a dimension of input size I and output size O pools
-- inputs floor((i−1)·I/O) + 1 to ceil(i·I/O), so that every input is
-- pooled and windows differ by at most one in size. When O divides I,
-- they are windows of I/O with stride I/O, and the layer runs oneDNN's
-- pooling (`cnn.pool2d`), as MaxPool and MeanPool do; otherwise the
-- core's own kernel (`cnn.adaptive_pool2d`). An output larger than the
-- input repeats inputs.
-- @module cnn.layers.AdaptivePool

local argcheck = require "cnn.argcheck"
local ops = require "cnn.ops"
local base = require "cnn.layers.base"
local arguments = require "cnn.layers.arguments"

local function adaptive_class(name, kind)
  local Pool = base.class(name)

  local function build(out, ...)
    argcheck.arity(name, 1, "out", out, ...)
    if type(out) ~= "table" then
      argcheck.fail(name, "out", "a table of 2 positive integers {W', H'}", out)
    end
    return setmetatable({out = arguments.tuple(name, "out", out, 2, 1)}, Pool)
  end

  function Pool:check(x)
    local msg = base.check_ndims(x, 4, "W×H×C×N")
    if msg then return msg end
    if x:size(1) == 0 or x:size(2) == 0 then
      return ("input %s has no pixels to pool"):format(base.shape(x))
    end
    return nil
  end

  function Pool:forward(x)
    local w, h, out = x:size(1), x:size(2), self.out
    if w % out[1] == 0 and h % out[2] == 0 then
      local window = {w // out[1], h // out[2]}
      return (ops.pool2d(kind, x, {window = window, stride = window, pad = 0}))
    end
    return (ops.adaptive_pool2d(kind, x, out))
  end

  function Pool:describe()
    return ("%s((%d, %d))"):format(name, self.out[1], self.out[2])
  end

  return base.constructor(build, Pool)
end

return {
  --- Max pooling to the output size out (see the module description).
  -- @function AdaptiveMaxPool
  -- @tparam table out {W', H'}
  -- @return the layer
  -- @usage cnn.AdaptiveMaxPool({5, 5})
  AdaptiveMaxPool = adaptive_class("AdaptiveMaxPool", "max"),
  --- Mean pooling to the output size out (see the module description).
  -- @function AdaptiveMeanPool
  -- @tparam table out {W', H'}
  -- @return the layer
  -- @usage cnn.Chain(cnn.Conv({3, 3}, 3, 8), cnn.AdaptiveMeanPool({1, 1}), cnn.flatten)
  AdaptiveMeanPool = adaptive_class("AdaptiveMeanPool", "mean"),
}
