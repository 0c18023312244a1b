--- Label sets as messages show them, and the first label of a list that
-- a label set does not hold.
-- @module cnn.labelset

local labelset = {}

local function value_string(v)
  if v ~= v then return "NaN" end
  if math.type(v) == "float" and math.tointeger(v) then return tostring(math.tointeger(v)) end
  return tostring(v)
end
labelset.value_string = value_string

-- Whether set is a run of consecutive integers, such as 0..9.
local function is_run(set)
  for i = 1, #set do
    if math.type(set[1]) == nil or set[i] ~= set[1] + i - 1 then return false end
  end
  return true
end

--- "{0, 1, ..., 9}", as the C core writes integer sets: the first two
-- and the last of more than ten, or of a run of four or more.
function labelset.set_string(set)
  local parts, k = {}, #set
  local abbreviate = k > 10 or (k >= 4 and is_run(set))
  for i = 1, k do
    if abbreviate and i == 3 then
      parts[#parts + 1] = "..."
      parts[#parts + 1] = value_string(set[k])
      break
    end
    parts[#parts + 1] = value_string(set[i])
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

--- The position and value of the first of `labels` (a list) that is not
-- in `set` (a list), or nil when they all are.
function labelset.first_missing(labels, set)
  local member = {}
  for _, v in ipairs(set) do
    if v == v then member[v] = true end
  end
  for i, v in ipairs(labels) do
    if v ~= v or not member[v] then return i, v end
  end
  return nil
end

return labelset
