--- What a user's layer or closure holds, for the walks of a model: as
-- Flux's functors, the trainable tensors of a layer written in Lua are
-- found through its fields, and those of a closure in a Chain through
-- its upvalues, without a `parameters` method.
-- @module cnn.layers.traverse

local argcheck = require "cnn.argcheck"

local traverse = {}

local is_tensor = argcheck.is_tensor

-- Functions of the library itself (and C functions) hold no part of a
-- model: only a user's Lua closures are looked into.
local function is_user_closure(f)
  local info = debug.getinfo(f, "S")
  return info.what ~= "C" and not info.source:find("[/\\]cnn[/\\][%w_]*%.lua$")
    and not info.source:find("[/\\]cnn[/\\][%w_]+[/\\][%w_]*%.lua$")
end

--- Whether t is a loaded module (cnn itself, string, math...) or the
-- globals: shared by everything, reachable from any closure, never part
-- of a model.
function traverse.is_module(t)
  if t == _G then return true end
  for _, m in pairs(package.loaded) do
    if m == t then return true end
  end
  return false
end
local is_module = traverse.is_module

-- Whether v may hold a model's tensors: a tensor, a user's closure, a
-- table that is not a module nor a tensor's own kind of object.
local function may_hold(v)
  if is_tensor(v) then return true end
  if type(v) == "function" then return is_user_closure(v) end
  return type(v) == "table" and not is_module(v)
end

-- Integer keys in order, then the others by their text: a walk of the
-- same model always gives its tensors in the same order (checkpoints
-- rely on it).
local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local ia, ib = math.type(a) == "integer", math.type(b) == "integer"
    if ia ~= ib then return ia end
    if ia then return a < b end
    return tostring(a) < tostring(b)
  end)
  return keys
end

local function upvalues(f)
  local list = {}
  if not is_user_closure(f) then return list end
  local i = 1
  while true do
    local name, v = debug.getupvalue(f, i)
    if name == nil then break end
    if name ~= "_ENV" and may_hold(v) then list[#list + 1] = v end
    i = i + 1
  end
  return list
end

local function fields(t)
  local list = {}
  for _, k in ipairs(sorted_keys(t)) do
    local v = rawget(t, k)
    if may_hold(v) then list[#list + 1] = v end
  end
  return list
end

--- The values inside a node of a model that may hold its tensors, in a
-- fixed order: the upvalues of a Lua closure, the fields of a table.
-- @param node a function or a table
-- @return an array
function traverse.contents(node)
  if type(node) == "function" then return upvalues(node) end
  if type(node) == "table" and not is_tensor(node) then return fields(node) end
  return {}
end

return traverse
