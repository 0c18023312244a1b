--- Bad input from Lua never crashes the process: every function of cnn.core,
-- every tensor method and every Tensor metamethod is called with bad
-- argument lists, and must either succeed or raise an error that is a
-- string naming the function. Run it under the AddressSanitizer build too:
-- a memory error there fails the run even where the plain build survives.
local core = require "cnn.core"
local helpers = require "helpers"

-- Fixed data only: the same calls on every run.
local function ramp(...)
  local sizes = {...}
  return core.range(1, helpers.numel(sizes)):reshape(sizes)
end

--- A fresh set of valid operands: calls may change them (free, fill, a
-- blocked tensor made plain), so each batch of calls gets its own.
local function operands()
  local o = {}
  o.t2 = ramp(2, 3)
  o.t2b = ramp(2, 3) * 0.5
  o.img = ramp(5, 5, 1, 2) * 0.01
  o.w = ramp(3, 3, 1, 16) * 0.01
  o.b = core.zeros(16)
  o.blocked = core.conv2d(o.img, o.w, o.b, {pad = 1})
  o.pooled, o.ws = core.pool2d("max", o.img, {window = 2})
  o.other_ws = select(2, core.pool2d("max", ramp(6, 6, 1, 1), {window = 3}))
  o.dx = ramp(6, 2) * 0.1
  o.dw = ramp(4, 6) * 0.01
  o.db = core.zeros(4)
  o.labels = core.tensor({0, 2, 1}, "int32")
  o.labelset = core.tensor({0, 1, 2}, "int32")
  o.vec = ramp(6)
  o.vec2 = ramp(6) * 0.5
  o.ch = core.ones(16)
  o.ch2 = core.zeros(16)
  return o
end

--- The bad values, made fresh with each set of operands.
local function bad_values(o)
  local freed = ramp(2, 3)
  freed:free()
  local deep = {1}
  for _ = 1, 12 do deep = {deep} end
  local gappy = ramp(3, 4):slice(1, 1, 2)
  local v = {
    {"nil", nil}, {"true", true}, {"false", false},
    {"empty string", ""}, {"string max", "max"}, {"string relu", "relu"},
    {"string int32", "int32"}, {"missing path", "/nonexistent-dir/x"},
    {"0", 0}, {"1", 1}, {"-1", -1}, {"2.5", 2.5}, {"NaN", 0 / 0},
    {"inf", math.huge}, {"-inf", -math.huge}, {"2^40", 1 << 40},
    {"2^62", 1 << 62}, {"maxinteger", math.maxinteger},
    {"mininteger", math.mininteger}, {"1e300", 1e300}, {"-1e300", -1e300},
    {"2^53 float", 2.0 ^ 53},
    {"{}", {}}, {"{{}}", {{}}}, {"holes", {1, nil, 3}}, {"nested", {{1, 2}, {3, 4}}},
    {"ragged", {{1, 2}, {3}}}, {"mixed", {1, {2}}}, {"deep", deep},
    {"strings", {"a", "b"}}, {"negative sizes", {-1, 2}}, {"huge sizes", {1 << 40, 1 << 40}},
    {"function", function() end}, {"coroutine", coroutine.create(function() end)},
    {"freed", freed}, {"int32", core.tensor({{1, 2, 3}, {4, 5, 6}}, "int32")},
    {"empty 0x3", core.zeros(0, 3)}, {"empty batch", core.zeros(3, 3, 1, 0)},
    {"0-dim", core.tensor(5)}, {"8-dim", core.ones(1, 1, 1, 1, 1, 1, 1, 2)},
    {"slice with gaps", gappy}, {"select", ramp(3, 4):select(1, 2)},
    {"gappy 4-d", ramp(5, 5, 2, 2):slice(3, 1, 1)},
    {"blocked", o.blocked}, {"mismatched 4x3", ramp(4, 3)},
    {"mismatched image", ramp(4, 4, 3, 2)}, {"workspace", o.ws},
    {"other workspace", o.other_ws},
    {"window 0", {window = 0}}, {"stride 0", {window = 2, stride = 0}},
    {"negative pad", {window = 2, pad = -1}}, {"huge dilation", {dilation = 1 << 40}},
    {"negative stride", {stride = -1}}, {"huge window", {window = 1 << 40}},
    {"huge pad", {pad = 1 << 62}}, {"window string", {window = "a"}},
    {"window {2}", {window = {2}}}, {"window of 3", {window = {1, 2, 3}}},
    {"fractional stride", {stride = {2, 0.5}}}, {"activation sigmoid", {activation = "sigmoid"}},
    {"activation 5", {activation = 5}}, {"stride table of tables", {stride = {{}, {}}}},
    {"pad 2 of 4", {pad = {1, -1}}}, {"dilation 0", {dilation = 0}},
    {"dtype bad", {dtype = "float64"}}, {"scale string", {scale = "x"}},
    {"named tensors", {a = o.t2}}, {"named non-tensor", {a = 1}},
  }
  return v
