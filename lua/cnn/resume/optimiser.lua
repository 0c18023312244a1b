--- An optimiser in a checkpoint: its kind ("opt"), its hyperparameters
-- ("opt.hyper.eta", a pair as "opt.hyper.beta.1" and ".2", since a
-- schedule may have changed them) and its state per parameter, numbered
-- as in cnn.params(model): tensors ("opt.3.m") and numbers ("opt.3.t",
-- Adam's step count) in the order of the model's parameters.
-- @module cnn.resume.optimiser

local kind = require "cnn.optimisers.kind"
local values = require "cnn.resume.values"
local argcheck = require "cnn.argcheck"

local part = {}

--- Adds opt's entries for the parameters ps to `tensors` and `meta`.
function part.save(fname, opt, ps, tensors, meta)
  local spec = kind.declaration(opt)
  meta.opt = values.encode(spec.name)
  for _, h in ipairs(spec.hyperparameters) do
    local v = opt[h[1]]
    if type(v) == "table" then
      for j, x in ipairs(v) do meta[("opt.hyper.%s.%d"):format(h[1], j)] = values.encode(x) end
    else
      meta["opt.hyper." .. h[1]] = values.encode(v)
    end
  end
  for i, p in ipairs(ps) do
    for k, v in pairs(opt.state[p] or {}) do
      local name = ("opt.%d.%s"):format(i, k)
      if argcheck.is_tensor(v) then
        tensors[name] = v
      elseif values.storable(v) then
        meta[name] = values.encode(v)
      else
        argcheck.fail(fname, ("the optimiser's state %s of parameter %d"):format(k, i),
          "a tensor or a number", v)
      end
    end
  end
end

-- The hyperparameters in the file, checked by the kind's own rules.
local function read_hyper(entries, spec)
  local hyper = {}
  for _, h in ipairs(spec.hyperparameters) do
    local name = "opt.hyper." .. h[1]
    local v
    if type(h[2]) == "table" then
      v = {}
      for j = 1, #h[2] do v[j] = entries:value(("%s.%d"):format(name, j)) end
    else
      v = entries:value(name)
    end
    hyper[h[1]] = kind.rules[h[3]](entries.fname, "entry " .. name, v)
  end
  return hyper
end

--- Checks the optimiser's entries against opt and ps; returns the
-- function that restores them (changing nothing before it is called).
function part.check(entries, opt, ps)
  local spec = kind.declaration(opt)
  local saved = entries:value("opt")
  if saved ~= spec.name then
    entries:fail("opt", ("holds the state of a %s, but opt is a %s"):format(tostring(saved), spec.name))
  end
  local hyper = read_hyper(entries, spec)
  local states = {}
  for _, found in ipairs(entries:matching("^opt%.")) do
    local name = found[1]
    local i, key = name:match("^opt%.(%d+)%.(.+)$")
    i = tonumber(i)
    if not i or i < 1 or i > #ps then
      entries:fail(name, ("is not the state of one of the model's %d parameters"):format(#ps))
    end
    local v = found[2] == "tensor" and entries:tensor(name, ps[i]) or entries:value(name)
    states[i] = states[i] or {}
    states[i][key] = v
  end
  return function()
    for k, v in pairs(hyper) do opt[k] = v end
    for i, p in ipairs(ps) do opt.state[p] = states[i] end
  end
end

return part
