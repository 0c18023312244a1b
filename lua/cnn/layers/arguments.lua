--- The arguments of the layer constructors: sizes, integer tuples
-- (kernel, stride, pad, dilation), and the optional activation and
-- options table, with messages that say what was expected where an
-- argument is of the wrong kind or in the wrong place:
--
--     Conv: activation must come before the options table:
--     Conv(kernel, cin, cout [, act] [, opts]); got a table then a function
-- @module cnn.layers.arguments

local argcheck = require "cnn.argcheck"

local arguments = {}

local describe, raise = argcheck.describe, argcheck.raise

--- Whether v is a plain table (no metatable): an options table or a
-- tuple, not a layer.
function arguments.is_plain_table(v)
  return type(v) == "table" and getmetatable(v) == nil
end
local is_plain_table = arguments.is_plain_table

--- A size of a layer (channels, features): a positive integer. A float
-- that holds a whole number (288.0, from a division with /) is named as
-- such.
-- @return v
function arguments.size(fname, what, v)
  if math.type(v) == "integer" and v >= 1 then return v end
  local hint = ""
  if math.type(v) == "float" and v == math.floor(v) and v >= 1 then
    hint = " (a float: compute sizes with //)"
  end
  raise(("%s: %s must be a positive integer, got %s%s"):format(fname, what, describe(v), hint))
end

local function integer_words(minimum, plural)
  local s = minimum == 1 and "positive integer" or "non-negative integer"
  return plural and s .. "s" or s
end

--- Integers for a tuple argument given as one integer (the same along
-- every dimension) or a table of `n` (or of any of the counts in `ns`, a
-- list such as {2, 4}), each at least `minimum` (0 or 1); `extra`
-- (optional) completes the words of what is valid (' or "same"').
-- @return the table, and its count
function arguments.tuple(fname, what, value, ns, minimum, extra)
  if type(ns) == "number" then ns = {ns} end
  if math.type(value) == "integer" and value >= minimum then
    local t = {}
    for i = 1, ns[1] do t[i] = value end
    return t, ns[1]
  end
  if argcheck.is_list(value) then
    for _, n in ipairs(ns) do
      if #value == n then
        local ok = true
        for i = 1, n do ok = ok and math.type(value[i]) == "integer" and value[i] >= minimum end
        if ok then return table.move(value, 1, n, 1, {}), n end
      end
    end
  end
  local counts = table.concat(ns, " or ")
  raise(("%s: %s must be a %s or a table of %s %s%s, got %s"):format(fname, what,
    integer_words(minimum), counts, integer_words(minimum, true), extra or "", describe(value)))
end

--- The optional activation and options table from a constructor's last
-- two arguments: an options table alone where the activation goes is the
-- options; the two swapped, or two tables, raise a message giving the
-- expected order (`usage`, such as "Conv(kernel, cin, cout [, act] [, opts])").
-- @return act, opts
function arguments.act_and_options(fname, usage, act, opts)
  if is_plain_table(act) then
    if opts == nil then return nil, act end
    if argcheck.is_callable(opts) then
      raise(("%s: activation must come before the options table: %s; got a table then %s")
        :format(fname, usage, describe(opts)))
    end
    if is_plain_table(opts) then
      raise(("%s: expected one options table, got two tables: %s"):format(fname, usage))
    end
  end
  return act, opts
end

return arguments
