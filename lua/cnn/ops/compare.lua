--- The comparisons (masks of 0 and 1, without a gradient), argmax and
-- argmin, and the elementwise max and min (with one).
-- @module cnn.ops.compare

local core = require "cnn.core"
local argcheck = require "cnn.argcheck"
local autograd = require "cnn.autograd"
local elementwise = require "cnn.ops.elementwise"

local op = autograd.op

local ops = {}

-- Non-differentiable ops ---------------------------------------------

local function nondifferentiable(name, f)
  argcheck.string("nondifferentiable", "name", name)
  argcheck.callable("nondifferentiable", "f", f)
  return op{name = name, differentiable = false,
            forward = function(_, ...) return f(...) end}
end
ops.nondifferentiable = nondifferentiable

-- Comparisons: Float32 masks of 0 and 1, not differentiable.
for _, name in ipairs{"eq", "ne", "lt", "le", "gt", "ge", "argmax", "argmin"} do
  ops[name] = nondifferentiable(name, function(...) return core[name](...) end)
end

-- Julia's elementwise max.(a, b) and min.(a, b), under Julia's names,
-- as in core: cnn.maximum and cnn.minimum are the reductions.
--- The larger of a and b, element by element, with broadcasting (Julia's
-- max.(a, b)); its gradient goes to the larger, half to each where they
-- are equal. The largest element of one tensor is cnn.maximum.
-- @function max
-- @param a a tensor or a number
-- @param b a tensor or a number
-- @treturn Tensor
-- @usage cnn.max(cnn.tensor{1, 5, 3}, cnn.tensor{4, 2, 3}) -- 4, 5, 3
-- cnn.max(x, 0) -- relu
ops.max = elementwise("max", "max", "gt")
--- The smaller of a and b, element by element, with broadcasting (Julia's
-- min.(a, b)); its gradient goes to the smaller, half to each where
-- they are equal. The smallest element of one tensor is cnn.minimum.
-- @function min
-- @param a a tensor or a number
-- @param b a tensor or a number
-- @treturn Tensor
-- @usage cnn.min(x, 1)
ops.min = elementwise("min", "min", "lt")

return ops
