--- Tab completion at the prompt: the words that complete the word before
-- the cursor. Globals, table fields (`cnn.Con` gives `cnn.Conv`), methods
-- after `:` (`x:res` gives `x:reshape(`) and the fields of a model.
--
-- No user code runs: tables are read with rawget and next, metatables
-- with debug.getmetatable, and an `__index` is followed only when it is a
-- table; a metatable whose `__index` is a function is asked for its
-- `methods` table instead (tensors', Chains'). `__pairs` is never called.
-- @module cnn.complete

local complete = {}

-- Tables along an __index chain at most this long are read.
local MAX_DEPTH = 8

local function is_name(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil
end

-- The tables whose keys are fields of x: x itself (when a table), then
-- its metatable's __index tables, or the metatable's methods table.
local function field_tables(x)
  local tables, depth = {}, 0
  while x ~= nil and depth < MAX_DEPTH do
    depth = depth + 1
    if type(x) == "table" then tables[#tables + 1] = x end
    local mt = debug.getmetatable(x)
    if type(mt) ~= "table" then break end
    local index = rawget(mt, "__index")
    if type(index) ~= "table" then
      local methods = rawget(mt, "methods")
      if type(methods) == "table" then tables[#tables + 1] = methods end
      break
    end
    x = index
  end
  return tables
end

-- The value of field k of x, read as field_tables reads them, or nil.
local function field(x, k)
  for _, t in ipairs(field_tables(x)) do
    local v = rawget(t, k)
    if v ~= nil then return v end
  end
  return nil
end

-- The names of the fields of x that start with prefix, sorted, each once;
-- with only_functions, those whose value is a function.
local function field_names(x, prefix, only_functions)
  local seen, names = {}, {}
  for _, t in ipairs(field_tables(x)) do
    local k, v = next(t)
    while k ~= nil do
      if is_name(k) and not seen[k] and k:sub(1, #prefix) == prefix
        and not k:match("^__") and (not only_functions or type(v) == "function") then
        seen[k] = true
        names[#names + 1] = k
      end
      k, v = next(t, k)
    end
  end
  table.sort(names)
  return names
end

--- The completions of a word: each a whole word to put in its place.
-- `a.b.c` completes the fields of a.b starting with c, `a.b:c` its methods
-- (with an opening parenthesis), a plain word the globals.
-- @param word the text before the cursor since the last space or operator
-- @param[opt=_G] env the table of globals
-- @return a sorted list of strings, empty when nothing fits
-- @usage require("cnn.complete").words("cnn.Con") --> {"cnn.Conv", "cnn.ConvTranspose"}
function complete.words(word, env)
  env = env or _G
  if not word:match("^[%w_%.:]*$") then return {} end
  local path, sep, last = word:match("^(.-)([%.:])([%w_]*)$")
  if path == nil then return field_names(env, word) end
  if path == "" or path:find(":", 1, true) then return {} end
  local x = env
  for name in (path .. "."):gmatch("([^%.]*)%.") do
    if not is_name(name) then return {} end
    x = field(x, name)
    if x == nil then return {} end
  end
  local out = {}
  for i, k in ipairs(field_names(x, last, sep == ":")) do
    out[i] = path .. sep .. k .. (sep == ":" and "(" or "")
  end
  return out
end

return complete
