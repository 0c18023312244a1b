--- The LayerNorm layer.
-- @module cnn.layers.LayerNorm

local argcheck = require "cnn.argcheck"
local core = require "cnn.core"
local ops = require "cnn.ops"
local base = require "cnn.layers.base"
local arguments = require "cnn.layers.arguments"
local tensorcheck = require "cnn.tensorcheck"
local errors = require "cnn.errors"

local OPTIONS = {affine = true, eps = true}
-- the dimensions a tensor has at most
local MAX_DIMS = 8

local LayerNorm = base.class("LayerNorm")

-- size: an integer d (one dimension) or a list of 1 to MAX_DIMS of them.
local function size_argument(size)
  if math.type(size) == "integer" and size >= 1 then return {size} end
  if argcheck.is_list(size) and #size >= 1 and #size <= MAX_DIMS then
    local ok = true
    for i = 1, #size do ok = ok and math.type(size[i]) == "integer" and size[i] >= 1 end
    if ok then return table.move(size, 1, #size, 1, {}) end
  end
  argcheck.fail("LayerNorm", "size", ("a positive integer or a table of 1 to %d positive integers"):format(MAX_DIMS),
    size)
end

--- LayerNorm(size [, act] [, opts]): layer normalisation, as Flux's
-- LayerNorm: the first dimensions of the input, of sizes `size` (an
-- integer d: the first dimension, of size d; a table {w, h, c}: the
-- first three), normalised together by their own mean and variance for
-- each index of the others, then y = act(gamma .* x̂ .+ beta), gamma and
-- beta of sizes `size` (elementwise, as Flux's Scale). LayerNorm(d) on
-- a d×N input normalises each column; LayerNorm({w, h, c}) on W×H×C×N
-- each image.
--
-- The same in training and test mode (no running statistics). Options:
-- `affine` (true: gamma and beta; false: none), `eps` (1e-5). Fields:
-- `gamma` (ones) and `beta` (zeros), trainable, in this order.
-- @function LayerNorm
-- @param size d, or a table of the normalised sizes {w, h, c}
-- @param[opt] act the activation (identity if nil)
-- @tparam[opt] table opts affine (true), eps (1e-5)
-- @return the layer
-- @usage cnn.Chain(cnn.Dense(784, 128), cnn.LayerNorm(128, cnn.relu), cnn.Dense(128, 10))
-- cnn.LayerNorm({28, 28, 16}) -- each 28×28×16 image of a batch on its own
local function build(size, act, opts, ...)
  argcheck.arity("LayerNorm", 3, "size, act, opts", size, act, opts, ...)
  act, opts = arguments.act_and_options("LayerNorm", "LayerNorm(size [, act] [, opts])", act, opts)
  opts = argcheck.options("LayerNorm", opts, OPTIONS)
  size = size_argument(size)
  act = base.activation("LayerNorm", act)
  local affine = argcheck.optional_boolean("LayerNorm", "affine", opts.affine, true)
  local eps = argcheck.optional_number("LayerNorm", "eps", opts.eps, 1e-5, "(0, inf)")
  local layer = {size = size, act = act, eps = eps}
  if affine then
    layer.gamma = errors.call_prefixed("LayerNorm", core.ones, size)
    layer.beta = errors.call_prefixed("LayerNorm", core.zeros, size)
  end
  return setmetatable(layer, LayerNorm)
end

function LayerNorm:check(x)
  local msg = base.check_tensor(x, "Float32")
  if msg then return msg end
  local size, ok = self.size, x:ndims() >= #self.size
  for d = 1, ok and #size or 0 do ok = ok and x:size(d) == size[d] end
  if not ok then
    return ("input is %s, expected its first %s to be %s"):format(base.shape(x),
      #size == 1 and "size" or #size .. " sizes", tensorcheck.sizes_text(size))
  end
  return nil
end

function LayerNorm:forward(x)
  local y = ops.layernorm(x, #self.size, self.gamma, self.beta, self.eps)
  if self.act then y = self.act(y) end
  return y
end

function LayerNorm:parameters()
  if self.gamma then return {self.gamma, self.beta} end
  return {}
end

function LayerNorm:describe()
  return ("LayerNorm(%s%s%s)"):format(table.concat(self.size, ", "), base.act_string(self.act),
    self.gamma and "" or ", affine=false")
end

return base.constructor(build, LayerNorm)
