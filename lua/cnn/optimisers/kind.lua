--- What the optimisers share. A kind (ADAM, Descent, ...) is declared by
-- its name, its hyperparameters (name, default, rule) and its step; from
-- that this module makes its constructor, checks its hyperparameters (when
-- it is made, and at every update, since `opt.eta` may be changed between
-- steps), prints it as the call that makes it, and applies it to
-- parameters and gradients (`cnn.update`).
--
-- An optimiser is a table of its hyperparameters and `state` (per
-- parameter tensor, weak keys); its metatable, one per kind, holds no
-- methods.
-- @module cnn.optimisers.kind

local argcheck = require "cnn.argcheck"
local errors = require "cnn.errors"
local schedules = require "cnn.schedules"

local is_tensor, is_number = argcheck.is_tensor, argcheck.is_number

local kind = {}

-- The declaration of each kind, by its metatable.
local specs = {}

local function pair_of_fractions(v)
  if type(v) ~= "table" or getmetatable(v) ~= nil then return false end
  local count = 0
  for _ in pairs(v) do count = count + 1 end
  return count == 2 and is_number(v[1], "[0, 1)") and is_number(v[2], "[0, 1)")
end

--- Checks of a hyperparameter, by the name a declaration gives: each
-- returns the value to keep or raises.
kind.rules = {
  rate = function(fname, what, v) return argcheck.number(fname, what, v, "[0, inf)") end,
  fraction = function(fname, what, v) return argcheck.number(fname, what, v, "[0, 1)") end,
  positive = function(fname, what, v) return argcheck.number(fname, what, v, "(0, inf)") end,
  norm = function(fname, what, v)
    if v == math.huge then return v end
    return argcheck.number(fname, what, v, "(0, inf)")
  end,
  betas = function(fname, what, v)
    if pair_of_fractions(v) then return {v[1], v[2]} end
    argcheck.fail(fname, what, "a pair of numbers in [0, 1)", v)
  end,
}

local function value_string(v)
  if type(v) == "table" and getmetatable(v) == nil then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = value_string(x) end
    return "(" .. table.concat(parts, ", ") .. ")"
  end
  if type(v) ~= "number" then return argcheck.describe(v) end
  return (("%g"):format(v):gsub("e([-+])0*(%d)", "e%1%2"))
end

local function same_value(a, b)
  if type(a) == "table" and type(b) == "table" then
    return a[1] == b[1] and a[2] == b[2] and #a == #b
  end
  return a == b
end

-- As the constructor call that makes it: "ADAM(0.001, (0.9, 0.999))";
-- trailing hyperparameters marked `omit_default` are left out while
-- they have their default.
local function describe(o)
  local spec = specs[getmetatable(o)]
  local hyper = spec.hyperparameters
  local last = #hyper
  while last > 0 and hyper[last].omit_default and same_value(o[hyper[last][1]], hyper[last][2]) do
    last = last - 1
  end
  local parts = {}
  local scheduled = rawget(o, "schedules") or {}
  for i = 1, last do
    local field = hyper[i][1]
    parts[i] = scheduled[field] and tostring(scheduled[field]) or value_string(o[field])
  end
  return spec.name .. "(" .. table.concat(parts, ", ") .. ")"
end

