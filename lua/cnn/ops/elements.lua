--- Reading and writing the elements of tensors inside a gradient call.
--
-- A number read out of a tracked tensor carries no gradient, and a value
-- written into one in place changes what the backward reads; either would
-- silently give a wrong gradient. So, on a tensor tracked by the running
-- gradient call, `t:get(...)` is recorded (it gives a 0-dim tracked
-- tensor, as `t[{i, j}]` does), and the methods that hand out its numbers
-- (`item`, `totable`) or write into it (`set`, `fill`, `copy`, `free`,
-- `t[i] = v`, a `<close>` variable) refuse: "item: not differentiable
-- (...)". Outside a gradient call, and on untracked tensors, they are
-- cnn.core's, at the cost of one test.
-- @module cnn.ops.elements

local core = require "cnn.core"
local errors = require "cnn.errors"
local autograd = require "cnn.autograd"
local shapes = require "cnn.ops.shapes"

local istracked, refuse = autograd.istracked, autograd.refuse_tracked
-- cnn.core's function, its errors raised at the user's line and named
local call = errors.call_named

-- cnn.core's metamethod f, run for `name` (t[i] = v, <close>): under
-- pcall its bad-argument messages would name it '?'.
local function call_metamethod(name, f, ...)
  local ok, e = pcall(f, ...)
  if not ok then errors.relocate((tostring(e):gsub("to '%?'", "to '" .. name .. "'"))) end
end

local elements = {}

local WRITES = "writes in place into a tracked tensor, whose values the backward may read"
local FREES = "frees a tracked tensor, whose values the backward may read"
local COPIES = "the copy of a tracked tensor into another would carry no gradient; use clone"

-- The element of t at the indices `key` (one per dimension) as a 0-dim
-- tensor recorded by select, so that the gradient reaches t.
local function recorded_element(t, key)
  local y = t
  for d = #key, 1, -1 do y = shapes.select(y, d, key[d]) end
  return y
end
elements.recorded_element = recorded_element

-- The indices of the k-th element (1-based, column-major) of sizes.
local function indices_of(sizes, k)
  local key, rest = {}, k - 1
  for d = 1, #sizes do
    key[d] = rest % sizes[d] + 1
    rest = rest // sizes[d]
  end
  return key
end

--- t:get(i, j, ...) or t:get(k) (the k-th element, column-major): a
-- number; a 0-dim tracked tensor when t is tracked by a gradient call.
function elements.get(t, ...)
  local v = call("get", core.get, t, ...) -- checks the indices
  if not istracked(t) then return v end
  local n = select("#", ...)
  if n == 0 then return t end
  if n == 1 and t:ndims() ~= 1 then return recorded_element(t, indices_of(t:size(), (...))) end
  return recorded_element(t, {...})
end

--- t:item(): refused on a tracked tensor.
function elements.item(t)
  refuse("item", t)
  return call("item", core.item, t)
end

--- t:totable(): refused on a tracked tensor.
function elements.totable(t)
  refuse("totable", t)
  return call("totable", core.totable, t)
end

--- t:set(..., v): refused on a tracked tensor.
function elements.set(t, ...)
  refuse("set", t, WRITES)
  return call("set", core.set, t, ...)
end

--- fill(t, v) in place, refused on a tracked tensor; fill(v, sizes...)
-- makes a new tensor, as cnn.core's.
function elements.fill(...)
  refuse("fill", (...), WRITES)
  return call("fill", core.fill, ...)
end

--- dst:copy(src): refused when dst or src is tracked.
function elements.copy(dst, src, ...)
  refuse("copy", dst, WRITES)
  refuse("copy", src, COPIES)
  return call("copy", core.copy, dst, src, ...)
end

--- t:free(): refused on a tracked tensor.
function elements.free(t, ...)
  refuse("free", t, FREES)
  return call("free", core.free, t, ...)
end

--- Installs the methods above and the guarded `t[i] = v` and `__close`
-- on the Tensor metatable `mt` with method table `methods`.
function elements.install(mt, methods)
  for _, name in ipairs{"get", "item", "totable", "set", "fill", "copy", "free"} do
    methods[name] = elements[name]
  end
  local c_newindex = rawget(mt, "__cnn_raw_newindex") or rawget(mt, "__newindex")
  local c_close = rawget(mt, "__cnn_raw_close") or rawget(mt, "__close")
  rawset(mt, "__cnn_raw_newindex", c_newindex)
  rawset(mt, "__cnn_raw_close", c_close)
  mt.__newindex = function(t, k, v)
    refuse("setindex", t, WRITES)
    refuse("setindex", v, COPIES)
    call_metamethod("setindex", c_newindex, t, k, v)
  end
  mt.__close = function(t, ...)
    refuse("free", t, FREES)
    call_metamethod("free", c_close, t, ...)
  end
end

return elements
