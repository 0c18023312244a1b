--- Reverse-mode automatic differentiation on a tape.
--
-- A tape exists only while `gradient` or `withgradient` runs. Inside it,
-- the tensors being differentiated and every result computed from them are
-- *tracked*; an op whose inputs include a tracked tensor records one node
-- (its context and inputs) in execution order. The backward pass walks the
-- tape once in reverse, adding up the gradient of every tensor that was
-- used more than once, and then drops the tape. Outside a gradient call an
-- op costs one extra test before it calls `cnn.core`.
--
-- Every differentiable op, built-in or user-defined, is made with `op`.
-- @module cnn.autograd

local core = require "cnn.core"
local tensorcheck = require "cnn.tensorcheck"
local errors = require "cnn.errors"


local autograd = {}

-- The state of the gradient call that is running: its tape (an array of
-- nodes, nil when none runs) and the tensors it tracks (tensor -> true).
-- Only run_tape sets them, and it always puts them back (see call_f).
local tape = nil
local tracked = setmetatable({}, {__mode = "k"})

local is_tensor, shape = tensorcheck.is_tensor, tensorcheck.shape
autograd.is_tensor = is_tensor
autograd.shape = shape

local function same_size(a, b)
  local sa, sb = a:size(), b:size()
  if #sa ~= #sb then return false end
  for d = 1, #sa do
    if sa[d] ~= sb[d] then return false end
  end
  return true
end
autograd.same_size = same_size

--- Whether a gradient call is recording a tape right now (Flux's
-- istraining() in the default mode).
-- @function isrecording
-- @treturn boolean
-- @usage cnn.gradient(function(x) assert(cnn.isrecording()) return cnn.sum(x) end, cnn.ones(2))
function autograd.isrecording()
  return tape ~= nil
end

--- Whether `x` is a tensor recorded on the active tape.
-- @function istracked
-- @param x any value
-- @treturn boolean
-- @usage cnn.gradient(function(x) assert(cnn.istracked(x)) return cnn.sum(x) end, cnn.ones(2))
function autograd.istracked(x)
  return tape ~= nil and tracked[x] == true
end

-- Raises "<fname>: not differentiable (...)" when x is a tensor tracked
-- by the running gradient call: for the functions that read a tracked
-- tensor's numbers out of the tape (item, totable) or write into one in
-- place (fill, set, copy, free), whose results would silently carry no
-- gradient, or whose writes would change values a backward reads.
function autograd.refuse_tracked(fname, x, why)
  if tape ~= nil and tracked[x] == true then
    errors.raise(("%s: not differentiable (%s)"):format(fname,
      why or "a tracked tensor's numbers would carry no gradient; return the tensor itself"))
  end
end

-- Context of an op that is being recorded: the forward leaves on it what
-- the backward needs.
local Ctx = {}
Ctx.__index = Ctx
Ctx.recording = true

--- Keeps values for the backward pass in `ctx.saved[1]`, `ctx.saved[2]`, ...
function Ctx:save(...)
  self.saved = table.pack(...)
end

-- The context handed to a forward that is not recorded: it forgets
-- whatever is put on it, so nothing is kept alive for a backward that will
-- never run.
local NOCTX = setmetatable({}, {
  __index = {recording = false, needs = {}, save = function() end},
  __newindex = function() end,
})

-- A number produced by a recorded op becomes a 0-dim tensor, so that it
-- can be tracked.
local function as_tensor(y)
  local t = core.zeros({})
  t:set(y)
  return t
end

