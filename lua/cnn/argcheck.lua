--- Argument checks for the public functions of the library: each checker
-- returns the value when it is valid, and otherwise raises, at the user's
-- line (cnn.errors), a message in one form for the whole library:
--
--     ADAM: beta must be a pair of numbers in [0, 1), got 9
--
-- that is, the function as the user calls it, the argument, what would be
-- valid and what was given. Constructors check everything; functions
-- called once per training step check only what is cheap to check.
-- @module cnn.argcheck

local errors = require "cnn.errors"
local tensorcheck = require "cnn.tensorcheck"

local argcheck = {}

local is_tensor = tensorcheck.is_tensor
argcheck.is_tensor = is_tensor
argcheck.shape = tensorcheck.shape
argcheck.raise = errors.raise

--- Whether x can be called: a function or a value whose metatable has
-- __call (layers, Chains, loaders).
function argcheck.is_callable(x)
  if type(x) == "function" then return true end
  local mt = getmetatable(x)
  return type(mt) == "table" and rawget(mt, "__call") ~= nil
end

-- "a Dense", "an Int32 tensor".
local function with_article(words)
  return (words:match("^[AEIOUaeiou]") and "an " or "a ") .. words
end

local function number_text(v)
  if v ~= v then return "NaN" end
  if v == math.huge then return "inf" end
  if v == -math.huge then return "-inf" end
  if math.type(v) == "integer" then return ("%d"):format(v) end
  local s = ("%.14g"):format(v)
  -- 288.0 is not 288: a size computed with / is a float
  if not s:find("[.eni]") then s = s .. ".0" end
  return s
end

local function tensor_text(t)
  if t:isfreed() then return "a freed tensor" end
  return with_article(("%s tensor (%s)"):format(t:dtype(), tensorcheck.shape(t)))
end

-- A name a table's metatable gives its kind ("Dense", "DataLoader"), if any;
-- read raw so that describing a value runs none of its code.
local function kind_of(mt)
  if type(mt) ~= "table" then return nil end
  local name = rawget(mt, "__name")
  if type(name) ~= "string" then name = rawget(mt, "name") end
  return type(name) == "string" and name or nil
end

-- Up to 4 numbers, strings or booleans as "{1, 2}"; nil for other tables.
local function short_list_text(t)
  local n = #t
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  if count ~= n or n > 4 then return nil end
  local parts = {}
  for i = 1, n do
    local v = rawget(t, i)
    local kind = type(v)
    if kind == "number" then parts[i] = number_text(v)
    elseif kind == "string" and #v <= 20 then parts[i] = ("%q"):format(v)
    elseif kind == "boolean" then parts[i] = tostring(v)
    else return nil end
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

--- A value as an error message shows what was given: 9, NaN, "fast",
-- nil, a Float32 tensor (2×3), a Dense, {0.9}, a table, a function.
-- Runs no code of the value (no __tostring, no __index).
function argcheck.describe(v)
  local kind = type(v)
  if kind == "number" then return number_text(v) end
  if kind == "string" then
    if #v > 40 then return ("%q…"):format(v:sub(1, 40)) end
    return ("%q"):format(v)
  end
  if kind == "nil" or kind == "boolean" then return tostring(v) end
  if is_tensor(v) then return tensor_text(v) end
  if kind == "table" then
    local mt = getmetatable(v)
    local name = kind_of(mt)
    if name then return with_article(name) end
    if mt == nil then
      local list = short_list_text(v)
      if list then return list end
    end
    return "a table"
  end
  if kind == "thread" then return "a coroutine" end
  return with_article(kind)
end

--- Raises "fname: what must be expected, got <v described>".
function argcheck.fail(fname, what, expected, v)
  errors.raise(("%s: %s must be %s, got %s"):format(fname, what, expected, argcheck.describe(v)))
end

-- Intervals as written in messages, "[0, 1)", "(0, inf)", parsed once.
local intervals = {}

local function parse_bound(text)
  if text == "inf" then return math.huge end
  if text == "-inf" then return -math.huge end
  return assert(tonumber(text), "argcheck: bad interval bound " .. text)
end

local function interval_of(text)
  local iv = intervals[text]
  if iv then return iv end
  local open_lo, lo, hi, open_hi = text:match("^([%[%(])%s*([^,]+),%s*([^%]%)]+)([%]%)])$")
  assert(open_lo, "argcheck: bad interval " .. text)
  iv = {lo = parse_bound(lo), hi = parse_bound(hi), lo_open = open_lo == "(", hi_open = open_hi == ")"}
  if iv.lo == 0 and iv.hi == math.huge then
    iv.words = iv.lo_open and "a positive number" or "a non-negative number"
  else
    iv.words = "a number in " .. text
  end
  intervals[text] = iv
  return iv
end

local function in_interval(v, iv)
  if v ~= v then return false end -- NaN compares false with everything
  if iv.lo_open then
    if v <= iv.lo then return false end
  elseif v < iv.lo then
    return false
  end
  if iv.hi_open then return v < iv.hi end
  return v <= iv.hi
end

--- Whether v is a finite number (not NaN, not ±inf) in the interval, if
-- one is given ("[0, 1)", "(0, inf)", ...).
function argcheck.is_number(v, interval)
  if type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge then return false end
  return interval == nil or in_interval(v, interval_of(interval))
end

