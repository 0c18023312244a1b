--- Differentiable ops: tensor algebra, reductions, shapes and layer kernels.
--
-- Each op is made with `cnn.op`: its forward calls `cnn.core`, its backward
-- sits right under it. Outside a gradient call an op is a plain call to
-- `cnn.core`. The arithmetic operators of tensors (`+ - * / ^` and unary
-- minus, elementwise with broadcasting) and the methods `t:sum()`,
-- `t:reshape(...)`, `t:exp()`, ... are these ops too, so a loss written
-- with them is differentiated.
--
-- The ops live in cnn.ops.algebra, shapes, rearrange, reductions, kernels, sampling and compare
-- (the ones without a gradient); this module gathers them into one table
-- and makes the operators and methods of tensors these ops.
--
-- To add an op: write it with `autograd.op` in the part it belongs to (an
-- op on a oneDNN kernel goes in cnn.ops.kernels: the forward calls the
-- cnn.core function, the backward the core's backward), with a doc comment
-- that names it (`@function`, `@param`, `@usage`). Every op of kernels, sampling and
-- reductions is public; in the other parts init.lua lists the public ones.
-- spec/ops_gradcheck_spec.lua checks its gradient with helpers.gradcheck,
-- spec/docs_spec.lua that it is documented, and spec/ops_coverage_spec.lua
-- fails until every public function, method and metamethod is in one of
-- its lists: differentiable (checked by finite differences), refused
-- inside a gradient call, untracked (constant near its input), or not an
-- op.
-- @module cnn.ops

--- The differentiable ops behind `cnn`, operators and methods:
-- add, sub, mul, div, pow, neg, matmul, sum, mean, conv2d, pool2d, ...
-- @table ops
-- @usage local ops = cnn.ops
-- ops.add(a, b)
local core = require "cnn.core"
local autograd = require "cnn.autograd"

-- The parts, each a table of ops; cnn.ops is all of them in one table.
local PARTS = {"algebra", "shapes", "rearrange", "reductions", "kernels", "syncbatchnorm", "sampling", "compare"}

local ops = {}
for _, part in ipairs(PARTS) do
  for k, v in pairs(require("cnn.ops." .. part)) do ops[k] = v end
end

-- The table of Tensor methods (core.Tensor.methods, which the __index of
-- tensors consults at call time).
local function method_table(mt)
  local methods = rawget(mt, "methods")
  if type(methods) == "table" then return methods end
  local index = rawget(mt, "__index")
  if type(index) == "table" then return index end
  error("cnn.ops: cannot find the Tensor method table")
end

-- Operators and methods ----------------------------------------------

local mt = core.Tensor
-- The C versions, kept once even if this part is loaded again.
local raw = rawget(mt, "__cnn_raw_operators")
if not raw then
  raw = {}
  for _, k in ipairs{"__add", "__sub", "__mul", "__div", "__unm", "__pow"} do raw[k] = mt[k] end
  rawset(mt, "__cnn_raw_operators", raw)
end
ops.raw_operators = raw
mt.__add = ops.add
mt.__sub = ops.sub
mt.__mul = ops.mul
mt.__div = ops.div
mt.__pow = ops.pow
-- Lua passes the operand twice to __unm; neg's second argument is `out`.
mt.__unm = function(x) return ops.neg(x) end

-- Indexing inside a gradient call: `t[i]` and `t[{i, j}]` of a tracked
-- tensor are views made by select, recorded, so that the gradient reaches
-- t (an element is then a 0-dim tensor rather than a number, for the same
-- reason). The C indexing runs first: its error (an index out of range)
-- is raised at the line that indexes.
local c_index = rawget(mt, "__cnn_raw_index") or rawget(mt, "__index")
rawset(mt, "__cnn_raw_index", c_index)

local elements = require "cnn.ops.elements"
local recorded_element = elements.recorded_element

mt.__index = function(t, k)
  if type(k) == "string" then return c_index(t, k) end -- methods: the hot path
  local ok, plain = pcall(c_index, t, k)
  if not ok then
    -- called through pcall the C function has no name; as a metamethod it is 'index'
    error((tostring(plain):gsub("^[^\n]-:%d+: ", ""):gsub("to '%?'", "to 'index'")), 2)
  end
  local kind = math.type(k) == "integer" and "index" or type(k) == "table" and "element"
  if not (kind and autograd.istracked(t)) then return plain end
  if kind == "index" then return ops.select(t, t:ndims(), k) end
  if type(plain) == "number" then return recorded_element(t, k) end
  return plain
end

-- Tensor methods that are ops, so that t:sum() inside a loss is
-- recorded like cnn.sum(t).
local methods = method_table(mt)
for _, name in ipairs{"add", "sub", "mul", "div", "pow", "neg", "matmul", "transpose",
                      "reshape", "flatten", "sum", "mean", "exp", "log", "sqrt", "abs",
                      "clone", "contiguous", "float", "select", "slice", "narrow", "sum_to",
                      "cat", "flip", "pad", "repeat_"} do
  methods[name] = ops[name]
end
-- t:max() and t:min() are the reductions (t:maximum() and t:minimum() as
-- well), while core's max and min, as cnn.max and cnn.min, are
-- elementwise.
local extremum = require "cnn.ops.extremum"
methods.max, methods.min = extremum("max", "maximum"), extremum("min", "minimum")
methods.maximum, methods.minimum = ops.maximum, ops.minimum
-- Reading numbers out of tracked tensors and writing into them: recorded
-- (get) or refused (item, totable, set, fill, copy, free, t[i] = v).
elements.install(mt, methods)
ops.method_table = methods
return ops
