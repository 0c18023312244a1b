--- The entries of a checkpoint being read: its tensors and metadata by
-- name, each taken once by the part that understands it; `finish` then
-- refuses any entry no part took, so a file is read whole or not at all.
-- Every message names the function, the file and the entry.
-- @module cnn.resume.entries

local errors = require "cnn.errors"
local values = require "cnn.resume.values"
local tensorcheck = require "cnn.tensorcheck"

local shape = tensorcheck.shape

local Entries = {}
Entries.__index = Entries

--- The entries of the file at `path`: `tensors` and `meta` as
-- cnn.core.load_safetensors returns them.
local function new(fname, path, tensors, meta)
  return setmetatable({fname = fname, path = path, tensors = tensors, meta = meta,
    taken = {["format"] = true, ["model"] = true}}, Entries)
end

--- Raises "fname: path: entry name <what>".
function Entries:fail(name, what)
  errors.raise(("%s: %s: entry %s %s"):format(self.fname, self.path, name, what))
end

--- Whether the file has metadata `name`.
function Entries:has(name)
  return self.meta[name] ~= nil
end

--- The tensor `name`, of the sizes and type of `like` when given;
-- raises if it is missing or differs.
function Entries:tensor(name, like)
  local t = self.tensors[name]
  if t == nil then self:fail(name, "is missing") end
  self.taken[name] = true
  if like and shape(t) ~= shape(like) then
    self:fail(name, ("is %s, expected %s"):format(shape(t), shape(like)))
  end
  if like and t:dtype() ~= like:dtype() then
    self:fail(name, ("is %s, expected %s"):format(t:dtype(), like:dtype()))
  end
  return t
end

--- The value of metadata `name` (see cnn.resume.values); raises if it
-- is missing or not a value.
function Entries:value(name)
  local s = self.meta[name]
  if s == nil then self:fail(name, "is missing") end
  self.taken[name] = true
  local v = values.decode(s)
  if v == nil then self:fail(name, ("holds %q, which is not a stored value"):format(s)) end
  return v
end

--- value(name), which must be an integer in min..max (max may be nil).
function Entries:integer(name, min, max)
  local v = self:value(name)
  if math.type(v) ~= "integer" or v < min or (max and v > max) then
    self:fail(name, ("is %s, expected an integer %s"):format(tostring(v),
      max and ("in %d..%d"):format(min, max) or (">= %d"):format(min)))
  end
  return v
end

--- The names not yet taken that match `pattern`, sorted, with what is
-- each ("tensor" or "value").
function Entries:matching(pattern)
  local found = {}
  for name in pairs(self.tensors) do
    if not self.taken[name] and name:match(pattern) then found[#found + 1] = {name, "tensor"} end
  end
  for name in pairs(self.meta) do
    if not self.taken[name] and name:match(pattern) then found[#found + 1] = {name, "value"} end
  end
  table.sort(found, function(a, b) return a[1] < b[1] end)
  return found
end

--- Marks `name` as taken.
function Entries:take(name)
  self.taken[name] = true
end

--- Raises for the first entry no part took.
function Entries:finish()
  local left = self:matching("")
  if #left > 0 then self:fail(left[1][1], "is not part of a checkpoint of these objects") end
end

return {new = new}