local function record(def, ...)
  local n = select("#", ...)
  local args = {...}
  local needs, any = {}, false
  for i = 1, n do
    local t = tracked[args[i]] == true
    needs[i] = t
    any = any or t
  end
  if not any then return def.forward(NOCTX, ...) end
  local ctx = setmetatable({needs = needs}, Ctx)
  local y = def.forward(ctx, ...)
  if not def.differentiable and not is_tensor(y) then return y end
  if type(y) == "number" then y = as_tensor(y) end
  if not is_tensor(y) then
    error(("%s: forward must return a tensor or a number, got %s"):format(def.name, type(y)), 3)
  end
  for i = 1, n do
    if rawequal(args[i], y) then return y end -- an identity: nothing to record
  end
  tape[#tape + 1] = {def = def, ctx = ctx, args = args, n = n, y = y}
  tracked[y] = true
  return y
end

--- Makes a differentiable function from a forward and a backward.
--
-- `forward(ctx, ...)` computes the result (a tensor, or a number, which
-- becomes a 0-dim tensor when recorded) from its arguments with
-- `cnn.core`. While recording it can keep what the backward needs with
-- `ctx:save(...)` (read back as `ctx.saved[i]`) or as fields of `ctx`;
-- `ctx.recording` tells whether it is recorded. Outside a gradient call
-- the context forgets everything put on it.
--
-- `backward(ctx, gy)` receives the gradient of the result and returns the
-- gradients of the arguments in order (nil for an argument that has none,
-- such as a number or an option table). `ctx.needs[i]` says whether
-- argument `i` needs one, so expensive ones can be skipped. A gradient may
-- have the broadcast size of the result: it is summed down to the size of
-- its argument.
--
-- With `differentiable = false` and no backward, the op works forward on
-- tracked tensors, and a gradient that reaches it raises
-- "gradient: <name> is not differentiable".
-- @tparam table def `{name = string, forward = function, backward = function}`
-- @treturn function the op
-- @usage
-- local square = cnn.op{
--   name = "square",
--   forward = function(ctx, x)
--     ctx:save(x)
--     return cnn.core.mul(x, x)
--   end,
--   backward = function(ctx, gy)
--     local x = ctx.saved[1]
--     return cnn.core.mul(gy, cnn.core.mul(x, 2))
--   end,
-- }
-- local gx = cnn.gradient(function(x) return cnn.sum(square(x)) end, x)
-- @function op
-- @tparam table def name, forward and backward
-- @treturn function the differentiable function
-- @usage local square = cnn.op{name = "square",
--   forward = function(ctx, x) ctx:save(x) return cnn.core.mul(x, x) end,
--   backward = function(ctx, gy) return cnn.core.mul(gy, cnn.core.mul(ctx.saved[1], 2)) end}
function autograd.op(def)
  if type(def) ~= "table" then error("op: expected a table {name=, forward=, backward=}", 2) end
  if type(def.name) ~= "string" then error("op: name must be a string", 2) end
  if type(def.forward) ~= "function" then error(("op %s: forward must be a function"):format(def.name), 2) end
  local differentiable = def.differentiable ~= false
  if differentiable and type(def.backward) ~= "function" then
    error(("op %s: backward must be a function (or differentiable = false)"):format(def.name), 2)
  end
  local node_def = {name = def.name, forward = def.forward, backward = def.backward,
                    differentiable = differentiable}
  local forward = def.forward
  -- An error in the op (a size mismatch found by cnn.core) is raised at
  -- the user's line that called it, not at the library line inside.
  local call, name = errors.call_named, def.name
  return function(...)
    if tape then return call(name, record, node_def, ...) end
    return call(name, forward, NOCTX, ...)
  end
end

-- Adds g (summed down to the size of x if it was broadcast) to the
-- gradient of x. Out of place, because backward rules may hand the same
-- tensor to several inputs.
local function accumulate(grads, node, i, g)
  local x = node.args[i]
  if not is_tensor(g) then
    if type(g) == "number" then g = core.fill(g, x:size())
    else error(("gradient: %s returned a %s as gradient of argument %d"):format(node.def.name, type(g), i), 0) end
  end
  if not same_size(g, x) then
    local ok, reduced = pcall(core.sum_to, g, x:size())
    if not ok or not same_size(reduced, x) then
      error(("gradient: %s returned a gradient of size %s for argument %d of size %s")
        :format(node.def.name, shape(g), i, shape(x)), 0)
    end
    g = reduced
  end
  local old = grads[x]
  grads[x] = old and core.add(old, g) or g
end

local function backward_node(grads, node, gy)
  if not node.def.differentiable then
    error(("gradient: %s is not differentiable"):format(node.def.name), 0)
  end
  local gs = table.pack(node.def.backward(node.ctx, gy))
  for i = 1, node.n do
    local g = gs[i]
    if node.ctx.needs[i] and g ~= nil and g ~= false then
      accumulate(grads, node, i, g)
    end
  end
end

-- Walks the tape in reverse from the result `y`; returns the gradients of
-- all tracked tensors that were reached. Gradients of intermediate results
-- are dropped as soon as they are used, unless they belong to a target.
local function backward(nodes, y, keep)
  local grads = {[y] = core.ones(y:size())}
  for k = #nodes, 1, -1 do
    local node = nodes[k]
    nodes[k] = nil
    local gy = grads[node.y]
    if gy then
      if not keep[node.y] then grads[node.y] = nil end
      backward_node(grads, node, gy)
    end
  end
  return grads
end

-- Targets of the differentiation: the parameters (an array-like table of
-- tensors) or the tensor arguments.
local function targets_of(fname, ...)
  local n = select("#", ...)
  local first = ...
  if n == 1 and not is_tensor(first) and (type(first) == "table" or type(first) == "userdata") then
    local list = {}
    for i = 1, #first do
      local p = first[i]
      if not is_tensor(p) then
        errors.raise(("%s: parameter %d is a %s, not a tensor"):format(fname, i, type(p)))
      end
      if p:isfreed() then errors.raise(("%s: parameter %d is a freed tensor"):format(fname, i)) end
      list[i] = p
    end
    return list, true
  end
  local args = table.pack(...)
  for i = 1, args.n do
    if is_tensor(args[i]) and args[i]:isfreed() then
      errors.raise(("%s: argument %d is a freed tensor"):format(fname, i + 1))
    end
  end
  return args, false
end

local function check_scalar(fname, result)
  if type(result) == "number" then return end
  if not is_tensor(result) then
    errors.raise(("%s: f must return a scalar, got a %s"):format(fname, type(result)))
  end
  if result:numel() ~= 1 then
    errors.raise(("%s: f must return a scalar, got a %s tensor"):format(fname, shape(result)))
  end
end

local function fresh_tracked()
  return setmetatable({}, {__mode = "k"})
end

-- Calls f(...) with the tape `nodes` and the tracked set `watched` in
-- force, and returns pcall's results packed. However f ends, the tape is
-- off again afterwards: an error, a yield, an abandoned coroutine.
--
-- On the main thread a yield cannot leave f, so pcall is enough. Inside a
-- coroutine, f runs in a coroutine of its own driven from here: a yield
-- from inside f (meant for whoever resumes the caller) comes back here
-- first, so the tape is put away while f is suspended and brought back
-- when it resumes. Other code, other gradient calls included, never sees
-- a suspended tape, and a coroutine abandoned in f leaves nothing behind.
local function call_f(fname, nodes, watched, f, ...)
  local _, ismain = coroutine.running()
  if ismain then
    tape, tracked = nodes, watched
    local r = table.pack(pcall(f, ...))
    tape, tracked = nil, fresh_tracked()
    return r
  end
  local co, r = coroutine.create(f), table.pack(...)
  while true do
    tape, tracked = nodes, watched
    r = table.pack(coroutine.resume(co, table.unpack(r, 1, r.n)))
    tape, tracked = nil, fresh_tracked()
    if not r[1] or coroutine.status(co) == "dead" then return r end
    if not coroutine.isyieldable() then
      return {false, ("%s: f yielded where its caller cannot yield"):format(fname), n = 2}
    end
    r = table.pack(coroutine.yield(table.unpack(r, 2, r.n)))
  end
end

-- Closed however run_tape ends: an error raised between two of its lines
-- (Ctrl-C can raise one at any instruction) must not leave this call's
-- tape behind, or every later gradient call would find it and refuse.
local function tape_ender(nodes)
  return core.closer(function()
    if tape == nodes then tape, tracked = nil, fresh_tracked() end
  end)
end

-- Runs f on a fresh tape with the targets tracked, then the backward pass.
-- Returns the value of f, the gradients by tensor, the targets and whether
-- they are parameters.
local function run_tape(fname, f, ...)
  if type(f) ~= "function" and not (getmetatable(f) or {}).__call then
    errors.raise(("%s: f must be a function"):format(fname))
  end
  if tape then errors.raise(("%s: nested gradient calls are not supported"):format(fname)) end
  local targets, byparams = targets_of(fname, ...)
  local watched = fresh_tracked()
  local keep = {}
  for i = 1, targets.n or #targets do
    if is_tensor(targets[i]) then
      watched[targets[i]] = true
      keep[targets[i]] = true
    end
  end
  local nodes = {}
  local _ <close> = tape_ender(nodes)
  local r
  if byparams then r = call_f(fname, nodes, watched, f) else r = call_f(fname, nodes, watched, f, ...) end
  local ok, result = r[1], r[2]
  local reached = is_tensor(result) and watched[result]
  if not ok then error(result, 0) end
  check_scalar(fname, result)
  local grads = reached and backward(nodes, result, keep) or {}
  local value = type(result) == "number" and result or result:item()
  return value, grads, targets, byparams
end

-- Gradients by parameter (a table keyed by tensor) or by argument (an
-- array, nil where the argument is not a tensor). A tensor target the
-- result did not reach gets zeros of its size, as PyTorch's
-- materialize_grads gives. Also returns how many targets were reached.
local function arrange(grads, targets, byparams)
  local out, reached = {}, 0
  local function grad_of(x)
    local g = grads[x]
    if g then reached = reached + 1 return g end
    return core.zeros(x:size())
  end
  if byparams then
    for i = 1, #targets do out[targets[i]] = grad_of(targets[i]) end
    return out, reached
  end
  out.n = targets.n
  for i = 1, targets.n do
    if is_tensor(targets[i]) then out[i] = grad_of(targets[i]) end
  end
  return out, reached
end

--- Gradient of a scalar function.
--
-- `gradient(f, ps)` with `ps` an array of parameter tensors (as
-- `cnn.params(model)` returns) calls `f()` and returns a table `gs` keyed
-- by parameter: `gs[w]` is the gradient of `w`. `gradient(f, x1, x2, ...)`
-- calls `f(x1, x2, ...)` and returns the gradients of the tensor arguments
-- as multiple results (nil for an argument that is not a tensor).
--
-- A tensor that the result does not depend on (a parameter `f` did not
-- use, an argument it ignored) gets a gradient of zeros of its size, as
-- PyTorch's `allow_unused` with `materialize_grads`. `cnn.update` and
-- `cnn.train` take such zeros as an ordinary step: plain descent leaves
-- the parameter as it is, while momentum and Adam's moments decay and
-- AdamW's weight decay applies, as in PyTorch with materialized zeros.
--
-- `f` must return a number or a 1-element tensor.
-- @usage
-- local gs = cnn.gradient(function() return cnn.mse(m(x), y) end, cnn.params(m))
-- local gx, gw = cnn.gradient(function(x, w) return cnn.sum(x * w) end, x, w)
-- @function gradient
-- @param f the function
-- @param ... the parameters (cnn.params(model)), or the arguments of f
-- @return the gradients
function autograd.gradient(f, ...)
  local _, grads, targets, byparams = run_tape("gradient", f, ...)
  local out = arrange(grads, targets, byparams)
  if byparams then return out end
  return table.unpack(out, 1, out.n)
end

--- Value and gradient of a scalar function: like `gradient`, but returns
-- the value of `f` (a number) and the gradients in one table (keyed by
-- parameter, or an array in the order of the arguments). A tensor the
-- result does not depend on gets zeros of its size, as with `gradient`.
-- @usage
-- local loss, gs = cnn.withgradient(function() return cnn.mse(m(x), y) end, cnn.params(m))
-- @function withgradient
-- @param f the function
-- @param ... as for gradient
-- @treturn number the value of f
-- @treturn table the gradients
function autograd.withgradient(f, ...)
  local value, grads, targets, byparams = run_tape("withgradient", f, ...)
  return value, (arrange(grads, targets, byparams))
end

-- withgradient for the library function `fname` (train), which also
-- needs how many of the targets the result reached: gs cannot tell,
-- since an unreached target has zeros.
function autograd.withgradient_reached(fname, f, ...)
  local value, grads, targets, byparams = run_tape(fname, f, ...)
  local gs, reached = arrange(grads, targets, byparams)
  return value, gs, reached
end

--- The number in a number or a 1-element tensor. Inside a gradient call
-- a tracked tensor is refused: the number would carry no gradient, and
-- the result would silently not depend on it.
-- @function item
-- @param x a number or a 1-element tensor
-- @treturn number
-- @usage cnn.item(cnn.mse(model(x), y))
function autograd.item(x)
  if type(x) == "number" then return x end
  if is_tensor(x) then
    autograd.refuse_tracked("item", x)
    local ok, v = pcall(x.item, x)
    if not ok then errors.relocate(v, "item") end
    return v
  end
  errors.raise(("item: expected a number or a tensor, got %s"):format(type(x)))
end

return autograd
