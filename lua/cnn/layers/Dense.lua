--- The Dense layer.
-- @module cnn.layers.Dense

local argcheck = require "cnn.argcheck"
local core = require "cnn.core"
local ops = require "cnn.ops"
local initialisers = require "cnn.initialisers"
local base = require "cnn.layers.base"
local arguments = require "cnn.layers.arguments"

local OPTIONS = {bias = true, init = true}

local Dense = base.class("Dense")

--- Dense(in, out [, act] [, opts]): fully connected layer, as Flux's
-- `Dense(288, 10)`: y = act(W x + b) on features×batch input (a vector of
-- `in` features gives a vector of `out`).
--
-- `in, out` may also be given as one pair `{in, out}`. Options: `bias`
-- (true: zeros, the default; false: none) and `init` (the weight
-- initialiser, default `cnn.glorot_uniform`). Fields: `weight` (out×in,
-- as Flux), `bias` (out, or nil), `act`.
-- @function Dense
-- @param nin the input features (or the pair {in, out})
-- @param nout the output features
-- @param[opt] act the activation (identity if nil)
-- @tparam[opt] table opts bias (true), init (cnn.glorot_uniform)
-- @return the layer
-- @usage local head = cnn.Dense(288, 10)
-- local hidden = cnn.Dense(784, 128, cnn.relu, {bias = false})
local function build(nin, nout, act, opts, ...)
  local usage = "Dense(in, out [, act] [, opts])"
  if type(nin) == "table" then -- the pair form Dense({in, out}, act, opts)
    argcheck.arity("Dense", 3, "{in, out}, act, opts", nin, nout, act, opts, ...)
    if not (argcheck.is_list(nin) and #nin == 2) then
      argcheck.fail("Dense", "the sizes", "in, out or a pair {in, out}", nin)
    end
    nin, nout, act, opts = nin[1], nin[2], nout, act
    usage = "Dense({in, out} [, act] [, opts])"
  else
    argcheck.arity("Dense", 4, "in, out, act, opts", nin, nout, act, opts, ...)
  end
  act, opts = arguments.act_and_options("Dense", usage, act, opts)
  opts = argcheck.options("Dense", opts, OPTIONS)
  nin = arguments.size("Dense", "in", nin)
  nout = arguments.size("Dense", "out", nout)
  act = base.activation("Dense", act)
  local bias = base.bias_option("Dense", opts.bias)
  return setmetatable({
    weight = base.initialised("Dense", opts.init or initialisers.glorot_uniform, nout, nin),
    bias = bias and base.zeros("Dense", core, nout) or nil,
    act = act,
    nin = nin, nout = nout,
  }, Dense)
end

function Dense:check(x)
  local msg = base.check_tensor(x, "Float32")
  if msg then return msg end
  local nd = x:ndims()
  if nd ~= 1 and nd ~= 2 then
    return ("input has %d dimensions (%s), expected 2 (features×batch)"):format(nd, base.shape(x))
  end
  if x:size(1) ~= self.nin then
    return ("input has %d features (%s), expected %d"):format(x:size(1), base.shape(x), self.nin)
  end
  return nil
end

-- A vector input gives a vector: cnn.dense takes care of it.
function Dense:forward(x)
  local y = ops.dense(x, self.weight, self.bias)
  if self.act then y = self.act(y) end
  return y
end

function Dense:parameters()
  return {self.weight, self.bias}
end

function Dense:describe()
  local s = ("Dense(%d => %d"):format(self.nin, self.nout) .. base.act_string(self.act)
  if not self.bias then s = s .. "; bias=false" end
  return s .. ")"
end

return base.constructor(build, Dense)
