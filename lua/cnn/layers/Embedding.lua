--- The Embedding layer.
-- @module cnn.layers.Embedding

local argcheck = require "cnn.argcheck"
local core = require "cnn.core"
local errors = require "cnn.errors"
local ops = require "cnn.ops"
local base = require "cnn.layers.base"
local arguments = require "cnn.layers.arguments"

local OPTIONS = {init = true}

local Embedding = base.class("Embedding")

-- Flux's default, randn32: standard normal values.
local function randn(...) return core.randn(...) end

-- cnn.embedding under the layer's name: its one core call's messages
-- (an index out of range) start with the layer rather than the op.
local function lookup(self, indices)
  return errors.call_renamed(self:describe(), "embedding", ops.embedding, self.weight, indices)
end

--- Embedding(in, out [, opts]): a table of `in` vectors of `out`
-- numbers, as Flux's `Embedding(in => out)`. Its input is either Int32
-- indices (1-based, of any sizes: a vector of N gives out×N, a matrix
-- L×N gives out×L×N), a Lua integer (a vector of out), or a one-hot
-- Float32 matrix in×N (`cnn.onehotbatch`), which gives `weight * x`. An
-- index outside 1..in is refused, naming it and where it is. The
-- gradient of the weight adds the gradient of each output column into
-- the column of its index. `in, out` may also be given as one pair
-- `{in, out}`. Option `init` (the weight initialiser, default
-- `cnn.randn`, as Flux's randn32). Field: `weight` (out×in, as Flux).
-- @function Embedding
-- @param nin the number of entries (or the pair {in, out})
-- @param nout the size of each entry's vector
-- @tparam[opt] table opts init (cnn.randn)
-- @return the layer
-- @usage local emb = cnn.Embedding(10, 4)
-- emb(cnn.tensor{3, 1, 3}:int()) -- 4×3
local function build(nin, nout, opts, ...)
  if type(nin) == "table" then -- the pair form Embedding({in, out}, opts)
    argcheck.arity("Embedding", 2, "{in, out}, opts", nin, nout, opts, ...)
    if not (argcheck.is_list(nin) and #nin == 2) then
      argcheck.fail("Embedding", "the sizes", "in, out or a pair {in, out}", nin)
    end
    nin, nout, opts = nin[1], nin[2], nout
  else
    argcheck.arity("Embedding", 3, "in, out, opts", nin, nout, opts, ...)
  end
  opts = argcheck.options("Embedding", opts, OPTIONS)
  nin = arguments.size("Embedding", "in", nin)
  nout = arguments.size("Embedding", "out", nout)
  return setmetatable({
    weight = base.initialised("Embedding", opts.init or randn, nout, nin),
    nin = nin, nout = nout,
  }, Embedding)
end

function Embedding:check(x)
  if math.type(x) == "integer" then
    if x < 1 or x > self.nin then return ("index %d is out of 1..%d"):format(x, self.nin) end
    return nil
  end
  local msg = base.check_tensor(x)
  if msg then return msg .. " (Int32 indices, or a one-hot Float32 matrix), or an integer" end
  if x:dtype() == "Float32" and (x:ndims() ~= 2 or x:size(1) ~= self.nin) then
    return ("a Float32 input is a one-hot matrix of %d rows (%d×N), got %s; indices are Int32 (x:int())")
      :format(self.nin, self.nin, base.shape(x))
  end
  return nil
end

function Embedding:forward(x)
  if math.type(x) == "integer" then
    local y = lookup(self, core.tensor({x}):int())
    return y:reshape(self.nout)
  end
  if x:dtype() == "Float32" then return ops.matmul(self.weight, x) end
  return (lookup(self, x))
end

function Embedding:parameters()
  return {self.weight}
end

function Embedding:describe()
  return ("Embedding(%d => %d)"):format(self.nin, self.nout)
end

return base.constructor(build, Embedding)
