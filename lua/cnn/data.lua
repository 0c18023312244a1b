--- Labels and batches, as in Flux: onehot, onehotbatch, onecold,
-- DataLoader and ncycle.
--
-- Labels are usually integers (the digits 0–9); a label set is a Lua
-- table of them, an Int32 tensor, or a Float32 tensor of whole numbers such
-- as `cnn.range(0, 9)`. Label sets of other values (strings, fractions)
-- work too, through Lua tables. The per-element work runs in C
-- (`core.onehotbatch`, `core.onecold`, `core.gather`).
-- @module cnn.data

local core = require "cnn.core"
local errors = require "cnn.errors"
local tensorcheck = require "cnn.tensorcheck"
local labelsets = require "cnn.labelset"
local argcheck = require "cnn.argcheck"
local ops = require "cnn.ops"
local transforms = require "cnn.transforms"

local is_tensor, shape = tensorcheck.is_tensor, tensorcheck.shape

--- Calls f; an error from it is raised again at the position of the
-- user's call instead of this file's, prefixed by `fname` in place of
-- `from` if given.
local function forward_errors(fname, from, f, ...)
  local r = table.pack(pcall(f, ...))
  if r[1] then return table.unpack(r, 2, r.n) end
  local msg = tostring(r[2]):gsub("^[^:]*:%d+: ", "", 1)
  if from then msg = msg:gsub("^" .. from .. ":", fname .. ":", 1) end
  errors.raise(msg)
end

-- Label sets ----------------------------------------------------------

--- Integer labels in a form core accepts (an Int32 tensor or a table of
-- integers), or nil when some value is not a whole number.
local function as_integers(v)
  if is_tensor(v) then
    if v:dtype() == "Int32" then return v end
    -- int() refuses what is not a whole number
    local ok, i = pcall(v.int, v)
    errors.rethrow_interrupt(ok, i)
    return ok and i or nil
  end
  if type(v) ~= "table" then return nil end
  local out = {}
  for k = 1, #v do
    local n = type(v[k]) == "number" and math.tointeger(v[k])
    if not n then return nil end
    out[k] = n
  end
  return out
end

--- The values of a 1-D tensor or a Lua array, as a Lua array.
local function values_of(fname, v)
  if is_tensor(v) then
    if v:ndims() ~= 1 then
      error(("%s: expected a vector of labels, got a %s tensor"):format(fname, shape(v)), 3)
    end
    return core.totable(v) -- labels carry no gradient, even from a tracked tensor
  end
  if not argcheck.is_list(v) then
    error(("%s: expected a table or tensor of labels, got %s"):format(fname, argcheck.describe(v)), 3)
  end
  return v
end

--- Rows (1-based) of the labels in a general label set.
local function rows_of(fname, labels, set)
  local row = {}
  for i = #set, 1, -1 do
    if set[i] ~= set[i] then
      error(("%s: the label set holds NaN at position %d"):format(fname, i), 3)
    end
    row[set[i]] = i
  end
  local rows = {}
  for i, label in ipairs(labels) do
    rows[i] = row[label] or error(("%s: label %s is not in the label set %s"):format(
      fname, tostring(label), labelsets.set_string(set)), 3)
  end
  return rows
end

local function one_to(k)
  local t = {}
  for i = 1, k do t[i] = i end
  return t
end

