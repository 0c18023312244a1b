--- The layers of a model as cnn.quantize sees them: a list of steps
-- (conv, pool, flatten, dense, softmax), each with the FP32 forward that
-- calibrates it. A BatchNorm is folded into the Conv or Dense before it,
-- a relu function into the layer before it, a Dropout (the identity at
-- inference) is left out, nested Chains are opened; any other layer is
-- refused, naming it and what is supported.
-- @module cnn.quantize.layers

local core = require "cnn.core"
local errors = require "cnn.errors"
local activations = require "cnn.activations"
local base = require "cnn.layers.base"
local flatten = require "cnn.layers.Flatten"

local layers = {}

local SUPPORTED = "Conv and DepthwiseConv (relu or no activation), a BatchNorm after a Conv or Dense"
  .. " without activation, MaxPool, MeanPool, Flatten (cnn.flatten, or a function that reshapes"
  .. " W×H×C×N to features×N), Dense (relu or no activation), Dropout, cnn.relu after a Conv or"
  .. " Dense, cnn.softmax last"

--- The text of what cnn.quantize supports, for messages.
layers.SUPPORTED = SUPPORTED

local function class_name(l)
  local mt = getmetatable(l)
  return type(mt) == "table" and mt.name or nil
end

local function text_of(l)
  if type(l) == "function" then return base.function_name(l) end
  return base.layer_text(l)
end

