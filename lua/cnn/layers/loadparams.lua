--- Setting a model's parameters from outside, as Flux's `loadparams!` and
-- `loadmodel!`: from another model of the same architecture or from a
-- list of tensors in `cnn.params` order, every size checked before
-- anything is copied, the values copied into the model's own tensors.
-- @module cnn.layers.loadparams

local argcheck = require "cnn.argcheck"
local base = require "cnn.layers.base"
local models = require "cnn.layers.models"
local traverse = require "cnn.layers.traverse"
local walk = require "cnn.layers.walk"

local FNAME = "loadparams"
local raise, describe, is_tensor = argcheck.raise, argcheck.describe, argcheck.is_tensor

-- ".weight" for a field name that reads as one, "[2]" for an index.
local function key_text(k)
  if math.type(k) == "integer" then return ("[%d]"):format(k) end
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then return "." .. k end
  return nil
end

-- Loaded modules and the globals belong to no model.
local is_module = traverse.is_module

-- Where each tensor of a model lies, as the user would reach it:
-- "m[2].weight" (m being the model; a Chain's layers by position, other
-- tables by their fields). A tensor reached only through a closure has
-- no path.
local function tensor_paths(model)
  local paths, seen = {}, {}
  local function visit(t, path)
    if seen[t] or is_module(t) then return end
    seen[t] = true
    if base.is_chain(t) then
      for i, l in ipairs(rawget(t, "layers")) do
        if type(l) == "table" then visit(l, ("%s[%d]"):format(path, i)) end
      end
      return
    end
    for k, v in next, t do
      local text = key_text(k)
      if text and is_tensor(v) then
        paths[v] = paths[v] or path .. text
      elseif text and type(v) == "table" then
        visit(v, path .. text)
      end
    end
  end
  if type(model) == "table" then visit(model, "m") end
  return paths
end

-- The trainable tensors of a model, then its non-trainable ones
-- (BatchNorm's running statistics), as a checkpoint holds them.
local function state(model)
  local list = models.params(model)
  local trainable = #list
  for _, t in ipairs(walk.nontrainable(model, FNAME)) do list[#list + 1] = t end
  return list, trainable
end

local function check_model(model)
  if not argcheck.is_callable(model) then
    argcheck.fail(FNAME, "model", "a layer or a model such as a Chain", model)
  end
end

-- "parameter 3 (m[2].weight)", "non-trainable tensor 1 (m[3].running_mean)".
local function name_of(i, trainable, paths, t)
  local s = i <= trainable and ("parameter %d"):format(i) or ("non-trainable tensor %d"):format(i - trainable)
  local path = paths[t]
  return path and ("%s (%s)"):format(s, path) or s
end

-- The tensors to copy from: those of a model as its state, or a list.
local function sources(source)
  if argcheck.is_list(source) then
    for i = 1, #source do
      local v = source[i]
      if not is_tensor(v) or v:isfreed() then argcheck.fail(FNAME, ("source[%d]"):format(i), "a live tensor", v) end
    end
    return source, #source, "source[%d]"
  end
  if not argcheck.is_callable(source) then
    argcheck.fail(FNAME, "source", "a model of the same architecture or a list of tensors such as cnn.params(m)",
      source)
  end
  local list, trainable = state(source)
  return list, trainable, "the source's"
end

--- Copies into the parameters of `model` the values of `source`: another
-- model of the same architecture (its parameters and its non-trainable
-- tensors, BatchNorm's running statistics, as Flux's `loadmodel!`), or a
-- list of tensors in `cnn.params(model)` order (the parameters only, as
-- Flux's `loadparams!`).
--
-- Every size must match exactly: otherwise the error names the
-- parameter, by its position in `cnn.params(model)` and its path in the
-- model when it has one ("parameter 3 (m[2].weight) is 3×3×1×16 but
-- source[3] is 3×3×1×8"), and nothing is copied. The values are copied
-- in place: the model keeps its tensors, so `cnn.params(model)` taken
-- before, and an optimiser's state keyed by them, stay valid.
-- @function loadparams
-- @param model the layer or Chain to fill
-- @param source a model of the same architecture, or a list of tensors
-- @return model
-- @usage local a, b = cnn.Dense(3, 2), cnn.Dense(3, 2)
-- cnn.loadparams(b, a)                        -- b computes as a does
-- cnn.loadparams(b, {cnn.ones(2, 3), cnn.zeros(2)})
local function loadparams(model, source, ...)
  argcheck.arity(FNAME, 2, "model, source", model, source, ...)
  check_model(model)
  local targets, trainable = state(model)
  local from, count, what = sources(source)
  if what == "source[%d]" then
    targets = table.move(targets, 1, trainable, 1, {})
    if count ~= trainable then
      raise(("%s: the model has %d parameters but the source list holds %d (it must hold them in cnn.params order)")
        :format(FNAME, trainable, count))
    end
  elseif #from ~= #targets or count ~= trainable then
    raise(("%s: the model has %d parameters and %d non-trainable tensors, the source %d and %d: "
      .. "it must have the same architecture"):format(FNAME, trainable, #targets - trainable, count, #from - count))
  end
  local paths = tensor_paths(model)
  for i, t in ipairs(targets) do
    local name = name_of(i, trainable, paths, t)
    if t:isfreed() then raise(("%s: %s was freed"):format(FNAME, name)) end
    local s = from[i]
    if s:isfreed() then raise(("%s: the source's %s was freed"):format(FNAME, name)) end
    if argcheck.shape(t) ~= argcheck.shape(s) or t:dtype() ~= s:dtype() then
      local same_type = t:dtype() == s:dtype()
      local function text(x) return same_type and argcheck.shape(x) or describe(x) end
      raise(("%s: %s is %s but %s is %s"):format(FNAME, name, text(t), what:format(i), text(s)))
    end
  end
  for i, t in ipairs(targets) do
    if t ~= from[i] then t:copy(from[i]) end
  end
  return model
end

return loadparams