end

--- Argument lists before the bad value: enough of a valid call that the
-- bad value reaches the later checks.
local prefixes = {
  function() return {} end,
  function(o) return {o.t2} end,
  function(o) return {o.img} end,
  function(o) return {o.blocked} end,
  function(o) return {o.t2, o.t2b} end,
  function(o) return {o.img, o.w} end,
  function(o) return {o.img, o.w, o.b} end,
  function(o) return {"max", o.img} end,
  function(o) return {"mean", o.pooled, o.img:size()} end,
  function(o) return {"max", o.pooled, o.img:size(), o.ws} end,
  function(o) return {"relu", o.img} end,
  function(o) return {o.dx, o.dw} end,
  function(o) return {o.vec, o.vec2, o.vec2} end,
  function(o) return {o.img, o.ch, o.ch2, o.ch2:clone()} end,
}

-- Small valid files: 2×2 bytes of IDX and one safetensors tensor.
local idx_path = helpers.write_bytes(os.tmpname(), "\0\0\8\2" .. string.pack(">I4I4", 2, 2) .. "\1\2\3\4")
local safetensors_path = os.tmpname()
core.save_safetensors(safetensors_path, {w = ramp(2, 3)})

--- Valid calls; each argument in turn is replaced by every bad value.
local valid = {
  conv2d = function(o) return {o.img, o.w, o.b, {pad = 1, stride = 1}, true} end,
  conv2d_backward_data = function(o)
    return {o.blocked, o.w, o.img:size(), {pad = 1}}
  end,
  conv2d_backward_weights = function(o)
    return {o.blocked, o.img, o.w:size(), {pad = 1}, true}
  end,
  pool2d = function(o) return {"max", o.img, {window = 2, stride = 2, pad = 0}, true} end,
  pool2d_backward = function(o)
    return {"max", o.pooled, o.img:size(), o.ws, {window = 2}}
  end,
  dense = function(o) return {o.dx, o.dw, o.db} end,
  dense_backward_data = function(o) return {ramp(4, 2), o.dw} end,
  dense_backward_weights = function(o) return {ramp(4, 2), o.dx, true} end,
  eltwise = function(o) return {"elu", o.img, 1, 0} end,
  eltwise_backward = function(o) return {"relu", o.img, o.img, 0, 0} end,
  softmax = function(o) return {o.t2, true} end,
  softmax_backward = function(o) return {o.t2, o.t2b, false} end,
  batchnorm = function(o) return {o.blocked, o.ch, o.ch2, o.ch2, o.ch:clone(), true, 0.1, 1e-5} end,
  batchnorm_backward = function(o) return {o.blocked, o.blocked, o.ch, o.ch2, o.ch, 1e-5} end,
  gather = function(o) return {o.t2, core.tensor({2, 1, 3}, "int32"), nil, 1, 3, n = 5} end,
  onehotbatch = function(o) return {o.labels, o.labelset} end,
  onecold = function(o) return {ramp(3, 2), o.labelset} end,
  permutation = function() return {5, 7} end,
  sum_to = function(o) return {o.t2, {2, 1}} end,
  isapprox = function(o) return {o.t2, o.t2b, 0.1, 0.1} end,
  descent_step = function(o) return {o.vec, o.vec2, 0.1} end,
  momentum_step = function(o) return {o.vec, o.vec2, o.vec2:clone(), 0.1, 0.9} end,
  nesterov_step = function(o) return {o.vec, o.vec2, o.vec2:clone(), 0.1, 0.9} end,
  rmsprop_step = function(o) return {o.vec, o.vec2, o.vec2:clone(), 0.1, 0.9, 1e-8} end,
  adam_step = function(o)
    return {o.vec, o.vec2, core.zeros(6), core.zeros(6), 0.001, 0.9, 0.999, 1e-8, 1}
  end,
  adamw_step = function(o)
    return {o.vec, o.vec2, core.zeros(6), core.zeros(6), 0.001, 0.9, 0.999, 1e-8, 1, 0.01}
  end,
  add = function(o) return {o.t2, o.t2b, core.zeros(2, 3)} end,
  exp = function(o) return {o.t2, core.zeros(2, 3)} end,
  sum = function(o) return {o.t2, 2} end,
  argmax = function(o) return {o.t2, 1} end,
  matmul = function(o) return {o.t2, ramp(3, 2)} end,
  transpose = function(o) return {o.t2} end,
  reshape = function(o) return {o.t2, 3, -1} end,
  select = function(o) return {o.t2, 2, 3} end,
  slice = function(o) return {o.t2, 2, 1, 2} end,
  narrow = function(o) return {o.t2, 2, 2, 2} end,
  get = function(o) return {o.t2, 2, 3} end,
  set = function(o) return {o.t2, 2, 3, 7} end,
  copy = function(o) return {o.t2, o.t2b} end,
  fill = function(o) return {o.t2, 3} end,
  size = function(o) return {o.t2, 2} end,
  zeros = function() return {2, 3, "int32"} end,
  tensor = function() return {{{1, 2}, {3, 4}}, "int32"} end,
  range = function() return {1, 5, 2} end,
  read_idx = function() return {idx_path, {scale = 1, dtype = "float32"}} end,
  load_safetensors = function() return {safetensors_path} end,
  threads = function() return {core.threads()} end,
  isatty = function() return {0} end,
  profiling = function() return {core.profiling()} end,
}

