--- The numbers, strings and booleans a checkpoint keeps in its metadata
-- (the user's values, step counts, hyperparameters), as strings that give
-- back the same value: "i:100", "f:0x1.999999999999ap-4", "s:text",
-- "b:true". Floats are written in hexadecimal, so every bit survives.
-- @module cnn.resume.values

local values = {}

local specials = {["f:nan"] = 0 / 0, ["f:inf"] = math.huge, ["f:-inf"] = -math.huge}

--- Whether v is a value a checkpoint can keep.
function values.storable(v)
  local kind = type(v)
  if kind == "string" then return not v:find("\0", 1, true) end
  return kind == "number" or kind == "boolean"
end

--- The string for a storable value.
function values.encode(v)
  if type(v) == "string" then return "s:" .. v end
  if type(v) == "boolean" then return v and "b:true" or "b:false" end
  if math.type(v) == "integer" then return ("i:%d"):format(v) end
  if v ~= v then return "f:nan" end
  if v == math.huge then return "f:inf" end
  if v == -math.huge then return "f:-inf" end
  return "f:" .. ("%a"):format(v)
end

--- The value of an encoded string, or nil when it is not one.
function values.decode(s)
  local tag, text = s:match("^(%a):(.*)$")
  if tag == "s" then return text end
  if tag == "b" and (text == "true" or text == "false") then return text == "true" end
  if tag == "i" then return math.tointeger(tonumber(text)) end
  if tag == "f" then
    if specials[s] then return specials[s] end
    local v = tonumber(text)
    return math.type(v) == "float" and v or nil
  end
  return nil
end

return values
