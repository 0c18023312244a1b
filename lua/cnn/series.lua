--- The arguments of cnn.plot, cnn.plotstring and cnn.savefig: series to
-- draw, then an options table. A series is a History (each of its
-- recorded series, against the steps), a 1-D tensor or a Lua array of
-- numbers (against 1, 2, ...), a schedule (its values at steps 1 to the
-- option `steps`, 100 by default), or a table of those by name
-- ({loss = h.loss, accuracy = h.accuracy}, drawn in name order).
-- @module cnn.series

local argcheck = require "cnn.argcheck"
local history = require "cnn.history"
local schedules = require "cnn.schedules"

local series = {}

local WHAT = "a History, a 1-D tensor, an array of numbers, a schedule or a table of them by name"

local function is_finite(v)
  return v == v and v ~= math.huge and v ~= -math.huge
end

-- The numbers of a 1-D tensor, an array of numbers or a schedule (its
-- values at steps 1..steps), or nil.
local function numbers_of(v, steps)
  if schedules.is_schedule(v) then
    local out = {}
    for t = 1, steps do out[t] = v(t) end
    return out
  end
  if argcheck.is_tensor(v) then
    if v:isfreed() or v:ndims() ~= 1 then return nil end
    return v:totable()
  end
  if not argcheck.is_list(v) or #v == 0 then return nil end
  for i = 1, #v do
    if type(v[i]) ~= "number" then return nil end
  end
  return v
end

local function count(xs)
  local out = {}
  for i = 1, #xs do out[i] = i end
  return out
end

-- {name=, x=, y=, skipped=}: skipped counts the NaN and infinite values.
local function make(name, x, y)
  local skipped = 0
  for i = 1, #y do
    if not is_finite(y[i]) then skipped = skipped + 1 end
  end
  return {name = name, x = x, y = y, skipped = skipped}
end

-- Whether t is a table of series by name.
local function is_named(t)
  if type(t) ~= "table" or getmetatable(t) ~= nil or next(t) == nil then return false end
  for k in pairs(t) do
    if type(k) ~= "string" then return false end
  end
  return true
end

local function add(fname, out, v, what, steps)
  if history.is_history(v) then
    for _, name in ipairs(v:names()) do
      if #v:values(name) > 0 then out[#out + 1] = make(name, v:steps_of(name), v:values(name)) end
    end
    if #v == 0 then argcheck.raise(("%s: %s is an empty History"):format(fname, what)) end
    return
  end
  local ys = numbers_of(v, steps)
  if ys then
    out[#out + 1] = make(nil, count(ys), ys)
    return
  end
  if is_named(v) then
    local names = {}
    for k in pairs(v) do names[#names + 1] = k end
    table.sort(names)
    for _, k in ipairs(names) do
      local y = numbers_of(v[k], steps)
      if not y then
        argcheck.fail(fname, what .. "." .. k, "a 1-D tensor, an array of numbers or a schedule", v[k])
      end
      out[#out + 1] = make(k, count(y), y)
    end
    return
  end
  argcheck.fail(fname, what, WHAT, v)
end

--- Whether v is an options table: plain, and every key one of `known`.
local function is_options(v, known)
  if type(v) ~= "table" or getmetatable(v) ~= nil or argcheck.is_list(v) and #v > 0 then return false end
  for k in pairs(v) do
    if not known[k] then return false end
  end
  return true
end

--- The series and the options of a call f(series..., options): a list
-- of {name=, x=, y=, skipped=} (unnamed series named "y1", "y2", ...,
-- or "y" alone) and the options table ({} when none).
function series.parse(fname, known, ...)
  local n = select("#", ...)
  local opts = {}
  if n >= 2 and is_options(select(n, ...), known) then
    opts = select(n, ...)
    n = n - 1
  end
  if n == 0 then
    argcheck.raise(("%s: expected one or more series (%s)"):format(fname, WHAT))
  end
  local steps = 100
  if opts.steps ~= nil then steps = argcheck.integer(fname, "steps", opts.steps, 1, 1000000) end
  local out = {}
  for i = 1, n do
    add(fname, out, (select(i, ...)), n == 1 and "the series" or ("series %d"):format(i), steps)
  end
  local unnamed = 0
  for _, s in ipairs(out) do
    if s.name == nil then unnamed = unnamed + 1 end
  end
  local k = 0
  for _, s in ipairs(out) do
    if s.name == nil then
      k = k + 1
      s.name = unnamed == 1 and "y" or ("y%d"):format(k)
    end
  end
  return out, opts
end

series.is_finite = is_finite

--- The x and y ranges over all the series' finite points, each widened
-- when it is a single value; nil when no point is finite.
function series.ranges(list)
  local xmin, xmax, ymin, ymax = math.huge, -math.huge, math.huge, -math.huge
  for _, s in ipairs(list) do
    for i = 1, #s.y do
      if is_finite(s.y[i]) then
        xmin, xmax = math.min(xmin, s.x[i]), math.max(xmax, s.x[i])
        ymin, ymax = math.min(ymin, s.y[i]), math.max(ymax, s.y[i])
      end
    end
  end
  if xmin > xmax then return nil end
  if xmin == xmax then xmin, xmax = xmin - 1, xmax + 1 end
  if ymin == ymax then
    local d = math.abs(ymin) > 0 and math.abs(ymin) * 0.1 or 1
    ymin, ymax = ymin - d, ymax + d
  end
  return xmin, xmax, ymin, ymax
end

--- A number as a tick label: integers as such, others with 4 digits.
function series.tick_text(v)
  if v == math.floor(v) and math.abs(v) < 1e7 then return ("%d"):format(math.floor(v)) end
  local s = ("%.4g"):format(v)
  return s
end

--- Round tick values in [lo, hi], about `n` of them (steps of 1, 2 or 5
-- times a power of ten), and their labels, written with as many decimals
-- as the step needs.
function series.nice_ticks(lo, hi, n)
  local raw = (hi - lo) / n
  local magnitude = 10 ^ math.floor(math.log(raw, 10))
  local step = 10 * magnitude
  for _, m in ipairs({1, 2, 5}) do
    if raw <= m * magnitude then step = m * magnitude; break end
  end
  local decimals = math.max(0, -math.floor(math.log(step, 10) + 1e-9))
  local values, labels = {}, {}
  for k = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9) do
    local v = k * step
    values[#values + 1] = v
    labels[#labels + 1] = ("%." .. decimals .. "f"):format(v)
  end
  return values, labels
end

--- The legend text of a series: its name, and the points skipped.
function series.legend(s)
  if s.skipped == 0 then return s.name end
  return ("%s (%d NaN/inf point%s skipped)"):format(s.name, s.skipped, s.skipped == 1 and "" or "s")
end

return series
