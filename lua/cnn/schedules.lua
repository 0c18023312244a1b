--- Schedules, as ParameterSchedulers.jl's: values of a hyperparameter by
-- step. A schedule `s` is called with the 1-based step `t` and gives the
-- value, `s(t)`; it prints as the call that makes it. Give one to an
-- optimiser in place of its learning rate (`cnn.ADAM(cnn.Cos(1e-3, 1e-5,
-- 100))`) or attach it with `cnn.schedule(opt, {eta = s})`; cnn.update
-- (hence cnn.train) then sets `opt.eta = s(t)` before each step.
-- @module cnn.schedules

local argcheck = require "cnn.argcheck"

local schedules = {}

-- The metatable of each kind, by itself.
local kinds = {}

local function number_string(v)
  return (("%g"):format(v):gsub("e([-+])0*(%d)", "e%1%2"))
end

-- Makes a kind: `value(s, t)` and `args(s)`, the list printed.
local function kind(name, value, args)
  local mt = {__name = name}
  mt.__call = function(s, t)
    argcheck.integer(name, "t", t, 1)
    return value(s, t)
  end
  mt.__tostring = function(s)
    local parts = {}
    for i, v in ipairs(args(s)) do
      parts[i] = type(v) == "number" and number_string(v) or tostring(v)
    end
    return name .. "(" .. table.concat(parts, ", ") .. ")"
  end
  kinds[mt] = true
  return mt
end

--- Whether x is a schedule.
-- @function is_schedule
-- @param x any value
-- @treturn boolean
-- @usage cnn.is_schedule(cnn.Exp(0.1, 0.9)) --> true
function schedules.is_schedule(x)
  return kinds[getmetatable(x)] == true
end