--- Makes a kind from its declaration: `name`, `step(o, p, g, state,
-- pre)` (updates p in place, pre the gradient transforms of a chain
-- before it, a list for cnn.core's steps, or nil) and `hyperparameters`, a list of {field, default,
-- rule name} in the order of the constructor's arguments, `omit_default
-- = true` on those printed only when they differ from their default.
-- @return a function of the name the user calls the constructor by,
-- giving the constructor
function kind.define(spec)
  local mt = {__name = spec.name, __tostring = describe}
  specs[mt] = spec
  local fields = {}
  for i, h in ipairs(spec.hyperparameters) do fields[i] = h[1] end
  local names = table.concat(fields, ", ")
  return function(fname)
    return function(...)
      argcheck.arity(fname, #fields, names, ...)
      local o = {state = setmetatable({}, {__mode = "k"})}
      for i, h in ipairs(spec.hyperparameters) do
        local v = select(i, ...)
        if v == nil then v = h[2] end
        if schedules.is_schedule(v) and type(h[2]) == "number" then
          o.schedules = o.schedules or {}
          o.schedules[h[1]], o.schedule_every, o.schedule_t = v, "step", 0
          v = v(1)
        end
        o[h[1]] = kind.rules[h[3]](fname, h[1], v)
      end
      return setmetatable(o, mt)
    end
  end
end

--- The declaration of optimiser x's kind (name, hyperparameters, step),
-- or nil.
function kind.declaration(x)
  return specs[getmetatable(x)]
end

--- Registers a kind made otherwise than by kind.define (OptimiserChain):
-- its spec has `name`, `step`, `hyperparameters` (may be empty) and may
-- have `check(fname, opt)` (run at every update), `members(opt)` (the
-- optimisers it holds, for schedules) and `__tostring`.
-- @return its metatable
function kind.register(spec)
  local mt = {__name = spec.name, __tostring = spec.__tostring or describe}
  specs[mt] = spec
  return mt
end

--- Whether x is an optimiser.
function kind.is_optimiser(x)
  return specs[getmetatable(x)] ~= nil
end

--- The declaration of x's kind, or nil.
function kind.spec_of(x)
  return specs[getmetatable(x)]
end

--- The declaration of a kind whose only state is a velocity `v` per
-- parameter (zeros at first), stepped by `core_step(p, g, v, eta, rho)`:
-- Momentum and Nesterov.
function kind.velocity(core, name, default_eta, core_step)
  return {
    name = name,
    hyperparameters = {{"eta", default_eta, "rate"}, {"rho", 0.9, "fraction"}},
    step = function(o, p, g, s, pre)
      s.v = s.v or core.zeros(p:size())
      core_step(p, g, s.v, o.eta, o.rho, pre)
    end,
  }
end

--- Completes the declaration of a gradient transform (ClipGrad, ClipNorm,
-- WeightDecay): `decl.transform(o, p, g, pre)` appends its entries to
-- the list `pre` of transforms before it (as cnn.core's steps take it).
-- Used alone, as in Optimisers.jl, it is a rule of its own: p -= the
-- transformed gradient.
function kind.transform(core, decl)
  decl.step = function(o, p, g, _, pre)
    local list = table.move(pre or {}, 1, #(pre or {}), 1, {})
    decl.transform(o, p, g, list)
    core.descent_step(p, g, 1, list)
  end
  return decl
end

local NO_BETA = {0, 0}

--- Completes the declaration of a rule stepped by `core.rule_step`
-- (src/core/optimizer_rules.h): `decl.rule` is its C name ("adagrad",
-- ...) and `decl.states` lists its state tensors, true for one that
-- starts at eps, false for zeros. The step count `t` is kept per
-- parameter; fields a rule lacks go to C as eta 1, beta (0, 0), eps 1,
-- rho 0.
function kind.fused(core, decl)
  local n = #decl.states
  local has = {}
  for _, h in ipairs(decl.hyperparameters) do has[h[1]] = true end
  decl.step = function(o, p, g, s, pre)
    if not s.tensors then
      s.tensors, s.t = {}, 0
      for i = 1, n do
        local z = core.zeros(p:size())
        if decl.states[i] then core.fill(z, o.eps) end
        s.tensors[i] = z
      end
    end
    s.t = s.t + 1
    local beta = has.beta and o.beta or NO_BETA
    core.rule_step(decl.rule, p, g, s.tensors, has.eta and o.eta or 1, beta[1], beta[2],
      has.eps and o.eps or 1, has.rho and o.rho or 0, s.t, pre)
  end
  return decl
end

-- Checks the hyperparameters of opt, which may have been changed since it
-- was made; returns its declaration.
local function checked_spec(fname, opt)
  local spec = specs[getmetatable(opt)]
  if spec == nil then
    errors.raise(("%s: expected an optimiser, got %s"):format(fname, type(opt)))
  end
  for _, h in ipairs(spec.hyperparameters) do
    kind.rules[h[3]](fname, "opt." .. h[1], rawget(opt, h[1]))
  end
  if spec.check then spec.check(fname, opt) end
  return spec
end

local function state_of(opt, p)
  local s = opt.state[p]
  if not s then
    s = {}
    opt.state[p] = s
  end
  return s
end

local function step(spec, opt, p, g)
  spec.step(opt, p, g:contiguous(), state_of(opt, p), nil)
end

-- One parameter's step; `what` names p in messages. The C step checks
-- that the sizes agree.
local function apply(fname, what, spec, opt, p, g)
  if not is_tensor(g) then argcheck.fail(fname, "the gradient of " .. what, "a tensor", g) end
  errors.call_named(fname, step, spec, opt, p, g)
end

-- The keys of gs must be tensors (gradients keyed by parameter); a list
-- of gradients in the order of ps is the usual mistake.
local function check_gradient_keys(fname, gs)
  for k in pairs(gs) do
    if not is_tensor(k) then
      errors.raise(("%s: gs must be keyed by the tensors of ps, as cnn.gradient(f, ps) returns it, "
        .. "got the key %s"):format(fname, argcheck.describe(k)))
    end
  end
end

--- Calls f on opt and on the optimisers it holds (a chain's members),
-- depth first.
local function each_optimiser(opt, f)
  f(opt)
  local spec = specs[getmetatable(opt)]
  if spec and spec.members then
    for _, m in ipairs(spec.members(opt)) do each_optimiser(m, f) end
  end
end

kind.each_optimiser = each_optimiser

--- Advances by one the schedules of opt (and of a chain's members) that
-- count `unit` ("step" or "pass"), setting each scheduled field to its
-- schedule's value at the new count. Returns how many were advanced.
function kind.advance(opt, unit)
  local advanced = 0
  each_optimiser(opt, function(o)
    local scheduled = rawget(o, "schedules")
    if scheduled and o.schedule_every == unit then
      o.schedule_t = o.schedule_t + 1
      for field, s in pairs(scheduled) do o[field] = s(o.schedule_t) end
      advanced = advanced + 1
    end
  end)
  return advanced
end

--- Attaches schedules to the fields of opt (or of a chain's members that
-- have them): `fields` maps a field name to a schedule; `every` is "step"
-- or "pass". Sets each field to its schedule's first value and restarts
-- the count.
function kind.schedule(fname, opt, fields, every)
  if specs[getmetatable(opt)] == nil then
    argcheck.fail(fname, "opt", "an optimiser (cnn.ADAM(), ...)", opt)
  end
  if type(fields) ~= "table" or getmetatable(fields) ~= nil or next(fields) == nil then
    argcheck.fail(fname, "fields", "a table of schedules by field name ({eta = cnn.Exp(0.1, 0.9)})",
      fields)
  end
  for field, s in pairs(fields) do
    if not schedules.is_schedule(s) then
      argcheck.fail(fname, "fields." .. tostring(field), "a schedule (cnn.Cos(...), cnn.Exp(...), ...)", s)
    end
    local found = 0
    each_optimiser(opt, function(o)
      local spec = specs[getmetatable(o)]
      for _, h in ipairs(spec.hyperparameters) do
        if h[1] == field and type(h[2]) == "number" then
          kind.rules[h[3]](fname, "the first value of fields." .. field, s(1))
          o.schedules = rawget(o, "schedules") or {}
          o.schedules[field], o.schedule_every, o.schedule_t = s, every, 0
          o[field] = s(1)
          found = found + 1
        end
      end
    end)
    if found == 0 then
      errors.raise(("%s: %s has no numeric field %s to schedule"):format(fname, tostring(opt),
        argcheck.describe(field)))
    end
  end
  return opt
end

--- cnn.update under the name `fname`: updates `ps` in place from `gs`.
-- Parameters without a gradient in gs are left as they are (as Flux's
-- `nothing` gradients; cnn.gradient gives zeros instead for those the loss
-- did not use); gs with no gradient for any parameter of a non-empty ps
-- is an error.
function kind.update(fname, opt, ps, gs)
  checked_spec(fname, opt)
  if not is_tensor(ps) then
    argcheck.tensor_list(fname, "ps", ps)
    if type(gs) ~= "table" or getmetatable(gs) ~= nil then
      argcheck.fail(fname, "gs", "a table of gradients keyed by parameter (what cnn.gradient(f, ps) returns)", gs)
    end
    check_gradient_keys(fname, gs)
  end
  -- the schedules' values for this step, checked as the fields are
  kind.advance(opt, "step")
  local spec = checked_spec(fname, opt)
  if is_tensor(ps) then
    apply(fname, "p", spec, opt, ps, gs)
    return ps
  end
  local updated = 0
  for i = 1, #ps do
    local p = ps[i]
    local g = gs[p]
    if g ~= nil then
      apply(fname, ("ps[%d]"):format(i), spec, opt, p, g)
      updated = updated + 1
    end
  end
  if updated == 0 and #ps > 0 then
    errors.raise(("%s: gs has no gradient for any of the %d parameters in ps (it must come from "
      .. "cnn.gradient(f, ps) with these ps and a loss that uses them)"):format(fname, #ps))
  end
  return ps
end

return kind
