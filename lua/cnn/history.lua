--- A training history: what cnn.train saw, step by step. The loss of each
-- step with its pass number, and each number a callback returned in a
-- table ({accuracy = 0.97}) under its name, with the step it came at.
-- @module cnn.history

local argcheck = require "cnn.argcheck"

local History = {}
History.__name = "History"

local function is_history(h)
  return getmetatable(h) == History
end

--- An empty history (cnn.train makes and returns one).
-- @function History
-- @treturn History
-- @usage local h = cnn.History()
-- cnn.train(loss, ps, loader, opt, {history = h})
local function new()
  local h = {
    _names = {"loss"},
    _series = {loss = {steps = {}, values = {}}},
    _passes = {},
    _last_step = 0,
    _last_pass = 0,
  }
  return setmetatable(h, History)
end

-- The series `name`, created empty on first use.
local function series_of(h, name)
  local s = h._series[name]
  if s == nil then
    s = {steps = {}, values = {}}
    h._series[name] = s
    h._names[#h._names + 1] = name
  end
  return s
end

local function push(s, step, value)
  s.steps[#s.steps + 1] = step
  s.values[#s.values + 1] = value
end

--- Records the loss of a step and its pass.
function History:record_loss(step, pass, loss)
  push(self._series.loss, step, loss)
  self._passes[#self._passes + 1] = pass
  self._last_step, self._last_pass = step, pass
end

-- Names a history keeps for itself: a callback cannot record under them.
local reserved = {loss = true, steps = true, passes = true, values = true, steps_of = true,
  names = true, last_step = true, last_pass = true}

--- Records what a callback returned at `step`: each number of a table
-- under its name; anything else (nil, a throttled call) is not recorded.
function History:record_callback(fname, step, result)
  if type(result) ~= "table" or getmetatable(result) ~= nil then return end
  local names = {}
  for k, v in pairs(result) do
    if type(k) == "string" and type(v) == "number" then
      if reserved[k] or k:sub(1, 1) == "_" then
        argcheck.raise(("%s: a callback returned {%s = %s}, but the history keeps %q for itself; "
          .. "name it otherwise"):format(fname, k, argcheck.describe(v), k))
      end
      names[#names + 1] = k
    end
  end
  table.sort(names)
  for _, k in ipairs(names) do push(series_of(self, k), step, result[k]) end
end

--- The values recorded under `name` (a Lua array of numbers, a copy),
-- or nil when nothing was.
-- @function History:values
-- @tparam string name "loss", or a name a callback returned
-- @treturn {number,...}
-- @usage local acc = h:values("accuracy")
function History:values(name)
  local s = self._series[name]
  if s == nil then return nil end
  return table.move(s.values, 1, #s.values, 1, {})
end

--- The steps at which `name` was recorded (a Lua array, a copy), or nil.
-- @function History:steps_of
-- @tparam string name "loss", or a name a callback returned
-- @treturn {integer,...}
-- @usage local at = h:steps_of("accuracy")
function History:steps_of(name)
  local s = self._series[name]
  if s == nil then return nil end
  return table.move(s.steps, 1, #s.steps, 1, {})
end

--- The names of the recorded series, "loss" first, then in the order
-- they first came.
-- @function History:names
-- @treturn {string,...}
-- @usage for _, name in ipairs(h:names()) do print(name, #h[name]) end
function History:names()
  return table.move(self._names, 1, #self._names, 1, {})
end

--- The step and the pass last recorded (0, 0 for an empty history); a
-- cnn.train given this history goes on from them.
-- @function History:last_step
-- @treturn integer the step
-- @treturn integer the pass
-- @usage local step, pass = h:last_step()
function History:last_step()
  return self._last_step, self._last_pass
end

--- Number of steps recorded.
function History:__len()
  return #self._series.loss.values
end

--- `h.loss` and `h.accuracy` are the values (arrays of numbers), `h.steps`
-- the loss's steps and `h.passes` the pass of each step.
function History:__index(key)
  local method = rawget(History, key)
  if method ~= nil and type(key) == "string" and key:sub(1, 2) ~= "__" then return method end
  if key == "steps" then return self:steps_of("loss") end
  if key == "passes" then return table.move(self._passes, 1, #self._passes, 1, {}) end
  return self:values(key)
end

function History:__tostring()
  local steps = #self._series.loss.values
  return ("History(%d step%s, %d pass%s: %s)"):format(steps, steps == 1 and "" or "s",
    self._last_pass, self._last_pass == 1 and "" or "es", table.concat(self._names, ", "))
end

--- The history given as train's `history` option, or a new one.
local function check(fname, h)
  if h == nil then return new() end
  if not is_history(h) then argcheck.fail(fname, "history", "a History such as cnn.History()", h) end
  return h
end

return {
  History = new,
  is_history = is_history,
  check = check,
}