-- The layers of a model in order, nested Chains opened, each with where
-- it is ("Chain layer 3", "Chain layer 2.1").
local function flat_list(model)
  local list = {}
  local function add(chain, prefix)
    for i, l in ipairs(chain.layers) do
      local at = prefix .. i
      if base.is_chain(l) then add(l, at .. ".") else list[#list + 1] = {layer = l, at = "Chain layer " .. at} end
    end
  end
  if base.is_chain(model) then add(model, "") else list[1] = {layer = model, at = "the model"} end
  return list
end

local function refuse(fname, entry, why)
  errors.raise(("%s: %s, %s: %s; supported: %s"):format(fname, entry.at, text_of(entry.layer), why, SUPPORTED))
end

-- The activation of a Conv or Dense: "relu", nil (none), or "softmax"
-- (a Dense's, allowed last).
local function activation_of(fname, entry, allow_softmax)
  local act = entry.layer.act
  if act == nil or act == activations.identity then return nil end
  if act == activations.relu then return "relu" end
  if allow_softmax and act == activations.softmax then return "softmax" end
  refuse(fname, entry, ("its activation %s cannot be quantized (relu or none)"):format(base.function_name(act)))
end

-- The batch normalisation at inference: gamma (x - mean) / sqrt(var +
-- eps) + beta, then its activation.
local function batchnorm_forward(bn, x)
  local y = core.batchnorm(x, bn.gamma, bn.beta, bn.running_mean, bn.running_var, false, bn.momentum, bn.eps)
  if bn.act then y = bn.act(y) end
  return y
end

-- Weight and bias of a layer with its BatchNorm folded in: per output
-- channel o, w·s and (b - mean)·s + beta, s = gamma / sqrt(var + eps);
-- `shape` is the sizes that spread s over the weight's output channels.
local function folded(weight, bias, bn, shape)
  local s = core.div(bn.gamma, core.sqrt(core.add(bn.running_var, bn.eps)))
  local w = core.mul(weight, core.reshape(s, shape))
  local b = bias or core.zeros(bn.channels)
  b = core.add(core.mul(core.sub(b, bn.running_mean), s), bn.beta)
  return w, b
end

-- A Conv or Dense step (layer at entries[i]), with a following BatchNorm
-- and relu folded in; returns the step and the index after it.
local function weighted_step(fname, entries, i, kind)
  local entry = entries[i]
  local l = entry.layer
  local step = {kind = kind, at = entry.at, text = text_of(l), weight = l.weight, bias = l.bias}
  step.act = activation_of(fname, entry, kind == "dense")
  local forwards = {function(x) return l:forward(x) end}
  local outs = kind == "conv" and l.cout or l.nout
  local nxt = entries[i + 1]
  if nxt and class_name(nxt.layer) == "BatchNorm" then
    local bn = nxt.layer
    if step.act then refuse(fname, nxt, ("it follows %s, whose activation comes before it"):format(step.text)) end
    if bn.channels ~= outs then
      refuse(fname, nxt, ("it has %d channels, %s gives %d"):format(bn.channels, step.text, outs))
    end
    local bn_act = bn.act
    if bn_act ~= nil and bn_act ~= activations.identity and bn_act ~= activations.relu then
      refuse(fname, nxt, ("its activation %s cannot be quantized (relu or none)"):format(base.function_name(bn_act)))
    end
    step.act = bn_act == activations.relu and "relu" or nil
    local shape = kind == "conv" and {1, 1, 1, outs} or {outs, 1}
    step.weight, step.bias = folded(l.weight, l.bias, bn, shape)
    step.text = step.text .. " + " .. text_of(bn)
    forwards[#forwards + 1] = function(x) return batchnorm_forward(bn, x) end
    i = i + 1
    nxt = entries[i + 1]
  end
  if nxt and nxt.layer == activations.relu and step.act == nil then
    step.act = "relu"
    step.text = step.text .. " + relu"
    forwards[#forwards + 1] = activations.relu
    i = i + 1
  end
  step.forward = function(x)
    for _, f in ipairs(forwards) do x = f(x) end
    return x
  end
  if kind == "conv" then step.options = l.options end
  return step, i + 1
end

local function pool_step(entry)
  local l = entry.layer
  return {kind = "pool", at = entry.at, text = text_of(l), options = l.options,
    pool = class_name(l) == "MaxPool" and "max" or "mean",
    forward = function(x) return l:forward(x) end}
end

-- A function that is not one of the library's: taken for a flatten if,
-- on every calibration batch, it gives the input reshaped to features×N.
local function function_step(entry)
  local f = entry.layer
  return {kind = "flatten", at = entry.at, text = text_of(f), verify = true, forward = f}
end

--- The steps of a model; raises naming the first layer it cannot take.
-- @param fname the public function's name, for messages
-- @param model a Chain or a single layer
-- @return a list of steps: {kind, at, text, forward, ...}
function layers.steps(fname, model)
  local entries = flat_list(model)
  local steps, i = {}, 1
  while i <= #entries do
    local entry = entries[i]
    local l, name = entry.layer, class_name(entry.layer)
    local step
    if name == "Conv" then
      step, i = weighted_step(fname, entries, i, "conv")
    elseif name == "Dense" then
      step, i = weighted_step(fname, entries, i, "dense")
    elseif name == "MaxPool" or name == "MeanPool" then
      step, i = pool_step(entry), i + 1
    elseif name == "Flatten" or l == flatten.flatten then
      step, i = {kind = "flatten", at = entry.at, text = text_of(l), forward = flatten.flatten}, i + 1
    elseif name == "Dropout" then
      i = i + 1
    elseif l == activations.softmax then
      if i ~= #entries then refuse(fname, entry, "a softmax must be the last layer") end
      step, i = {kind = "softmax", at = entry.at, text = "softmax", forward = activations.softmax}, i + 1
    elseif name == "BatchNorm" then
      refuse(fname, entry, "a BatchNorm is folded into the Conv or Dense without activation right before it")
    elseif l == activations.relu then
      refuse(fname, entry, "a relu is fused into the Conv or Dense without activation right before it")
    elseif type(l) == "function" and not activations[base.function_name(l)] then
      step, i = function_step(entry), i + 1
    else
      refuse(fname, entry, "this layer cannot be quantized")
    end
    steps[#steps + 1] = step
  end
  return steps
end

--- Marks the Dense whose result is the model's (only a softmax after
-- it) to give Float32, and checks that a softmax follows such a Dense
-- and that some layer is quantized.
function layers.finish(fname, steps)
  local last = #steps
  if last > 0 and steps[last].kind == "softmax" then last = last - 1 end
  local final = steps[last]
  if final and final.kind == "dense" then final.float_output = true end
  for _, s in ipairs(steps) do
    if s.kind == "dense" and s.act == "softmax" and not s.float_output then
      errors.raise(("%s: %s, %s: a softmax activation is supported on the last layer only")
        :format(fname, s.at, s.text))
    end
  end
  if #steps > 0 and steps[#steps].kind == "softmax" and not (final and final.float_output) then
    errors.raise(("%s: %s: a softmax is supported right after the last Dense only; supported: %s")
      :format(fname, steps[#steps].at, SUPPORTED))
  end
  for _, s in ipairs(steps) do
    if s.kind == "conv" or s.kind == "dense" then return steps end
  end
  errors.raise(("%s: the model has no Conv or Dense layer to quantize"):format(fname))
end

return layers