local StepMT = kind("Step", function(s, t)
  return s.lambda * s.gamma ^ ((t - 1) // s.step_size)
end, function(s) return {s.lambda, s.gamma, s.step_size} end)

--- Step(λ, γ, step_size): λ·γ^⌊(t - 1)/step_size⌋, λ decayed by γ every
-- step_size steps (ParameterSchedulers.jl's Step with one step size).
-- @function Step
-- @tparam number lambda the first value
-- @tparam number gamma the decay, in [0, inf)
-- @tparam integer step_size steps between decays, >= 1
-- @return the schedule
-- @usage local s = cnn.Step(0.1, 0.5, 10) -- s(1) .. s(10) = 0.1, s(11) = 0.05
function schedules.Step(...)
  argcheck.arity("Step", 3, "lambda, gamma, step_size", ...)
  local lambda, gamma, step_size = ...
  return setmetatable({
    lambda = argcheck.number("Step", "lambda", lambda),
    gamma = argcheck.number("Step", "gamma", gamma, "[0, inf)"),
    step_size = argcheck.integer("Step", "step_size", step_size, 1),
  }, StepMT)
end

local ExpMT = kind("Exp", function(s, t)
  return s.lambda * s.gamma ^ (t - 1)
end, function(s) return {s.lambda, s.gamma} end)

--- Exp(λ, γ): λ·γ^(t - 1), exponential decay (ParameterSchedulers.jl's Exp).
-- @function Exp
-- @tparam number lambda the first value
-- @tparam number gamma the decay per step, in [0, inf)
-- @return the schedule
-- @usage local s = cnn.Exp(0.1, 0.9) -- s(2) = 0.09
function schedules.Exp(...)
  argcheck.arity("Exp", 2, "lambda, gamma", ...)
  local lambda, gamma = ...
  return setmetatable({
    lambda = argcheck.number("Exp", "lambda", lambda),
    gamma = argcheck.number("Exp", "gamma", gamma, "[0, inf)"),
  }, ExpMT)
end

local CosMT = kind("Cos", function(s, t)
  local r = s.restart and (t - 1) % s.period or math.min(t - 1, s.period)
  return s.l1 + (s.l0 - s.l1) * (1 + math.cos(math.pi * r / s.period)) / 2
end, function(s) return {s.l0, s.l1, s.period, s.restart} end)

--- Cos(λ0, λ1, period [, restart = true]): cosine annealing from λ0 to
-- λ1 over `period` steps, λ1 + (λ0 - λ1)(1 + cos(π r/period))/2 with
-- r = (t - 1) mod period when restarting (ParameterSchedulers.jl's
-- CosAnneal: back to λ0 at t = period + 1), else r = min(t - 1, period)
-- (staying at λ1).
-- @function Cos
-- @tparam number l0 the value at t = 1
-- @tparam number l1 the value approached at the end of a period
-- @tparam integer period steps per period, >= 1
-- @tparam[opt=true] boolean restart whether to start again after a period
-- @return the schedule
-- @usage local opt = cnn.ADAM(cnn.Cos(1e-3, 1e-5, 100))
function schedules.Cos(...)
  argcheck.arity("Cos", 4, "l0, l1, period, restart", ...)
  local l0, l1, period, restart = ...
  return setmetatable({
    l0 = argcheck.number("Cos", "l0", l0),
    l1 = argcheck.number("Cos", "l1", l1),
    period = argcheck.integer("Cos", "period", period, 1),
    restart = argcheck.optional_boolean("Cos", "restart", restart, true),
  }, CosMT)
end

local LinearMT = kind("Linear", function(s, t)
  return s.l0 + (s.l1 - s.l0) * math.min(t - 1, s.steps) / s.steps
end, function(s) return {s.l0, s.l1, s.steps} end)

--- Linear(λ0, λ1, steps): a linear ramp, λ0 + (λ1 - λ0)·min(t - 1,
-- steps)/steps: λ0 at t = 1, λ1 from t = steps + 1 on.
-- @function Linear
-- @tparam number l0 the first value
-- @tparam number l1 the last value
-- @tparam integer steps the length of the ramp, >= 1
-- @return the schedule
-- @usage local s = cnn.Linear(0, 1e-3, 100)
function schedules.Linear(...)
  argcheck.arity("Linear", 3, "l0, l1, steps", ...)
  local l0, l1, steps = ...
  return setmetatable({
    l0 = argcheck.number("Linear", "l0", l0),
    l1 = argcheck.number("Linear", "l1", l1),
    steps = argcheck.integer("Linear", "steps", steps, 1),
  }, LinearMT)
end

local WarmupMT = kind("Warmup", function(s, t)
  if t <= s.steps then return s.schedule(1) * t / s.steps end
  return s.schedule(t - s.steps)
end, function(s) return {s.schedule, s.steps} end)

--- Warmup(schedule, steps): a linear warm-up before a schedule:
-- schedule(1)·t/steps for t <= steps, then schedule(t - steps).
-- @function Warmup
-- @param schedule a schedule (cnn.Cos(...), ...)
-- @tparam integer steps the length of the warm-up, >= 1
-- @return the schedule
-- @usage local opt = cnn.ADAM(cnn.Warmup(cnn.Cos(1e-3, 1e-5, 1000), 100))
function schedules.Warmup(...)
  argcheck.arity("Warmup", 2, "schedule, steps", ...)
  local schedule, steps = ...
  if not schedules.is_schedule(schedule) then
    argcheck.fail("Warmup", "schedule", "a schedule (cnn.Cos(...), cnn.Exp(...), ...)", schedule)
  end
  return setmetatable({schedule = schedule, steps = argcheck.integer("Warmup", "steps", steps, 1)},
    WarmupMT)
end

local function cos_between(a, b, x)
  return b + (a - b) * (1 + math.cos(math.pi * x)) / 2
end

local OneCycleMT = kind("OneCycle", function(s, t)
  local up = math.max(1, math.ceil(s.nsteps * s.percent_start))
  if t <= up then return cos_between(s.startval, s.maxval, (t - 1) / up) end
  local down = math.max(1, s.nsteps - up)
  return cos_between(s.maxval, s.endval, math.min(t - 1 - up, down) / down)
end, function(s) return {s.nsteps, s.maxval} end)

--- OneCycle(nsteps, maxval [, options]): the one-cycle policy in two
-- cosine halves. With up = max(1, ⌈nsteps·percent_start⌉) and
-- c(a, b, x) = b + (a - b)(1 + cos(πx))/2: c(startval, maxval, (t - 1)/up)
-- for t <= up, then c(maxval, endval, min(t - 1 - up, down)/down) with
-- down = max(1, nsteps - up), endval from t = nsteps + 1 on.
-- @function OneCycle
-- @tparam integer nsteps the length of the cycle, >= 1
-- @tparam number maxval the peak value
-- @tparam[opt] table options startval = maxval/25, endval = maxval/1e5,
--   percent_start = 0.25 (the rising fraction, in (0, 1))
-- @return the schedule
-- @usage local opt = cnn.Descent(cnn.OneCycle(1000, 0.1))
function schedules.OneCycle(...)
  argcheck.arity("OneCycle", 3, "nsteps, maxval, options", ...)
  local nsteps, maxval, options = ...
  argcheck.integer("OneCycle", "nsteps", nsteps, 1)
  argcheck.number("OneCycle", "maxval", maxval)
  options = argcheck.options("OneCycle", options, {startval = true, endval = true, percent_start = true})
  return setmetatable({
    nsteps = nsteps,
    maxval = maxval,
    startval = argcheck.optional_number("OneCycle", "options.startval", options.startval, maxval / 25),
    endval = argcheck.optional_number("OneCycle", "options.endval", options.endval, maxval / 1e5),
    percent_start = argcheck.optional_number("OneCycle", "options.percent_start", options.percent_start,
      0.25, "(0, 1)"),
  }, OneCycleMT)
end

return schedules
