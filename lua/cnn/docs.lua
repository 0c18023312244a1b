--- The documentation of the public names, read from the doc comments of
-- the library's own sources: the same comments LDoc turns into the
-- reference (scripts/docs), so the text shown at the prompt and the
-- generated pages cannot drift apart.
--
-- A public entry is an LDoc comment block (`---` then `--` lines) that
-- names itself with `@function name` or `@table name`; its first sentence
-- is the summary, and `@param[opt=default] name text`, `@return text` and
-- `@usage code` tags follow. Blocks without such a name stay internal.
-- @module cnn.docs

local docs = {}

--- The public entry tags, and the kind of value each names.
local NAMING_TAGS = {["function"] = "function", table = "table"}

-- The text of a comment line with its dashes and one space removed, or
-- nil when the line is not a comment.
local function comment_text(line)
  local text = line:match("^%s*%-%-%-?(.*)$")
  if text == nil or line:match("^%s*%-%-%-%-") then return nil end
  return (text:gsub("^ ", "", 1))
end

-- Appends a continuation line to the last tag, or to the description.
local function add_line(entry, tag, text)
  if tag then
    tag.text = tag.text == "" and text or tag.text .. "\n" .. text
  else
    entry.description[#entry.description + 1] = text
  end
end

-- A parsed `@param` (or `@tparam`, whose text starts with the type) tag:
-- its name, type, whether optional and its default.
local function param_tag(tagname, modifier, rest)
  local ptype
  if tagname == "tparam" then ptype, rest = rest:match("^(%S+)%s*(.*)$") end
  local name, text = (rest or ""):match("^([%w_%.]+)%s*(.*)$")
  local opt = modifier ~= nil and modifier:find("opt") ~= nil
  local default = modifier and modifier:match("^%[opt%s*=%s*(.-)%]$")
  return {name = name or rest, type = ptype, text = text or "", optional = opt, default = default}
end

-- LDoc's typed tags, read as the plain ones.
local TYPED = {tparam = "param", treturn = "return"}

-- Reads one tag line into the entry, returning the tag that later lines
-- continue.
local function add_tag(entry, tagname, modifier, rest)
  if NAMING_TAGS[tagname] then
    entry.name, entry.kind = rest:match("^([%w_%.:]+)"), NAMING_TAGS[tagname]
    return nil
  end
  local plain = TYPED[tagname] or tagname
  if plain == "param" then
    local p = param_tag(tagname, modifier, rest)
    entry.params[#entry.params + 1] = p
    return p
  end
  local tag = {text = rest}
  local list = entry[plain] or {}
  entry[plain] = list
  list[#list + 1] = tag
  return tag
end

-- An entry from the text lines of one comment block.
local function parse_block(lines, source)
  local entry = {description = {}, params = {}, source = source}
  local current
  for _, text in ipairs(lines) do
    local tagname, modifier, rest = text:match("^%s*@(%w+)(%b[])%s*(.*)$")
    if not tagname then tagname, rest = text:match("^%s*@(%w+)%s*(.*)$") end
    if tagname then
      current = add_tag(entry, tagname, modifier, rest)
    else
      add_line(entry, current, text)
    end
  end
  local description = table.concat(entry.description, "\n"):gsub("%s+$", "")
  entry.description = description
  entry.summary = description:match("^(.-%.)%s") or description:match("^(.-%.)$") or description
  return entry
end

-- The comment blocks of a source text, each as a list of lines.
local function comment_blocks(text)
  local blocks, block = {}, nil
  for line in (text .. "\n"):gmatch("(.-)\n") do
    local c = comment_text(line)
    if c and line:match("^%s*%-%-%-") and not block then
      block = {c}
    elseif c and block then
      block[#block + 1] = c
    else
      if block then blocks[#blocks + 1] = block end
      block = nil
    end
  end
  if block then blocks[#blocks + 1] = block end
  return blocks
end

--- The public entries documented in one source text.
-- @param text the Lua source
-- @param source where it came from, kept in each entry
-- @return a list of entries (tables with name, kind, summary, description,
-- params, return, usage and source)
-- @usage local entries = docs.parse(io.open("mylayer.lua"):read("a"), "mylayer.lua")
function docs.parse(text, source)
  local entries = {}
  for _, block in ipairs(comment_blocks(text)) do
    local entry = parse_block(block, source)
    if entry.name then entries[#entries + 1] = entry end
  end
  return entries
end

-- The file of every loaded module of the library: the doc sources are
-- exactly the code that is running.
local function loaded_sources()
  local files = {}
  for name in pairs(package.loaded) do
    if name == "cnn" or name:match("^cnn%.") then
      local file = package.searchpath(name, package.path)
      if file then files[#files + 1] = file end
    end
  end
  table.sort(files)
  return files
end

local by_name

--- Every public entry of the loaded library, by its public name
-- ("relu", "Dense", "datasets.MNIST", ...). Read once, then kept.
-- @return a table from name to entry
-- @usage for name, e in pairs(docs.entries()) do print(name, e.summary) end
function docs.entries()
  if by_name then return by_name end
  require "cnn" -- every module of the library loaded, whoever asks first
  require "cnn.methods" -- and the documentation of the tensor methods
  by_name = {}
  for _, file in ipairs(loaded_sources()) do
    local f = assert(io.open(file, "r"))
    local text = f:read("a")
    f:close()
    for _, entry in ipairs(docs.parse(text, file)) do by_name[entry.name] = entry end
  end
  return by_name
end

--- The entry documenting a public name or a public value of `cnn`
-- (a function known under two names, such as Adam and ADAM, has one).
-- @param x a name such as "relu", or the value itself, such as cnn.relu
-- @return the entry, or nil when there is none
-- @usage docs.lookup(cnn.relu).summary --> "max(x, 0)"
function docs.lookup(x)
  local entries = docs.entries()
  if type(x) == "string" then return entries[x] end
  local cnn = require "cnn"
  for name, value in pairs(cnn) do
    if value == x and entries[name] then return entries[name] end
  end
  for _, part in ipairs{"datasets", "distributed"} do
    for name, value in pairs(cnn[part]) do
      if value == x then return entries[part .. "." .. name] end
    end
  end
  return nil
end

return docs
