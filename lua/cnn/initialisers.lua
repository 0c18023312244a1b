--- Weight initialisers, as Flux's: each takes sizes (integers, or one
-- table) and returns a new Float32 tensor. They draw from `cnn.core.rand`
-- and `randn`, so they are reproducible after `cnn.seed(n)`.
--
-- Fans follow Flux's `nfan`: a vector of n has fan_in 1, fan_out n; a
-- matrix out×in has fan_in = in, fan_out = out; a kernel kW×kH×Cin×Cout
-- has fan_in = kW·kH·Cin, fan_out = kW·kH·Cout.
-- @module cnn.initialisers

local core = require "cnn.core"
local argcheck = require "cnn.argcheck"

-- Sizes and an optional trailing option table from the arguments.
local function sizes_and_options(fname, ...)
  local args = table.pack(...)
  local opts
  if args.n >= 2 and type(args[args.n]) == "table" then
    opts = args[args.n]
    args.n = args.n - 1
  end
  opts = argcheck.options(fname, opts, {gain = true})
  if opts.gain ~= nil then argcheck.number(fname, "gain", opts.gain) end
  local sizes = args[1]
  if type(sizes) == "table" then
    if args.n > 1 then argcheck.fail(fname, "argument 2", "an option table such as {gain = 2}", args[2]) end
    if not argcheck.is_list(sizes) then argcheck.fail(fname, "sizes", "a list of integers", sizes) end
  else
    sizes = {table.unpack(args, 1, args.n)}
  end
  for d = 1, #sizes do argcheck.integer(fname, ("size %d"):format(d), sizes[d], 0) end
  return sizes, opts
end

-- f(...) from cnn.core, whose errors ("rand: tensor: tensor too large")
-- are given the initialiser's name.
local function made(fname, f, ...)
  local ok, t = pcall(f, ...)
  if ok then return t end
  argcheck.raise(fname .. ": " .. tostring(t):gsub("^[%w_]+: ", "", 1))
end

local function nfan(sizes)
  local n = #sizes
  if n == 0 then return 1, 1 end
  if n == 1 then return 1, sizes[1] end
  if n == 2 then return sizes[2], sizes[1] end
  local k = 1
  for d = 1, n - 2 do k = k * sizes[d] end
  return k * sizes[n - 1], k * sizes[n]
end

-- U(-bound, bound), computed in place on one tensor.
local function uniform(fname, sizes, bound)
  local x = made(fname, core.rand, sizes)
  core.sub(x, 0.5, x)
  return core.mul(x, 2 * bound, x)
end

-- N(0, std^2), in place.
local function normal(fname, sizes, std)
  local x = made(fname, core.randn, sizes)
  return core.mul(x, std, x)
end

local init = {}

--- U(-s, s) with s = √(6 / (fan_in + fan_out)): Flux's default for Conv
-- and Dense weights. Option `gain` (default 1) multiplies s.
-- @function glorot_uniform
-- @param ... the sizes (integers, or one table), then optionally a table {gain = ...}
-- @treturn Tensor a new Float32 tensor
-- @usage cnn.Dense(784, 10, cnn.relu, {init = cnn.glorot_uniform})
-- cnn.glorot_uniform(3, 3, 1, 16, {gain = 2})
function init.glorot_uniform(...)
  local sizes, opts = sizes_and_options("glorot_uniform", ...)
  local fan_in, fan_out = nfan(sizes)
  return uniform("glorot_uniform", sizes, (opts.gain or 1) * math.sqrt(6 / (fan_in + fan_out)))
end

--- N(0, σ²) with σ = √(2 / (fan_in + fan_out)); option `gain`.
-- @function glorot_normal
-- @param ... the sizes (integers, or one table), then optionally a table {gain = ...}
-- @treturn Tensor a new Float32 tensor
-- @usage cnn.Dense(784, 10, cnn.relu, {init = cnn.glorot_normal})
-- cnn.glorot_normal(3, 3, 1, 16, {gain = 2})
function init.glorot_normal(...)
  local sizes, opts = sizes_and_options("glorot_normal", ...)
  local fan_in, fan_out = nfan(sizes)
  return normal("glorot_normal", sizes, (opts.gain or 1) * math.sqrt(2 / (fan_in + fan_out)))
end

--- U(-b, b) with b = √3 · gain / √fan_in; option `gain` (default √2,
-- for relu).
-- @function kaiming_uniform
-- @param ... the sizes (integers, or one table), then optionally a table {gain = ...}
-- @treturn Tensor a new Float32 tensor
-- @usage cnn.Dense(784, 10, cnn.relu, {init = cnn.kaiming_uniform})
-- cnn.kaiming_uniform(3, 3, 1, 16, {gain = 2})
function init.kaiming_uniform(...)
  local sizes, opts = sizes_and_options("kaiming_uniform", ...)
  local fan_in = nfan(sizes)
  return uniform("kaiming_uniform", sizes, math.sqrt(3) * (opts.gain or math.sqrt(2)) / math.sqrt(fan_in))
end

--- N(0, σ²) with σ = gain / √fan_in; option `gain` (default √2).
-- @function kaiming_normal
-- @param ... the sizes (integers, or one table), then optionally a table {gain = ...}
-- @treturn Tensor a new Float32 tensor
-- @usage cnn.Dense(784, 10, cnn.relu, {init = cnn.kaiming_normal})
-- cnn.kaiming_normal(3, 3, 1, 16, {gain = 2})
function init.kaiming_normal(...)
  local sizes, opts = sizes_and_options("kaiming_normal", ...)
  local fan_in = nfan(sizes)
  return normal("kaiming_normal", sizes, (opts.gain or math.sqrt(2)) / math.sqrt(fan_in))
end

--- Zeros (Flux's default bias).
-- @function zeros_init
-- @param ... the sizes (integers, or one table)
-- @treturn Tensor a new Float32 tensor
-- @usage cnn.Dense(784, 10, cnn.relu, {init = cnn.zeros_init})
function init.zeros_init(...)
  return made("zeros_init", core.zeros, (sizes_and_options("zeros_init", ...)))
end

--- Ones.
-- @function ones_init
-- @param ... the sizes (integers, or one table)
-- @treturn Tensor a new Float32 tensor
-- @usage cnn.Dense(784, 10, cnn.relu, {init = cnn.ones_init})
function init.ones_init(...)
  return made("ones_init", core.ones, (sizes_and_options("ones_init", ...)))
end

return init
