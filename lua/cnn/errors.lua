--- Errors that name the user's line: a message raised inside the library
-- (by a layer's check, by cnn.core under an op, ...) gets the position of
-- the first function on the stack that is not part of the library — the
-- line of the script or prompt that called it — instead of a line inside
-- lua/cnn, so that "add: sizes 3×2 and 4×2 do not broadcast" points at the
-- `x + y` that caused it. Messages from user code keep their own position.
-- @module cnn.errors

local errors = {}

-- "@/path/to/lua/cnn/": every library file's chunk source starts with it.
local source_prefix = debug.getinfo(1, "S").source:match("^(@.*[/\\])[^/\\]*$")
local dir = source_prefix and source_prefix:sub(2)

local function is_library_source(source)
  return source_prefix ~= nil and source:sub(1, #source_prefix) == source_prefix
end

-- Whether `path`, the file part of a Lua error position (which Lua may
-- shorten to "...tail"), is a file of the library.
local function is_library_path(path)
  if dir == nil then return false end
  local rel = path:match("cnn/([%w_]+%.lua)$") or path:match("cnn/([%w_]+/[%w_]+%.lua)$")
  if rel == nil then return false end
  local full = dir .. rel
  if path == full then return true end
  return path:sub(1, 3) == "..." and full:sub(-(#path - 3)) == path:sub(4)
end

--- Raises `msg` at the first Lua function on the stack outside the library
-- (C functions such as pcall are skipped); without one, `msg` as it is.
function errors.raise(msg)
  local level = 2
  while true do
    local info = debug.getinfo(level, "S")
    if info == nil then error(msg, 0) end
    if info.what ~= "C" and not is_library_source(info.source) then error(msg, level) end
    level = level + 1
  end
end

--- After a pcall whose errors the library turns into a fallback: raises
-- again an interrupt (the host's Ctrl-C error, "interrupted!"), which
-- must reach the user rather than be taken for a bad value.
-- @param ok the first result of pcall
-- @param e the error, when not ok
function errors.rethrow_interrupt(ok, e)
  if not ok and type(e) == "string" and e:sub(-12) == "interrupted!" then error(e, 0) end
end

--- Raises again an error caught inside the library: a string whose
-- position is a library line (or which has none) is raised at the user's
-- line; anything else (user errors, error objects) unchanged. With
-- `fname`, a "bad argument" (or "calling 'f' on bad self") message of a
-- cnn.core function the library called is prefixed by the name the user
-- called: "softplus: bad argument #2 to 'eltwise' (Float32 tensor
-- expected, got Int32)".
--
-- With `from` too, any message that starts with `from` (the name the
-- failing call has inside the library) starts with `fname` instead,
-- wherever it was raised: "max: empty tensor" for the method t:max(),
-- from core.maximum's "maximum: empty tensor". Since this matches text,
-- it serves only calls of one cnn.core function that runs no user code
-- (where a name can be passed down instead, as cnn.update's to the
-- optimisers, it is). `from` true
-- prefixes every message with `fname`: "Dense: glorot_uniform: tensor
-- too large".
function errors.relocate(e, fname, from)
  if type(e) ~= "string" then error(e, 0) end
  local position, rest = e:match("^(.-:%d+: )(.*)$")
  if position == nil then rest = e end
  local in_library = position == nil or is_library_path(position:match("^(.-):%d+: $"))
  if from == true then
    if rest:sub(1, #fname + 1) ~= fname .. ":" then rest = fname .. ": " .. rest end
  elseif from and rest:sub(1, #from + 1) == from .. ":" then
    rest = fname .. rest:sub(#from + 1)
  elseif not in_library then
    error(e, 0)
  elseif fname and (rest:sub(1, 13) == "bad argument " or rest:find("^calling '")) then
    rest = fname .. ": " .. rest
  end
  if in_library then errors.raise(rest) end
  error(position .. rest, 0)
end

local function pass(fname, from, ok, ...)
  if ok then return ... end
  errors.relocate((...), fname, from)
end

--- Calls f(...) and returns its results; an error is relocated (see
-- `relocate`).
function errors.call(f, ...)
  return pass(nil, nil, pcall(f, ...))
end

--- errors.call for the library function the user knows as `fname`.
function errors.call_named(fname, f, ...)
  return pass(fname, nil, pcall(f, ...))
end

--- errors.call_named for a cnn.core function known as `from`: its
-- messages are given the name `fname` (see `relocate`). Used by the
-- methods t:max() and t:min() (core's maximum and minimum), for the
-- input that summary and outputsize make (core's zeros) and by the
-- Embedding layer (core's embedding, through cnn.embedding).
function errors.call_renamed(fname, from, f, ...)
  return pass(fname, from, pcall(f, ...))
end

--- errors.call where every message starts with `fname`: for what a
-- public function does on the user's behalf (a layer calling its weight
-- initialiser, the user's own included).
function errors.call_prefixed(fname, f, ...)
  return pass(fname, true, pcall(f, ...))
end

return errors
