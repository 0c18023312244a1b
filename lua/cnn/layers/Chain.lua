--- The Chain model.
-- @module cnn.layers.Chain

local core = require "cnn.core"
local errors = require "cnn.errors"
local autograd = require "cnn.autograd"
local ops = require "cnn.ops"
local base = require "cnn.layers.base"
local walk = require "cnn.layers.walk"
local geometry = require "cnn.layers.geometry"

local Chain = base.Chain
local methods = {}
local is_chain, is_layer_class = base.is_chain, base.is_layer_class
local check_layer = base.check_layer

local function refuse_cycle(fname, model)
  local cycle = base.find_cycle(model)
  if cycle then errors.raise(("%s: the model contains itself: %s"):format(fname, cycle)) end
end

-- A named entry is a plain table of one field, {enc = layer}; a plain
-- table of several cannot be one, as Lua keeps no order among them.
local function named_entry(entry, i)
  if type(entry) ~= "table" or getmetatable(entry) ~= nil or #entry > 0 then return nil end
  local name, layer = next(entry)
  if type(name) ~= "string" then return nil end
  if next(entry, name) ~= nil then
    errors.raise(("Chain: entry %d names several layers in one table, whose order Lua does not keep;"
      .. " give one name a table: cnn.Chain({enc = ...}, {dec = ...})"):format(i))
  end
  if methods[name] or name == "layers" or name == "names" or name == "evalchunk" then
    errors.raise(("Chain: entry %d is named '%s', which is a Chain's own field; choose another name")
      :format(i, name))
  end
  return name, layer
end

local function new(list)
  local layers, names = {}, {}
  for i = 1, list.n or #list do
    local name, layer = named_entry(list[i], i)
    if name then
      if names[name] then errors.raise(("Chain: the name '%s' is given twice"):format(name)) end
      names[name], names[i] = i, name
    else
      layer = list[i]
    end
    check_layer(layer, i)
    layers[i] = layer
  end
  return setmetatable({layers = layers, names = names}, Chain)
end

-- Whether layer l is a Conv with cnn.relu (fused into the convolution)
-- and layer m a MaxPool: a Chain runs such a pair as one op.
local function fusable(l, m)
  local lt, mt = getmetatable(l), getmetatable(m)
  return type(lt) == "table" and lt.name == "Conv" and l.options.activation == "relu"
    and type(mt) == "table" and mt.name == "MaxPool"
end

-- Runs a fusable pair conv, pool (layers i and i + 1) on x through
-- cnn.conv2d_relu_maxpool, whose result and gradients are those of the
-- two layers in turn; returns y, or nil and the message of the layer
-- that rejects its input, the same as when they run one by one.
local function run_pair(conv, pool, x, prefix, i)
  local msg = conv:check(x)
  if msg then return nil, ("%sChain layer %d, %s: %s"):format(prefix, i, conv:describe(), msg) end
  msg = geometry.pool_misfit(pool, geometry.conv_sizes(conv, x:size()))
  if msg then return nil, ("%sChain layer %d, %s: %s"):format(prefix, i + 1, pool:describe(), msg) end
  return ops.conv2d_relu_maxpool(x, conv.weight, conv.bias, conv.options, pool.options)
end

-- Runs layers first..last in order; returns y, or nil and the message of
-- the first layer that rejects its input.
local function run_layers(self, x, prefix, first, last)
  local list = self.layers
  local i = first
  while i <= last do
    local l = list[i]
    if i < last and fusable(l, list[i + 1]) then
      local y, msg = run_pair(l, list[i + 1], x, prefix, i)
      if msg then return nil, msg end
      x, i = y, i + 1
    elseif is_chain(l) then
      local y, msg = l:run(x, ("%sChain layer %d, "):format(prefix, i))
      if msg then return nil, msg end
      x = y
    elseif is_layer_class(l) then
      local msg = l:check(x)
      if msg then return nil, ("%sChain layer %d, %s: %s"):format(prefix, i, l:describe(), msg) end
      x = l:forward(x)
    else
      x = l(x)
    end
    i = i + 1
  end
  return x
