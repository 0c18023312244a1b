--- Functions over a whole model: params, trainmode, testmode, summary.
-- @module cnn.layers.walk

local core = require "cnn.core"
local errors = require "cnn.errors"
local base = require "cnn.layers.base"
local traverse = require "cnn.layers.traverse"

local walk = {}

-- Calls visit(layer) on every layer of the models, depth first in order,
-- and found(t) on every tensor held by what is not a built-in layer: a
-- user's layer table (its fields), a Lua closure (its upvalues), a plain
-- table inside those (see cnn.layers.traverse). A model that contains
-- itself would make the walk endless: it raises "<fname>: the model
-- contains itself: m[2] is m", or, with no fname (for display), leaves
-- out the layer that closes the cycle.
local function each_layer(models, visit, fname, found)
  local on_path, seen, root = {}, {}, nil
  local go
  local function go_inside(node)
    if seen[node] then return end
    seen[node] = true
    for _, v in ipairs(traverse.contents(node)) do
      if base.is_tensor(v) then
        if found then found(v) end
      else
        go(v)
      end
    end
  end
  go = function(l)
    if not base.is_layer(l) then return go_inside(l) end
    if on_path[l] then
      if fname then
        errors.raise(("%s: the model contains itself: %s"):format(fname, base.find_cycle(root)))
      end
      return
    end
    on_path[l] = true
    visit(l)
    for _, child in ipairs(base.sublayers(l)) do go(child) end
    on_path[l] = nil
  end
  for i = 1, models.n do
    root = models[i]
    go(root)
  end
end