-- A metamethod's errors name the operator or what it does.
local meta_words = {
  __add = ".+", __sub = ".-", __mul = ".*", __div = "./", __pow = ".^", __unm = "-",
  __tostring = "tostring", __close = "free",
}

--- Whether an error raised by function 'name' is acceptable.
local function names_function(name, e)
  if type(e) ~= "string" then return false end
  if e:find("attempt to use a freed tensor", 1, true) then return true end
  if name:sub(1, 2) == "__" then
    if e:find("bad argument #%d+ to '") then return true end
    local word = meta_words[name]
    if word then return e:find(word, 1, true) ~= nil end
    return e:find("index") or e:find("assign") or e:find("tensor") ~= nil
  end
  return e:find(name, 1, true) ~= nil
end

local function describe_args(args, n)
  local parts = {}
  for i = 1, n do
    local a = args[i]
    local s = type(a) == "userdata" and tostring(a):sub(1, 30) or tostring(a)
    parts[i] = s:gsub("\n", " ")
  end
  return table.concat(parts, ", ")
end

--- Calls f(args[1..n]); returns a description of an unacceptable error.
local function probe(name, f, args, n, what)
  local ok, e = pcall(f, table.unpack(args, 1, n))
  if not ok and not names_function(name, e) then
    return ("%s(%s) [%s] raised %q"):format(name, describe_args(args, n), what, tostring(e))
  end
end

--- Every bad value after every prefix, and in place of every argument of a
-- valid call. Raises with the first few unacceptable errors.
local function probe_all(name, f)
  local failures = {}
  local function check(args, n, what)
    local failure = probe(name, f, args, n, what)
    if failure and #failures < 8 then failures[#failures + 1] = failure end
  end
  for p, prefix in ipairs(prefixes) do
    local o = operands()
    local args = prefix(o)
    local n = #args + 1
    for _, bad in ipairs(bad_values(o)) do
      args[n] = bad[2]
      check(args, n, "prefix " .. p .. ", " .. bad[1])
    end
    check(args, n - 1, "prefix " .. p)
  end
  local make = valid[name]
  if make then
    local nargs = make(operands()).n or #make(operands())
    for i = 1, nargs + 1 do
      local o = operands()
      for _, bad in ipairs(bad_values(o)) do
        local args = make(o)
        args[i] = bad[2]
        check(args, math.max(nargs, i), "argument " .. i .. " " .. bad[1])
      end
    end
  end
  if #failures > 0 then error(table.concat(failures, "\n"), 0) end
end

teardown(function()
  os.remove(idx_path)
  os.remove(safetensors_path)
end)

local saved_threads = core.threads()
local saved_profiling = core.profiling()

local function restore_settings()
  core.threads(saved_threads)
  core.profiling(saved_profiling)
end