end

-- Layers that treat each sample of a batch on its own, the same way
-- whatever the batch, and keep it W×H×C×N: a leading run of them can take
-- a big batch a slice at a time.
local PER_SAMPLE = {Conv = true, ConvTranspose = true, MaxPool = true, MeanPool = true,
  GlobalMaxPool = true, GlobalMeanPool = true, AdaptiveMaxPool = true, AdaptiveMeanPool = true,
  Upsample = true, LayerNorm = true, GroupNorm = true, InstanceNorm = true}
-- ... and these while inactive (test mode, or "auto" outside a gradient
-- call), when they use no statistics of the batch
local PER_SAMPLE_INACTIVE = {BatchNorm = true, Dropout = true}
-- the activations given as plain functions, elementwise (or over one
-- sample's first dimension, as softmax)
local ACTIVATIONS = {}
for _, f in pairs(require "cnn.activations") do
  if type(f) == "function" then ACTIVATIONS[f] = true end
end
local EVAL_CHUNK = 256

local per_sample_prefix

local function per_sample(l)
  if ACTIVATIONS[l] then return true end
  if is_chain(l) then return per_sample_prefix(l.layers) == #l.layers end
  local mt = getmetatable(l)
  if type(mt) ~= "table" then return false end
  if PER_SAMPLE[mt.name] then return true end
  if PER_SAMPLE_INACTIVE[mt.name] then return not base.is_active(l.mode) end
  -- a residual block whose layer is, joined by addition
  if mt.name == "SkipConnection" then
    return l.connection == base.add_connection and per_sample(l.layer)
  end
  return false
end

function per_sample_prefix(list)
  local k = 0
  while k < #list and per_sample(list[k + 1]) do k = k + 1 end
  return k
end

-- Outside a gradient call, a big batch goes through the leading
-- per-sample layers in slices of `evalchunk` images: a slice's
-- activations stay in the caches and its memory serves the next slice
-- (collected after each, when the Lua heap is small enough for that to
-- be cheap);
-- the results are those of the whole batch. Returns false when that
-- does not apply or a layer rejects a slice (the whole batch then gives
-- the error message with its own sizes), else true and what run returns.
local function run_sliced(self, x, prefix)
  local chunk = rawget(self, "evalchunk") or EVAL_CHUNK
  if chunk < 1 or autograd.isrecording() or not base.is_tensor(x) then return false end
  -- a freed x is left to the first layer, whose check names it
  if x:isfreed() or x:ndims() ~= 4 or x:size(4) <= chunk then return false end
  local k = per_sample_prefix(self.layers)
  if k == 0 then return false end
  -- slices of one size, so that one set of primitives serves them all
  local n, out = x:size(4), nil
  local count = (n + chunk - 1) // chunk
  chunk = (n + count - 1) // count
  for first = 1, n, chunk do
    local last = math.min(first + chunk - 1, n)
    local y = run_layers(self, x:slice(4, first, last), prefix, 1, k)
    if not y then return false end
    if not out then
      local sizes = y:size()
      sizes[4] = n
      out = core.zeros(sizes)
    end
    out:slice(4, first, last):copy(y)
    -- the slice's tensors are garbage now: their blocks serve the next
    core.collect_turnover()
  end
  return true, run_layers(self, out, prefix, k + 1, #self.layers)
end

--- m:run(x [, prefix]): runs the layers in order and returns y, or nil
-- and the message of the first layer that rejects its input, which
-- names the layer ("Chain layer 2, MaxPool((2, 2)): ..."; prefix, if
-- given, comes first); `m(x)` raises that message instead.
-- @function Chain:run
-- @param x the input
-- @tparam[opt] string prefix text before the message
-- @return y, or nil and the message
-- @usage local y, msg = cnn.Chain(cnn.Dense(3, 2)):run(cnn.ones(4, 1)) --> nil, "Chain layer 1, ..."
function methods.run(self, x, prefix)
  local sliced, y, msg = run_sliced(self, x, prefix)
  if sliced then return y, msg end
  return run_layers(self, x, prefix, 1, #self.layers)
end

--- m:each_output(x, visit): runs the layers in order and calls
-- visit(i, layer, y, depth) after each one, with its output y (depth
-- counts nested Chains from 0; a nested Chain is visited with y nil
-- before its layers, then with its output). An input that does not fit
-- a layer raises the message a call of the Chain would. `cnn.summary`
-- is made with it.
-- @function Chain:each_output
-- @param x the input
-- @param visit function(i, layer, y, depth)
-- @param[opt=0] depth the depth of this Chain
-- @tparam[opt] string prefix text before a message
-- @return the output of the Chain
-- @usage cnn.Chain(cnn.Dense(3, 2), cnn.softmax):each_output(cnn.ones(3, 1),
--   function(i, l, y) print(i, y:size()[1]) end)
function methods.each_output(self, x, visit, depth, prefix)
  depth, prefix = depth or 0, prefix or ""
  for i, l in ipairs(self.layers) do
    if is_chain(l) then
      visit(i, l, nil, depth)
      x = l:each_output(x, visit, depth + 1, ("%sChain layer %d, "):format(prefix, i))
    else
      local y, msg = run_layers(self, x, prefix, i, i)
      if msg then errors.raise(msg) end
      x = y
    end
    visit(i, l, x, depth)
  end
  return x
end

function methods.forward(self, x)
  refuse_cycle("Chain", self)
  local y, msg = self:run(x, "")
  if msg then errors.raise(msg) end
  return y
end

--- The layers, for walks of the model; a Chain that contains itself is
-- refused, as any walk through it would never end.
function methods.children(self)
  refuse_cycle("Chain", self)
  return self.layers
end

--- The trainable tensors of all the layers, as `cnn.params(m)`.
function methods.parameters(self)
  return walk.params(self)
end

function methods.check()
  return nil
end

-- Printing as Flux does: one layer a line with its parameter count, and
-- a total for the whole Chain.

local function counts_comment(trainable, fixed)
  if trainable == 0 then return nil end
  local s = ("# %s parameters"):format(base.count_string(trainable))
  if fixed > 0 then s = s .. (", plus %s non-trainable"):format(base.count_string(fixed)) end
  return s
end

local function bytes_string(bytes)
  if bytes < 1024 then return ("%d bytes"):format(bytes) end
  if bytes < 1024 * 1024 then return ("%.3f KiB"):format(bytes / 1024) end
  return ("%.3f MiB"):format(bytes / (1024 * 1024))
end


-- Appends {text, comment} rows for a Chain's lines at an indentation; a
-- Chain inside itself shows as <cycle> (on_path: the Chains above).
local function chain_rows(chain, outer, rows, on_path)
  on_path[chain] = true
  for i, l in ipairs(chain.layers) do
    local name = chain.names[i]
    local indent = name and outer .. name .. " = " or outer
    if on_path[l] then
      rows[#rows + 1] = {indent .. "<cycle>,"}
    elseif is_chain(l) then
      rows[#rows + 1] = {indent .. "Chain("}
      chain_rows(l, outer .. "  ", rows, on_path)
      rows[#rows + 1] = {outer .. "),"}
    else
      local fixed = walk.nontrainable_count(l)
      local comment = counts_comment(base.numel_of(walk.params_shown(l)), fixed)
      rows[#rows + 1] = {indent .. base.layer_text(l) .. ",", comment}
    end
  end
  on_path[chain] = nil
end

local function total_comment(chain)
  local ps = walk.params_shown(chain)
  local n = base.numel_of(ps)
  local s = ("# Total: %d arrays, %s parameters, %s.")
    :format(#ps, base.count_string(n), bytes_string(4 * n))
  local fixed = walk.nontrainable_count(chain)
  if fixed > 0 then
    s = s:sub(1, -2) .. (", plus %s non-trainable."):format(base.count_string(fixed))
  end
  return s
end

function methods.describe(self)
  local rows = {{"Chain("}}
  chain_rows(self, "  ", rows, {})
  rows[#rows + 1] = {")", total_comment(self)}
  local width = 0
  for _, r in ipairs(rows) do
    if r[2] then width = math.max(width, utf8.len(r[1])) end
  end
  local lines = {}
  for i, r in ipairs(rows) do
    if r[2] then
      lines[i] = r[1] .. (" "):rep(width + 2 - utf8.len(r[1])) .. r[2]
    else
      lines[i] = r[1]
    end
  end
  return table.concat(lines, "\n")
end

-- Index i of n layers, negative ones counting from the end.
local function absolute(i, n)
  if i < 0 then return n + 1 + i end
  return i
end

local function slice(self, range)
  local n = #self.layers
  local first, last = range[1], range[2] or -1
  if math.type(first) ~= "integer" or math.type(last) ~= "integer" then
    errors.raise("Chain: a slice is {first, last} with integer indices")
  end
  local i, j = absolute(first, n), absolute(last, n)
  if i < 1 or j > n or i > j + 1 then
    errors.raise(("Chain: layers %d to %d are out of range for a Chain of %d layers")
      :format(first, last, n))
  end
  local list = {n = j - i + 1}
  for k = i, j do
    local name = self.names[k]
    list[k - i + 1] = name and {[name] = self.layers[k]} or self.layers[k]
  end
  return new(list)
end

-- The methods, where tools that must not call __index (completion at
-- the prompt) find them, as a tensor's are in cnn.Tensor.methods.
Chain.methods = methods
Chain.__index = function(self, k)
  if math.type(k) == "integer" then
    local layers = rawget(self, "layers")
    return layers[absolute(k, #layers)]
  end
  if type(k) == "table" then return slice(self, k) end
  local at = rawget(self, "names")[k]
  if math.type(at) == "integer" then return rawget(self, "layers")[at] end
  return methods[k]
end
Chain.__len = function(self) return #self.layers end
Chain.__call = methods.forward
Chain.__tostring = function(self) return self:describe() end

--- Chain(l1, l2, ...): applies its layers in order, like Flux's Chain.
-- A layer is a cnn layer, a nested Chain or any Lua function of one tensor
-- (`cnn.softmax`, `function(x) return x:reshape(-1, x:size(4)) end`).
-- A layer given as a table of one name, `cnn.Chain({enc = encoder},
-- {dec = decoder})`, is reachable by it, `m.enc`, as well as `m[1]`
-- (Flux's `Chain(enc = ..., dec = ...)`; one table per name, as a Lua
-- table keeps no order among its fields).
-- `m[i]` is the i-th layer, `#m` their number, `m[{i, j}]` a Chain of
-- layers i..j (sharing them; j defaults to the last); negative indices
-- count from the end, so `m[-1]` is the last layer and `m[{1, -2}]` all
-- but the last (Flux's `m[1:end-1]`), so a new head is
-- `Chain(m[{1, -2}], Dense(288, 5))`. `m:parameters()` is `cnn.params(m)`.
-- An input that does not fit a layer raises
-- "Chain layer 8, Dense(288 => 10): input has 320 features (320×128),
-- expected 288".
--
-- A Conv with `cnn.relu` followed directly by a MaxPool runs as one op,
-- `cnn.conv2d_relu_maxpool`, with the same result and gradients as the
-- two layers one after the other, the relu's backward working on the
-- smaller pooled gradient; any other layer runs on its own.
--
-- Outside a gradient call, a batch of more than `m.evalchunk` images
-- (default 256; 0 turns this off) goes through the leading Conv and
-- pooling layers that many images at a time, which is faster and needs
-- less memory, with the same result.
-- @function Chain
-- @param ... the layers
-- @return the Chain
-- @usage local model = cnn.Chain(cnn.Conv({3, 3}, 1, 16, cnn.relu), cnn.MaxPool({2, 2}),
--   cnn.flatten, cnn.Dense(2704, 10))
-- local ae = cnn.Chain({enc = cnn.Dense(4, 2)}, {dec = cnn.Dense(2, 4)})
return function(...)
  return new(table.pack(...))
end
