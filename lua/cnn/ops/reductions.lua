--- Sums, means, maxima and minima, of all elements or along one
-- dimension.
-- @module cnn.ops.reductions

local core = require "cnn.core"
local autograd = require "cnn.autograd"
local extremum = require "cnn.ops.extremum"

local op = autograd.op

local ops = {}

-- Reductions ---------------------------------------------------------

-- gy spread back over `sizes` (the reverse of a reduction).
local function spread(gy, sizes)
  if gy:ndims() == 0 then return core.fill(gy:item(), sizes) end
  local out = core.zeros(sizes)
  return core.add(out, gy, out)
end

--- Sum of all elements (a number, or a 0-dim tensor when recorded), or
-- along dimension `dim` (that dimension becomes size 1).
ops.sum = op{
  name = "sum",
  forward = function(ctx, x, dim)
    if ctx.recording then ctx.sizes = x:size() end
    return core.sum(x, dim)
  end,
  backward = function(ctx, gy) return spread(gy, ctx.sizes) end,
}

local function count(sizes, dim)
  if dim then return sizes[dim] or 1 end
  local n = 1
  for d = 1, #sizes do n = n * sizes[d] end
  return n
end

--- Mean of all elements, or along dimension `dim`.
ops.mean = op{
  name = "mean",
  forward = function(ctx, x, dim)
    if ctx.recording then ctx.sizes, ctx.dim = x:size(), dim end
    return core.mean(x, dim)
  end,
  backward = function(ctx, gy)
    return spread(core.div(gy, count(ctx.sizes, ctx.dim)), ctx.sizes)
  end,
}

--- maximum(x [, dim]): the largest element (NaN if there is one), or
-- the largest along dimension dim. Its gradient goes to the largest
-- elements, split evenly among equal ones (PyTorch splits so for the
-- whole tensor; along a dimension it picks one).
-- @function maximum
-- @tparam Tensor x
-- @param[opt] dim the dimension reduced
-- @return a number, or a tensor
-- @usage cnn.maximum(cnn.range(1, 4)) --> 4.0
ops.maximum = extremum("maximum")
--- minimum(x [, dim]): the smallest element, or the smallest along
-- dimension dim; its gradient as maximum's.
-- @function minimum
-- @tparam Tensor x
-- @param[opt] dim the dimension reduced
-- @return a number, or a tensor
-- @usage cnn.minimum(cnn.range(1, 4)) --> 1.0
ops.minimum = extremum("minimum")

return ops