--- One-hot columns of labels over labelset, as Flux's onehotbatch.
-- @param labels an Int32 tensor (any shape) or a Lua array of labels
-- @param labelset the labels in row order, e.g. `cnn.range(0, 9)` or `{0, 1, ..., 9}`
-- @treturn Tensor Float32 #labelset×(labels' sizes), a 1 per column
-- @raise "onehotbatch: label 12 is not in the label set {0, 1, ..., 9}"
local function onehotbatch_of(labels, labelset)
  local set = as_integers(labelset)
  local ints = set and as_integers(labels)
  if ints then return core.onehotbatch(ints, set) end
  local values = values_of("onehotbatch", labelset)
  local rows = rows_of("onehotbatch", values_of("onehotbatch", labels), values)
  return core.onehotbatch(rows, one_to(#values))
end

--- One-hot columns of labels: the rows are the classes in the order of
-- `labelset` (Flux's onehotbatch).
-- @function onehotbatch
-- @param labels a tensor or a Lua array of labels
-- @param labelset the labels in class order (a tensor or a Lua array)
-- @treturn Tensor Float32 #labelset×N
-- @usage cnn.onehotbatch({0, 2}, cnn.range(0, 9)):size() --> {10, 2}
local function onehotbatch(labels, labelset)
  return forward_errors("onehotbatch", nil, onehotbatch_of, labels, labelset)
end

--- One-hot vector of one label: onehot(5, cnn.range(0, 9)).
-- @treturn Tensor Float32 vector of #labelset
-- @function onehot
-- @param label
-- @param labelset
-- @usage cnn.onehot(5, cnn.range(0, 9))
local function onehot(label, labelset)
  local y = forward_errors("onehot", "onehotbatch", onehotbatch_of, {label}, labelset)
  return y:reshape(y:numel())
end

--- Per column of y, the label of its first maximum (Flux's onecold).
-- Without labelset: the 1-based row. With integer labels: an Int32
-- tensor of them; with other labels: a Lua table. A vector y gives one
-- value rather than a tensor.
-- @tparam Tensor y Float32 classes×N (or any classes×...)
-- @function onecold
-- @param[opt] labelset the labels in class order
-- @usage local predicted = cnn.onecold(model(x), cnn.range(0, 9))
local function onecold_of(y, labelset)
  if labelset == nil then return core.onecold(y) end
  local set = as_integers(labelset)
  if set then return core.onecold(y, set) end
  local values = values_of("onecold", labelset)
  local rows = core.onecold(y)
  if math.type(rows) == "integer" then return values[rows] end
  if #values ~= y:size(1) then
    error(("onecold: the label set has %d entries, y has %d classes (%s)"):format(
      #values, y:size(1), shape(y)), 2)
  end
  local labels = {}
  for i, r in ipairs(rows:reshape(rows:numel()):totable()) do labels[i] = values[r] end
  return labels
end

-- Labels carry no gradient: a gradient that reaches onecold is an error.
local onecold = ops.nondifferentiable("onecold", function(y, labelset)
  return forward_errors("onecold", nil, onecold_of, y, labelset)
end)

-- DataLoader ------------------------------------------------------------

local DataLoader = {}
DataLoader.__index = DataLoader

local defaults = {batchsize = 1, shuffle = false, partial = true, rng = false, copy = false,
  transform = false}

local function check_options(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then
    error(("DataLoader: options must be a table, got %s"):format(type(opts)), 3)
  end
  for k in pairs(opts) do
    if defaults[k] == nil then error(("DataLoader: unknown option '%s'"):format(tostring(k)), 3) end
  end
  local bs = opts.batchsize or defaults.batchsize
  if math.type(bs) ~= "integer" or bs < 1 then
    local got = type(bs) == "number" and tostring(bs)
      or type(bs) == "string" and ("%q (a string)"):format(bs) or "a " .. type(bs)
    error(("DataLoader: batchsize must be a positive integer, got %s"):format(got), 3)
  end
  if opts.rng ~= nil and math.type(opts.rng) ~= "integer" then
    error("DataLoader: rng must be an integer seed", 3)
  end
  if opts.transform ~= nil and not transforms.is_transform(opts.transform) then
    error(("DataLoader: transform must be a transform such as cnn.RandomFlip() or cnn.Compose(...), got %s")
      :format(argcheck.describe(opts.transform)), 3)
  end
  for _, flag in ipairs{"shuffle", "partial", "copy"} do
    if opts[flag] ~= nil and type(opts[flag]) ~= "boolean" then
      error(("DataLoader: %s must be true or false, got %s"):format(flag, argcheck.describe(opts[flag])), 3)
    end
  end
  return opts
end

--- Splits the arguments into the data (a list whose items are tensors
-- or tables of tensors) and the options.
local function split_arguments(data, y, opts)
  if is_tensor(data) then
    if is_tensor(y) or (type(y) == "table" and is_tensor(y[1])) then return {data, y}, opts end
    if y == nil then return {data}, opts end
    if type(y) == "table" and opts == nil then return {data}, y end
    error(("DataLoader: y must be a tensor or a table of tensors, got %s"):format(type(y)), 3)
  end
  if argcheck.is_list(data) and #data > 0 then return data, y end
  error("DataLoader: data must be a tensor or a table of tensors", 3)
end

--- The number of observations (size of the last dimension) of every
-- tensor, checked to agree.
local function count_observations(items)
  local n, first
  local function visit(t, where)
    if not is_tensor(t) then
      error(("DataLoader: data %s is not a tensor (%s)"):format(where, type(t)), 4)
    end
    if t:isfreed() then error(("DataLoader: data %s is a freed tensor"):format(where), 4) end
    if t:ndims() == 0 then error(("DataLoader: data %s is a 0-dim tensor"):format(where), 4) end
    local m = t:size(t:ndims())
    if n == nil then
      n, first = m, ("%s (%s)"):format(where, shape(t))
    elseif m ~= n then
      error(("DataLoader: data %s has %d observations (%s), data %s has %d"):format(
        where, m, shape(t), first, n), 4)
    end
  end
  for i, item in ipairs(items) do
    if is_tensor(item) then
      visit(item, tostring(i))
    elseif type(item) == "table" then
      for j, t in ipairs(item) do visit(t, ("%d.%d"):format(i, j)) end
    else
      visit(item, tostring(i))
    end
  end
  if n == nil then error("DataLoader: data holds no tensor", 3) end
  return n
end

--- Refuses a transform that cannot take the first array's images.
local function check_transform(transform, x)
  if not is_tensor(x) then
    error(("DataLoader: transform applies to the first array, images W×H×C×N, got a table of %d tensors")
      :format(#x), 3)
  end
  forward_errors("DataLoader", nil, function()
    transforms.check_images("DataLoader: the transform's input", x)
    transform:outsize("DataLoader", x:size())
  end)
end

--- A loader over the last dimension of x (and y), as Flux's
-- DataLoader((x, y); batchsize, shuffle, partial, rng).
--
-- `for xb, yb in loader do ... end` runs one pass (a new shuffle every
-- pass); `#loader` is the number of batches. Each batch is gathered into
-- a buffer the loader keeps, so a batch is valid until the next
-- iteration; with `copy = true` every batch is a new tensor.
-- @param x a tensor, or a table {x, y, ...} of tensors (or of tables of tensors)
-- @param[opt] y a tensor, a table of tensors, or nil
-- @tparam[opt] table opts batchsize (1), shuffle (false), partial (true:
-- keep the last short batch), rng (an integer seed; default: the global
-- generator, so `cnn.seed` makes the shuffles reproducible), copy (false),
-- transform (none: a transform such as `cnn.Compose(cnn.RandomCrop(28, {pad = 4}),
-- cnn.RandomFlip())`, applied in C to every batch of the first array,
-- which must be W×H×C×N images; its results go to buffers the loader
-- keeps, new tensors with copy)
-- @function DataLoader
-- @treturn DataLoader
-- @usage for xb, yb in cnn.DataLoader(x, y, {batchsize = 128, shuffle = true}) do step(xb, yb) end
local function new_loader(x, y, opts)
  local items
  items, opts = split_arguments(x, y, opts)
  opts = check_options(opts)
  local n = count_observations(items)
  if opts.transform then check_transform(opts.transform, items[1]) end
  local bs = opts.batchsize or defaults.batchsize
  -- As Flux, a batchsize above the number of observations is lowered to
  -- it: one batch holds them all, and no size arithmetic can overflow.
  if n > 0 and bs > n then bs = n end
  local partial = opts.partial ~= false
  local self = setmetatable({
    data = items, nobs = n, batchsize = bs, shuffle = opts.shuffle == true,
    partial = partial, copy = opts.copy == true, seed = opts.rng, passes = 0,
    nbatches = n // bs + ((partial and n % bs > 0) and 1 or 0),
    buffers = {}, transform = opts.transform or nil, transformed = {},
  }, DataLoader)
  return self
end

--- The seed of the next shuffle: from the loader's own seed, or drawn
-- from the global generator.
function DataLoader:next_seed()
  self.passes = self.passes + 1
  if self.seed then return self.seed * -7046029254386353131 + self.passes end
  local r = core.rand(2):totable()
  return math.floor(r[1] * 2^24) * 2^24 + math.floor(r[2] * 2^24)
end

--- A new pass: its order of observations and its position.
function DataLoader:new_pass()
  local order
  if self.shuffle then
    order = core.permutation(self.nobs, self:next_seed())
  else
    self.in_order = self.in_order or core.permutation(self.nobs)
    order = self.in_order
  end
  return {order = order, batch = 0}
end

--- The output tensors for a batch of `count` (kept and reused).
function DataLoader:outputs(count)
  if self.copy then return {} end
  local outs = self.buffers[count]
  if outs then return outs end
  outs = {}
  for i, item in ipairs(self.data) do
    local function buffer(t)
      local s = t:size()
      s[#s] = count
      return core.zeros(s, t:dtype() == "Int32" and "int32" or "float32")
    end
    if is_tensor(item) then
      outs[i] = buffer(item)
    else
      outs[i] = {}
      for j, t in ipairs(item) do outs[i][j] = buffer(t) end
    end
  end
  self.buffers[count] = outs
  return outs
end

--- The next batch of a pass, as multiple values, or nil at its end.
function DataLoader:batch_of(pass)
  pass.batch = pass.batch + 1
  if pass.batch > self.nbatches then return nil end
  local first = (pass.batch - 1) * self.batchsize + 1
  local count = math.min(self.batchsize, self.nobs - first + 1)
  local outs, results = self:outputs(count), {}
  for i, item in ipairs(self.data) do
    if is_tensor(item) then
      results[i] = core.gather(item, pass.order, outs[i], first, count)
    else
      local group, out = {}, outs[i] or {}
      for j, t in ipairs(item) do group[j] = core.gather(t, pass.order, out[j], first, count) end
      results[i] = group
    end
  end
  if self.transform then
    results[1] = self.transform:run(results[1], not self.copy and self.transformed or nil, true)
  end
  return table.unpack(results, 1, #self.data)
end

--- `for xb, yb in loader do`: Lua calls the loader with the previous
-- first value as control, nil on the first call, which starts a pass.
-- A pass restored from a checkpoint (cnn.resume.loader sets `resumed`)
-- is continued by the next loop instead of a new one being started.
function DataLoader:__call(_, control)
  if control == nil or self.pass == nil then
    if self.resumed then self.resumed = nil else self.pass = self:new_pass() end
  end
  return self:batch_of(self.pass)
end

--- An iterator function over one pass, independent of other loops (but
-- the pass a checkpoint saves, and the one it restores).
function DataLoader:iter()
  local pass = self.resumed and self.pass or self:new_pass()
  self.pass, self.resumed = pass, nil
  return function() return self:batch_of(pass) end
end

--- Whether x is a DataLoader.
local function is_loader(x)
  return getmetatable(x) == DataLoader
end

function DataLoader:__len()
  return self.nbatches
end

local function data_string(item)
  if is_tensor(item) then return shape(item) end
  local parts = {}
  for i, t in ipairs(item) do parts[i] = data_string(t) end
  return "{" .. table.concat(parts, ", ") .. "}"
end

--- As the call that makes it, with the number of batches of a pass:
-- "DataLoader({28×28×1×60000, 10×60000}, batchsize=128, shuffle=true) with 469 batches".
function DataLoader:__tostring()
  local data = #self.data == 1 and data_string(self.data[1]) or data_string(self.data)
  local opts = {("batchsize=%d"):format(self.batchsize)}
  if self.shuffle then opts[#opts + 1] = "shuffle=true" end
  if not self.partial then opts[#opts + 1] = "partial=false" end
  if self.seed then opts[#opts + 1] = ("rng=%d"):format(self.seed) end
  if self.copy then opts[#opts + 1] = "copy=true" end
  if self.transform then opts[#opts + 1] = "transform=" .. tostring(self.transform) end
  return ("DataLoader(%s, %s) with %d batch%s"):format(data, table.concat(opts, ", "),
    self.nbatches, self.nbatches == 1 and "" or "es")
end

-- ncycle ------------------------------------------------------------------

local Cycle = {}
Cycle.__index = Cycle

--- `for xb, yb in ncycle(loader, n) do`: n passes over the loader (a
-- DataLoader or any callable iterable that restarts on a nil control,
-- or a Lua array of {x, y} tables).
-- @function ncycle
-- @param loader the iterable
-- @param n the number of passes
-- @usage cnn.train(loss, ps, cnn.ncycle(loader, 5), opt)
local function ncycle(loader, n)
  if math.type(n) ~= "integer" or n < 0 then
    error(("ncycle: n must be a non-negative integer, got %s"):format(tostring(n)), 2)
  end
  local mt = getmetatable(loader)
  if type(loader) ~= "function" and not (type(mt) == "table" and mt.__call) and type(loader) ~= "table" then
    error(("ncycle: cannot iterate over a %s"):format(type(loader)), 2)
  end
  return setmetatable({loader = loader, n = n, cycle = 0}, Cycle)
end

--- One step of the inner iterable with its own control value.
function Cycle:step()
  local inner = self.loader
  local mt = getmetatable(inner)
  if type(inner) == "table" and not (type(mt) == "table" and mt.__call) then
    self.index = (self.control == nil and 0 or self.index) + 1
    local item = inner[self.index]
    if item == nil then return table.pack(nil) end
    self.control = item
    return type(item) == "table" and table.pack(table.unpack(item)) or table.pack(item)
  end
  local r = table.pack(inner(nil, self.control))
  self.control = r[1]
  return r
end

function Cycle:__call(_, control)
  if control == nil then self.cycle, self.control = 1, nil end
  while self.cycle <= self.n do
    local r = self:step()
    if r[1] ~= nil then return table.unpack(r, 1, r.n) end
    self.cycle, self.control = self.cycle + 1, nil
  end
  return nil
end

function Cycle:__len()
  return self.n * #self.loader
end

function Cycle:__tostring()
  local inner = self.loader
  local mt = getmetatable(inner)
  local s = type(mt) == "table" and mt.__tostring and tostring(inner)
    or ("a %s of %d"):format(type(inner), type(inner) == "table" and #inner or 0)
  return ("ncycle(%s, %d)"):format(s, self.n)
end

return {
  onehot = onehot,
  onehotbatch = onehotbatch,
  onecold = onecold,
  DataLoader = new_loader,
  ncycle = ncycle,
  is_loader = is_loader,
}