describe("every cnn.core function", function()
  after_each(restore_settings)

  it("accepts its valid calls (so that replacing their arguments means something)", function()
    for name, make in pairs(valid) do
      local args = make(operands())
      local ok, e = pcall(core[name], table.unpack(args, 1, args.n or #args))
      assert(ok, name .. ": " .. tostring(e))
    end
    assert.equal("blocked", core.layout(operands().blocked))
  end)

  local names = {}
  for name, f in pairs(core) do
    if type(f) == "function" then names[#names + 1] = name end
  end
  table.sort(names)
  for _, name in ipairs(names) do
    it(name .. " raises a named error or succeeds on bad arguments", function()
      probe_all(name, core[name])
    end)
  end
end)

describe("every Tensor method and metamethod", function()
  after_each(restore_settings)

  local methods = {}
  for name, f in pairs(core.Tensor.methods) do
    if core[name] ~= f then methods[#methods + 1] = name end
  end
  table.sort(methods)
  for _, name in ipairs(methods) do
    it("method " .. name .. " raises a named error or succeeds", function()
      probe_all(name, core.Tensor.methods[name])
    end)
  end

  local metas = {}
  for name, f in pairs(core.Tensor) do
    if type(f) == "function" then metas[#metas + 1] = name end
  end
  table.sort(metas)
  for _, name in ipairs(metas) do
    it(name .. " raises a named error or succeeds", function()
      probe_all(name, core.Tensor[name])
    end)
  end
end)


describe("bad sizes", function()
  local err = helpers.error_message

  it("name the function that makes the tensor", function()
    assert.equal("zeros: tensor: tensor too large: 1099511627776×1099511627776 (at most 2^37 elements)",
      err(core.zeros, 1 << 40, 1 << 40))
    assert.equal("ones: tensor: tensor too large: 274877906944 (at most 2^37 elements)",
      err(core.ones, 1 << 38))
    assert.equal("sum_to: tensor: tensor too large: 1099511627776×1099511627776 (at most 2^37 elements)",
      err(core.sum_to, ramp(2, 3), {1 << 40, 1 << 40}))
    assert.equal("reshape: tensor too large: 1099511627776×1099511627776 (at most 2^37 elements)",
      err(core.reshape, ramp(2, 3), 1 << 40, 1 << 40))
  end)

  it("are refused even where another size is 0", function()
    assert.equal("zeros: tensor: tensor too large: 0×4611686018427387904 (at most 2^37 elements)",
      err(core.zeros, 0, 1 << 62))
    assert.equal("reshape: tensor too large: 0×4611686018427387904 (at most 2^37 elements)",
      err(core.reshape, core.zeros(0), 0, 1 << 62))
  end)

  it("that memory cannot hold raise, also under AddressSanitizer", function()
    assert.equal("zeros: tensor: out of memory allocating 549755813888 bytes",
      err(core.zeros, 1 << 37))
  end)
end)

describe("element indices", function()
  local err = helpers.error_message

  it("that are not integers are named with the function", function()
    assert.equal("get: index must be an integer, got nil", err(core.get, ramp(2, 3), nil))
    assert.equal("set: index must be an integer, got userdata",
      err(core.set, ramp(2, 3), ramp(2, 3), 1))
    assert.equal("get: index must be an integer, got 1.5", err(core.get, ramp(2, 3), 1.5, 1))
    assert.equal("index must be an integer, got 1.5", err(function() return ramp(3)[1.5] end))
  end)
end)

describe("argument tables", function()
  local err = helpers.error_message

  -- A table whose metamethods free a tensor the binding already holds.
  local function trap(victim)
    local mt = {}
    mt.__index = function() victim:free() return 2 end
    mt.__len = function() victim:free() return 2 end
    return setmetatable({}, mt)
  end

  it("are read raw, so their metamethods cannot free a tensor in use", function()
    local t = ramp(2, 3)
    assert.equal(21, core.sum_to(t, trap(t)):item())
    local x = ramp(5, 5, 1, 1)
    assert.same({3, 3, 1, 1}, core.conv2d(x, core.ones(3, 3, 1, 1), nil, trap(x)):size())
    local p = core.pool2d("mean", x, setmetatable({window = 5}, {__index = function() x:free() end}))
    assert.equal(13, p:item())
    local v = ramp(3)
    assert.equal("0 indices for a 3-element tensor (expected 1)", err(function() return v[trap(v)] end))
    assert.equal("0 indices for a 3-element tensor (expected 1)", err(function() v[trap(v)] = 1 end))
    assert.same({1, 2, 3}, v:totable())
    assert.equal("reshape: cannot reshape 3 (3 elements) to 0-dim (1 elements)",
      err(core.reshape, v, trap(v)))
    local labels = core.tensor({0, 1, 2}, "int32")
    assert.equal("onehotbatch: the label set is empty", err(core.onehotbatch, labels, trap(labels)))
    assert.same({0, 1, 2}, labels:totable())
  end)

  it("name a bad activation without calling its __tostring", function()
    local called = false
    local weird = setmetatable({}, {__tostring = function() called = true return "x" end})
    assert.equal("conv2d: activation must be \"relu\", \"tanh\", \"sigmoid\" or nil, got table",
      err(core.conv2d, ramp(5, 5, 1, 1), core.ones(3, 3, 1, 1), nil, {activation = weird}))
    assert.is_false(called)
  end)
end)
