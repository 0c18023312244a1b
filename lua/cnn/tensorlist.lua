--- A long array of tensors, such as `cnn.params(m)`, as one line:
-- "8 arrays, 16_440 numbers: 3×3×1×16 Float32, 16 Float32, 3×3×16×32
-- Float32, …", which cnn.repr (and so the prompt and cnn.show) prints in
-- place of every tensor in full.
-- @module cnn.tensorlist

local tensorcheck = require "cnn.tensorcheck"
local base = require "cnn.layers.base"

local tensorlist = {}

--- Arrays of more entries than this are summarised.
tensorlist.LONGEST_SHOWN = 4

--- How many entries the summary names before "…".
tensorlist.NAMED = 3

--- Whether `value` is a plain array (no other keys, no __tostring) of
-- more than LONGEST_SHOWN tensors.
function tensorlist.is_long(value)
  if type(value) ~= "table" or getmetatable(value) ~= nil then return false end
  local n = #value
  if n <= tensorlist.LONGEST_SHOWN then return false end
  for i = 1, n do
    if not tensorcheck.is_tensor(value[i]) then return false end
  end
  local keys = 0
  for _ in pairs(value) do keys = keys + 1 end
  return keys == n
end

local function entry_text(t)
  if t:isfreed() then return "freed" end
  return ("%s %s"):format(tensorcheck.sizes_text(t:size()), t:dtype())
end

--- The one-line summary of an array of tensors: how many, how many
-- numbers in all (with Julia's digit separators), and the first NAMED
-- entries as sizes and element type.
-- @tparam table list an array of tensors
-- @treturn string
function tensorlist.summary(list)
  local numbers, named = 0, {}
  for i, t in ipairs(list) do
    if not t:isfreed() then numbers = numbers + t:numel() end
    if i <= tensorlist.NAMED then named[i] = entry_text(t) end
  end
  if #list > tensorlist.NAMED then named[#named + 1] = "…" end
  return ("%d array%s, %s number%s: %s"):format(#list, #list == 1 and "" or "s",
    base.count_string(numbers), numbers == 1 and "" or "s", table.concat(named, ", "))
end

return tensorlist
