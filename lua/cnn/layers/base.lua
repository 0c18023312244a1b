--- What the layers share: the layer class and constructor, argument
-- checks, the text of tuples and counts, and the structure of a model
-- (which tables are layers, a layer's sublayers, cycles).
-- @module cnn.layers.base

local errors = require "cnn.errors"
local argcheck = require "cnn.argcheck"
local tensorcheck = require "cnn.tensorcheck"
local autograd = require "cnn.autograd"
local activations = require "cnn.activations"

local base = {}

local is_tensor = argcheck.is_tensor
base.is_tensor = is_tensor
base.shape = argcheck.shape

-- The methods every layer has, documented once for all of them -------

--- layer:forward(x): the layer applied to x, the same as `layer(x)`; an
-- input the layer does not take raises the message of check, prefixed
-- by the layer: "Dense(288 => 10): input has 320 features (320×128),
-- expected 288".
-- @function Layer:forward
-- @param x the input, usually a tensor
-- @return the output
-- @usage cnn.Dense(3, 2):forward(cnn.ones(3, 4)):size() --> {2, 4}

--- layer:check(x): why the layer does not take the input x, as a
-- message, or nil when it does.
-- @function Layer:check
-- @param x the input
-- @return a string, or nil
-- @usage cnn.Dense(3, 2):check(cnn.ones(4, 1)) --> "input has 4 features (4×1), expected 3"

--- layer:parameters(): the layer's trainable tensors in order (a
-- Chain's: all of its layers', as `cnn.params(m)`).
-- @function Layer:parameters
-- @treturn table a list of tensors
-- @usage print(#cnn.Dense(3, 2):parameters()) --> 2 (weight and bias)

--- layer:children(): the layer's sublayers (a Chain's layers; none for
-- most layers), which the walks of a model (`cnn.params`,
-- `cnn.testmode`, ...) visit.
-- @function Layer:children
-- @treturn table a list of layers
-- @usage print(#cnn.Chain(cnn.Dense(3, 2), cnn.softmax):children()) --> 2

--- layer:describe(): the layer as one line of text, as Flux prints it
-- (`tostring(layer)`; a Chain gives its lines and parameter counts).
-- @function Layer:describe
-- @treturn string
-- @usage cnn.Conv({3, 3}, 1, 16, cnn.relu):describe() --> "Conv((3, 3), 1 => 16, relu)"

--- layer:set_mode(mode): the mode of a layer that behaves differently
-- in training (Dropout, BatchNorm): "train", "test" or "auto" (train
-- inside a gradient call, test outside it; the default). `cnn.trainmode`
-- and `cnn.testmode` set it on a whole model.
-- @function Layer:set_mode
-- @param mode "train", "test" or "auto"
-- @usage cnn.Dropout(0.5):set_mode("test")

--- A layer class: instances are called with `layer(x)`, printed with
-- `tostring(layer)`. A class defines `forward(self, x)`, `describe(self)`
-- (the one-line text) and optionally `check(self, x)` (a message when x
-- does not fit, else nil), `parameters(self)` (its trainable tensors in
-- order), `children(self)` (sublayers) and `set_mode(self, mode)`;
-- `base.constructor` then makes `forward` and the call check x first.
function base.class(name)
  local c = {name = name}
  c.__index = c
  c.__name = name
  c.__tostring = function(self) return self:describe() end
  c.check = function() return nil end
  c.parameters = function() return {} end
  c.children = function() return {} end
  return c
end

--- A layer's constructor from its `build(...)` (a build error is raised
-- at the caller's line); `Class.forward` and the call of a layer become
-- checked: an input `check` refuses raises "Dense(3 => 2): <message>".
function base.constructor(build, Class)
  local forward = Class.forward
  local function checked(self, x)
    local msg = self:check(x)
    if msg then errors.raise(self:describe() .. ": " .. msg) end
    return forward(self, x)
  end
  Class.forward, Class.__call = checked, checked
  return function(...)
    return errors.call(build, ...)
  end
end

local MODES = {"train", "test", "auto"}

--- For layers with a train/test mode (Dropout, BatchNorm).
function base.set_mode(self, mode)
  self.mode = argcheck.choice("set_mode", "mode", mode, MODES)
end

--- A message when x is not a live tensor (of `dtype`, if given), else nil.
function base.check_tensor(x, dtype)
  if not is_tensor(x) then
    return ("expected a tensor, got %s"):format(type(x))
  end
  if x:isfreed() then return "expected a tensor, got a freed tensor" end
  local actual = x:dtype()
  if dtype and actual ~= dtype then
    return ("input is %s (%s), expected %s"):format(actual, base.shape(x), dtype)
  end
  return nil
end

--- `bias` option: true (the default) or false.
function base.bias_option(fname, bias)
  return argcheck.optional_boolean(fname, "bias", bias, true)
end

--- A weight made by `init(sizes...)`, checked to be a Float32 tensor of
-- those sizes; errors of the library's initialisers are named by fname.
function base.initialised(fname, init, ...)
  argcheck.callable(fname, "init", init, "cnn.glorot_uniform")
  local w = errors.call_prefixed(fname, init, ...)
  local expected = tensorcheck.sizes_text({...})
  if not (is_tensor(w) and not w:isfreed() and w:dtype() == "Float32"
          and base.shape(w) == expected) then
    errors.raise(("%s: init must return a %s Float32 tensor, got %s"):format(fname, expected,
      argcheck.describe(w)))
  end
  return w
end

--- Zeros of n for a bias, named by fname if n is too large.
function base.zeros(fname, core, n)
  return errors.call_prefixed(fname, core.zeros, n)
end

--- A message when x is not a tensor of `ndims` dimensions, else nil.
function base.check_ndims(x, ndims, layout)
  local msg = base.check_tensor(x, "Float32")
  if msg then return msg end
  if x:ndims() ~= ndims then
    return ("input has %d dimensions (%s), expected %d (%s)")
      :format(x:ndims(), base.shape(x), ndims, layout)
  end
  return nil
end

--- A message when x is not a W×H×C×N tensor of `cin` channels, else
-- nil: the input check of the convolution layers.
function base.check_images(x, cin)
  local msg = base.check_ndims(x, 4, "W×H×C×N")
  if msg then return msg end
  if x:size(3) ~= cin then
    return ("input has %d channels (%s), expected %d"):format(x:size(3), base.shape(x), cin)
  end
  return nil
end

local function all_equal(t, v)
  for i = 1, #t do if t[i] ~= v then return false end end
  return true
end

--- The window options of a convolution layer's text, those that differ
-- from their defaults: ", pad=1, stride=2, dilation=(1, 2)".
function base.window_string(layer)
  local s = ""
  if not all_equal(layer.pad, 0) then s = s .. ", pad=" .. base.tuple_string(layer.pad) end
  if not all_equal(layer.stride, 1) then s = s .. ", stride=" .. base.tuple_string(layer.stride) end
  if not all_equal(layer.dilation, 1) then s = s .. ", dilation=" .. base.tuple_string(layer.dilation) end
  return s
end

--- Flux's text for a tuple: "1" if all entries agree, else "(1, 0, 1, 0)".
function base.tuple_string(t, collapse)
  if collapse ~= false then
    local same = true
    for i = 2, #t do same = same and t[i] == t[1] end
    if same then return tostring(t[1]) end
  end
  local parts = {}
  for i = 1, #t do parts[i] = tostring(t[i]) end
  return "(" .. table.concat(parts, ", ") .. ")"
end

--- The number of elements in a list of tensors.
function base.numel_of(list)
  local n = 0
  for _, p in ipairs(list) do n = n + p:numel() end
  return n
end

--- An integer with Julia's digit separators: 16938 → "16_938".
function base.count_string(n)
  local s = tostring(n)
  local head = #s % 3
  local groups = {}
  if head > 0 then groups[1] = s:sub(1, head) end
  for i = head + 1, #s, 3 do groups[#groups + 1] = s:sub(i, i + 2) end
  return table.concat(groups, "_")
end

-- Functions in a Chain print under their public name ("softmax"),
-- anonymous ones under where they were defined.
local preferred = {"relu", "leakyrelu", "elu", "sigmoid", "tanh", "gelu",
                   "softplus", "softmax", "logsoftmax", "flatten"}
function base.function_name(f)
  if type(f) ~= "function" then return tostring(f) end
  -- The public table, complete by the time anything is printed.
  local cnn = require "cnn"
  for _, name in ipairs(preferred) do
    if cnn[name] == f then return name end
  end
  for name, v in pairs(cnn) do
    if v == f and type(name) == "string" then return name end
  end
  local info = debug.getinfo(f, "S")
  if info.what == "Lua" then
    return ("function (%s:%d)"):format(info.short_src, info.linedefined)
  end
  return "function"
end

--- A layer's text in a printed model: its own (`__tostring`), a
-- function's name, else for a layer table without one its kind and
-- fields, "Layer(scale)" (or its metatable's `__name`).
local function is_chain_mt(x)
  return getmetatable(x) == base.Chain
end

function base.layer_text(l)
  if type(l) ~= "table" then return base.function_name(l) end
  local mt = getmetatable(l)
  if type(mt) == "table" and mt.__tostring then return tostring(l) end
  local names = {}
  for k in pairs(l) do names[#names + 1] = tostring(k) end
  table.sort(names)
  local kind = type(mt) == "table" and type(mt.__name) == "string" and mt.__name or "Layer"
  return ("%s(%s)"):format(kind, table.concat(names, ", "))
end

--- A layer's text on one line, a Chain's included: "Chain(Dense(2 => 2),
-- relu)", for layers that print the layers inside them.
function base.short_text(l)
  if not is_chain_mt(l) then return base.layer_text(l) end
  local parts = {}
  for i, sub in ipairs(rawget(l, "layers")) do parts[i] = base.short_text(sub) end
  return "Chain(" .. table.concat(parts, ", ") .. ")"
end

--- The activation argument of constructor fname: nil for none, else a
-- callable.
function base.activation(fname, act)
  if act == nil then return nil end
  return argcheck.callable(fname, "activation", act, "cnn.relu")
end

-- The activation's part of a layer's text: ", relu", or "" for none
-- (identity included, as Flux prints it).
function base.act_string(act)
  if act == nil or act == activations.identity then return "" end
  return ", " .. base.function_name(act)
end

-- Dropout and BatchNorm are active in "train" mode, inactive in "test"
-- mode, and in the default "auto" mode active exactly while a gradient
-- is being taken (Flux's istraining()).
-- SkipConnection's default connection, Flux's `+`: mx + x.
function base.add_connection(mx, x) return mx + x end

function base.is_active(mode)
  if mode == "train" then return true end
  if mode == "test" then return false end
  return autograd.isrecording()
end

--- The metatable of Chain, whose methods cnn.layers.Chain puts in: here,
-- so that the walks over a model can tell a Chain without requiring it.
base.Chain = {name = "Chain"}
local Chain = base.Chain

local function is_chain(x)
  return getmetatable(x) == Chain
end
base.is_chain = is_chain

local function is_layer_class(x)
  local mt = getmetatable(x)
  return type(mt) == "table" and mt.describe ~= nil and mt.forward ~= nil
end
base.is_layer_class = is_layer_class
base.is_layer = function(x) return is_layer_class(x) or is_chain(x) end

--- Raises, naming Chain, unless l can be a Chain's i-th layer.
function base.check_layer(l, i)
  if type(l) == "function" or base.is_layer(l) then return end
  local mt = getmetatable(l)
  if type(mt) == "table" and mt.__call then return end
  if argcheck.is_list(l) and #l > 0 then
    error(("Chain: layer %d is a list of %d values; give the layers as arguments: "
      .. "cnn.Chain(l1, l2, ...), or cnn.Chain(table.unpack(list))"):format(i, #l), 3)
  end
  error(("Chain: layer %d is a %s, not a layer or a function"):format(i, type(l)), 3)
end

--- The layers directly inside a layer: a Chain's own list (read as it
-- is, so that a Chain that contains itself can still be shown), else
-- what its children() gives.
function base.sublayers(l)
  if is_chain(l) then return rawget(l, "layers") end
  return l.children and l:children() or {}
end

--- Where a model contains itself, as "m[2][1] is m" (m being the model),
-- or nil. A layer may appear twice (shared); only a layer inside itself
-- makes a cycle, along which every walk of the model would go forever.
function base.find_cycle(model)
  local on_path, path = {}, {}
  local function text(depth)
    local s = "m"
    for k = 1, depth do s = s .. ("[%d]"):format(path[k]) end
    return s
  end
  local function visit(l, depth)
    if type(l) == "function" or not base.is_layer(l) then return nil end
    if on_path[l] then return ("%s is %s"):format(text(depth), text(on_path[l])) end
    on_path[l] = depth
    for i, child in ipairs(base.sublayers(l)) do
      path[depth + 1] = i
      local found = visit(child, depth + 1)
      if found then return found end
    end
    on_path[l] = nil
    return nil
  end
  return visit(model, 0)
end

return base