--- A finite number, in `interval` if given: "[0, 1)" and "(0, inf)"
-- read as in mathematics ("(0, inf)" is worded "a positive number").
-- @return v
function argcheck.number(fname, what, v, interval)
  if argcheck.is_number(v, interval) then return v end
  argcheck.fail(fname, what, interval and interval_of(interval).words or "a finite number", v)
end

--- number(), or `default` when v is nil.
function argcheck.optional_number(fname, what, v, default, interval)
  if v == nil then return default end
  return argcheck.number(fname, what, v, interval)
end

local function integer_words(min, max)
  if max then return ("an integer in %d..%d"):format(min, max) end
  if min == 1 then return "a positive integer" end
  if min == 0 then return "a non-negative integer" end
  if min then return ("an integer >= %d"):format(min) end
  return "an integer"
end

--- An integer (of Lua's integer subtype) in min..max (either may be nil).
-- @return v
function argcheck.integer(fname, what, v, min, max)
  if math.type(v) == "integer" and (min == nil or v >= min) and (max == nil or v <= max) then
    return v
  end
  argcheck.fail(fname, what, integer_words(min, max), v)
end

--- A boolean, or `default` when v is nil.
function argcheck.optional_boolean(fname, what, v, default)
  if v == nil then return default end
  if type(v) == "boolean" then return v end
  argcheck.fail(fname, what, "true or false", v)
end

--- A string.
-- @return v
function argcheck.string(fname, what, v)
  if type(v) == "string" then return v end
  argcheck.fail(fname, what, "a string", v)
end

local function choice_words(choices)
  local quoted = {}
  for i, c in ipairs(choices) do quoted[i] = type(c) == "string" and ("%q"):format(c) or tostring(c) end
  if #quoted == 1 then return quoted[1] end
  return "one of " .. table.concat(quoted, ", ")
end

--- One of `choices` (a list of strings, or of any values compared with ==).
-- @return v
function argcheck.choice(fname, what, v, choices)
  for _, c in ipairs(choices) do
    if rawequal(v, c) then return v end
  end
  argcheck.fail(fname, what, choice_words(choices), v)
end

--- A function or a callable value; `example` (optional) completes the
-- message: "a function such as cnn.relu".
-- @return v
function argcheck.callable(fname, what, v, example)
  if argcheck.is_callable(v) then return v end
  argcheck.fail(fname, what, example and "a function such as " .. example or "a function", v)
end

local function tensor_words(dtype, ndims)
  local s = dtype and with_article(dtype .. " tensor") or "a tensor"
  if ndims then s = s .. (" of %d dimension%s"):format(ndims, ndims == 1 and "" or "s") end
  return s
end

--- A live tensor, of `dtype` ("Float32", "Int32") and `ndims` dimensions
-- when given.
-- @return v
function argcheck.tensor(fname, what, v, dtype, ndims)
  if is_tensor(v) then
    if not v:isfreed() and (dtype == nil or v:dtype() == dtype) and (ndims == nil or v:ndims() == ndims) then
      return v
    end
  end
  argcheck.fail(fname, what, tensor_words(dtype, ndims), v)
end

--- Whether t is a plain table whose keys are 1..#t.
function argcheck.is_list(t)
  if type(t) ~= "table" or getmetatable(t) ~= nil then return false end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == #t
end

--- A list of tensors (parameters, such as cnn.params(model) gives).
-- @return v
function argcheck.tensor_list(fname, what, v)
  if not argcheck.is_list(v) then
    argcheck.fail(fname, what, "a list of tensors such as cnn.params(model)", v)
  end
  for i = 1, #v do
    if not is_tensor(v[i]) then argcheck.fail(fname, ("%s[%d]"):format(what, i), "a tensor", v[i]) end
  end
  return v
end

--- A list of positive integers (sizes such as {28, 28, 1, 1}), at least
-- one.
-- @return v
function argcheck.sizes(fname, what, v)
  local ok = argcheck.is_list(v) and #v > 0
  for i = 1, ok and #v or 0 do ok = ok and math.type(v[i]) == "integer" and v[i] >= 1 end
  if ok then return v end
  argcheck.fail(fname, what, "a list of positive integers such as {28, 28, 1, 1}", v)
end

local function sorted_names(known)
  local names = {}
  for k in pairs(known) do names[#names + 1] = k end
  table.sort(names)
  return table.concat(names, ", ")
end

--- An option table (nil gives {}) whose keys are all in `known` (a set of
-- names); an unknown key raises a message listing the valid ones.
-- @return the table
function argcheck.options(fname, opts, known)
  if opts == nil then return {} end
  if type(opts) ~= "table" or getmetatable(opts) ~= nil then
    argcheck.fail(fname, "options", "a table", opts)
  end
  for k in pairs(opts) do
    if known[k] == nil then
      errors.raise(("%s: unknown option %s (valid options: %s)")
        :format(fname, argcheck.describe(k), sorted_names(known)))
    end
  end
  return opts
end

--- Refuses arguments after the first `max` (trailing nils aside):
-- "Dropout: expected at most 1 argument (p), got 2".
function argcheck.arity(fname, max, names, ...)
  local n = select("#", ...)
  while n > max and select(n, ...) == nil do n = n - 1 end
  if n > max then
    errors.raise(("%s: expected at most %d argument%s (%s), got %d")
      :format(fname, max, max == 1 and "" or "s", names, n))
  end
end

return argcheck