-- The tensors getter(layer) gives for every layer, and, when `loose`,
-- those found in user layers and closures, each once in walk order.
local function collect(models, getter, fname, loose)
  local list, seen = {}, {}
  local function add(p)
    if not seen[p] then
      seen[p] = true
      list[#list + 1] = p
    end
  end
  each_layer(models, function(l)
    for _, p in ipairs(getter(l)) do add(p) end
  end, fname, loose and add or nil)
  return list
end

-- A Chain's parameters are those of its layers, collected from them.
local function own_parameters(l)
  if base.is_chain(l) or not l.parameters then return {} end
  return l:parameters()
end

--- The trainable tensors of one or more models, in layer order (weight
-- before bias), each once: an array for `cnn.gradient` and `cnn.update`.
-- A model that contains itself is an error.
-- @param ... the models
-- @return an array of tensors
-- @usage local ps = cnn.params(model)
function walk.params(...)
  return collect(table.pack(...), function(l)
    local mt = getmetatable(l)
    if type(mt) == "table" and mt.inference_only then errors.raise("params: " .. mt.inference_only) end
    return own_parameters(l)
  end, "params", true)
end

-- The parameters a printed model counts: those it can reach, a cycle
-- left out.
function walk.params_shown(model)
  return collect(table.pack(model), own_parameters, nil, true)
end

--- The non-trainable tensors of a model (BatchNorm's running statistics)
-- in layer order, each once, as params gives the trainable ones.
function walk.nontrainable(model, fname)
  return collect(table.pack(model), function(l)
    return l.nontrainable and l:nontrainable() or {}
  end, fname)
end

function walk.nontrainable_count(model)
  return base.numel_of(walk.nontrainable(model, nil))
end

local function set_mode(model, mode, fname)
  each_layer(table.pack(model), function(l)
    if l.set_mode then l:set_mode(mode) end
  end, fname)
  return model
end

local function mode_of(flag, yes, no, fname)
  if flag == nil or flag == true then return yes end
  if flag == false then return no end
  if flag == "auto" then return "auto" end
  error(("%s: mode must be true, false or \"auto\""):format(fname), 3)
end

--- Puts Dropout and BatchNorm layers of a model in training mode (active
-- even outside a gradient call), as Flux's trainmode!. `flag` false
-- means test mode, "auto" restores the default (active exactly inside a
-- gradient call). Returns the model.
function walk.trainmode(model, flag)
  return set_mode(model, mode_of(flag, "train", "test", "trainmode"), "trainmode")
end

--- Puts Dropout and BatchNorm layers in test mode (inactive even inside
-- a gradient call), as Flux's testmode!; `flag` false means train mode,
-- "auto" the default. Returns the model.
function walk.testmode(model, flag)
  return set_mode(model, mode_of(flag, "test", "train", "testmode"), "testmode")
end

-- Summary -------------------------------------------------------------

local function pad_to(s, width)
  return s .. (" "):rep(width - utf8.len(s))
end

local function layer_text(l)
  if base.is_chain(l) then return "Chain(" end
  return base.layer_text(l)
end

-- A layer's output in the summary: a tensor's sizes, else its Lua type
-- (a function in a Chain may return anything).
local function output_text(y)
  if base.is_tensor(y) then return base.shape(y) end
  return "(" .. type(y) .. ")"
end

-- Rows {layer, output size, parameters} from running the model once.
local function summary_rows(model, x)
  local rows = {}
  local function visit(_, l, y, depth)
    local indent = ("  "):rep(depth)
    if base.is_chain(l) then
      if y == nil then rows[#rows + 1] = {indent .. "Chain(", "", ""} end
      if y ~= nil then rows[#rows + 1] = {indent .. ")", output_text(y), ""} end
      return
    end
    local n = base.numel_of(walk.params_shown(l))
    rows[#rows + 1] = {indent .. layer_text(l), output_text(y), n > 0 and base.count_string(n) or ""}
  end
  if base.is_chain(model) then
    model:each_output(x, visit)
  else
    visit(1, model, model(x), 0)
  end
  return rows
end

-- Runs f(model, x) with the model in test mode (so BatchNorm statistics
-- stay as they are) and restores the modes afterwards.
local function in_test_mode(fname, f, model, x)
  local saved = {}
  each_layer(table.pack(model), function(l)
    if l.set_mode then saved[#saved + 1] = {l, l.mode} end
  end, fname)
  -- closed however f ends, an interrupt between two lines included
  local _ <close> = core.closer(function()
    for _, s in ipairs(saved) do s[1]:set_mode(s[2]) end
  end)
  set_mode(model, "test", fname)
  local ok, result = pcall(f, model, x)
  if not ok then errors.relocate(result) end
  return result
end

-- The input of zeros; a tensor of those sizes that cannot be made is
-- named by fname (the model's own errors, later, keep their names).
local function zeros_of(fname, sizes)
  if type(sizes) ~= "table" then
    errors.raise(fname .. ": input sizes must be a table such as {28, 28, 1, 1}")
  end
  return errors.call_renamed(fname, "zeros", core.zeros, sizes)
end

local function format_table(rows)
  local widths = {0, 0}
  for _, r in ipairs(rows) do
    for c = 1, 2 do widths[c] = math.max(widths[c], utf8.len(r[c])) end
  end
  local lines = {}
  for i, r in ipairs(rows) do
    local line = pad_to(r[1], widths[1] + 2) .. pad_to(r[2], widths[2] + 2) .. r[3]
    lines[i] = line:gsub("%s+$", "")
  end
  return table.concat(lines, "\n")
end

--- A table of the model's layers with the output size of each for an
-- input of the given sizes (the model runs once on zeros, in test mode),
-- their parameter counts and the total, e.g. for the notebook's model
-- and {28, 28, 1, 1}: "... Dense(288 => 10)  10×1  2_890 ...".
-- @treturn string the table (print it)
function walk.summary(model, sizes)
  local x = zeros_of("summary", sizes)
  local rows = {{"Layer", "Output size", "Parameters"}, {"input", base.shape(x), ""}}
  for _, r in ipairs(in_test_mode("summary", summary_rows, model, x)) do rows[#rows + 1] = r end
  local ps = walk.params(model)
  rows[#rows + 1] = {("Total: %d arrays, %s parameters"):format(#ps, base.count_string(base.numel_of(ps))), "", ""}
  return format_table(rows)
end

--- The sizes of the model's output for an input of the given sizes, as
-- Flux's outputsize: the model runs once on zeros, in test mode.
-- @usage cnn.outputsize(model, {28, 28, 1, 1}) --> {10, 1}
-- @treturn table the sizes
function walk.outputsize(model, sizes)
  local y = in_test_mode("outputsize", function(m, x) return m(x) end, model,
    zeros_of("outputsize", sizes))
  if not base.is_tensor(y) then
    errors.raise(("outputsize: the model returned a %s, not a tensor"):format(type(y)))
  end
  return y:size()
end

return walk
