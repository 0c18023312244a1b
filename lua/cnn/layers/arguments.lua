--- The arguments of the layer constructors: sizes, integer tuples
-- (kernel, stride, pad, dilation), and the optional activation and
-- options table, with messages that say what was expected where an
-- argument is of the wrong kind or in the wrong place:
--
--     Conv: activation must come before the options table:
--     Conv(kernel, cin, cout [, act] [, opts]); got a table then a function
-- @module cnn.layers.arguments

local argcheck = require "cnn.argcheck"
local base = require "cnn.layers.base"

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

--- The arity check of a convolution constructor (Conv, ConvTranspose)
-- taking kernel, cin, cout, act, opts, or kernel, {cin, cout}, act, opts.
function arguments.conv_arity(fname, kernel, cin, cout, act, opts, ...)
  if type(cin) == "table" then
    argcheck.arity(fname, 4, "kernel, {cin, cout}, act, opts", kernel, cin, cout, act, opts, ...)
  else
    argcheck.arity(fname, 5, "kernel, cin, cout, act, opts", kernel, cin, cout, act, opts, ...)
  end
end

--- The channels, activation and options of a convolution constructor,
-- given as cin, cout, act, opts or as the pair {cin, cout}, act, opts;
-- `options` the names it takes, `usage` and `pair_usage` its usage lines
-- for the two forms.
-- @return cin, cout, act, opts
function arguments.conv_channels(fname, options, usage, pair_usage, cin, cout, act, opts)
  local text = usage
  if type(cin) == "table" then -- the pair form Conv(k, {cin, cout}, act, opts)
    if not (argcheck.is_list(cin) and #cin == 2) then
      argcheck.fail(fname, "the channels", "cin, cout or a pair {cin, cout}", cin)
    end
    cin, cout, act, opts = cin[1], cin[2], cout, act
    text = pair_usage
  end
  act, opts = arguments.act_and_options(fname, text, act, opts)
  opts = argcheck.options(fname, opts, options)
  cin = arguments.size(fname, "cin", cin)
  cout = arguments.size(fname, "cout", cout)
  return cin, cout, base.activation(fname, act), opts
end

--- Flux's `groups` of a convolution: cin and cout split into that many
-- groups, each output channel seeing the cin/groups inputs of its group.
-- `value` nil is 1.
-- @return groups
function arguments.groups(fname, value, cin, cout)
  local groups = argcheck.integer(fname, "groups", value == nil and 1 or value, 1)
  for _, c in ipairs{{"cin", cin}, {"cout", cout}} do
    if c[2] % groups ~= 0 then
      raise(("%s: %s = %d is not divisible by groups = %d (cin and cout must be multiples of groups)")
        :format(fname, c[1], c[2], groups))
    end
  end
  return groups
end

--- A convolution's `pad` option as {w_lo, w_hi, h_lo, h_hi}: nil is 0,
-- an integer or {pw, ph} applies on both sides, "same" is `same()`.
function arguments.pad(fname, value, same)
  if value == nil then return {0, 0, 0, 0} end
  if value == "same" then return same() end
  local p, n = arguments.tuple(fname, "pad", value, {2, 4}, 0, ' or "same"')
  if n == 2 then return {p[1], p[1], p[2], p[2]} end
  return p
end

return arguments
