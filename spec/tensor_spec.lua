-- cnn.core tensor basics: construction, sizes, views, element access,
-- conversion, random numbers and their errors.
local core = require "cnn.core"

local function err(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error")
  return tostring(e)
end

local function assert_error_has(text, f, ...)
  local e = err(f, ...)
  assert(e:find(text, 1, true), ("error %q does not contain %q"):format(e, text))
end

describe("tensor construction", function()
  it("zeros takes sizes as integers or a table, with an optional dtype", function()
    local t = core.zeros(2, 3)
    assert.same({2, 3}, t:size())
    assert.equal("Float32", t:dtype())
    assert.same({{0, 0, 0}, {0, 0, 0}}, t:totable())
    local i = core.zeros({4}, "int32")
    assert.equal("Int32", i:dtype())
    assert.same({0, 0, 0, 0}, i:totable())
    assert.equal(math.type(i[1]), "integer")
    assert.equal(0, core.zeros():ndims())
    assert.equal(1, core.zeros():numel())
    assert.equal(0, core.zeros(3, 0):numel())
  end)

  it("ones and fill", function()
    assert.same({1, 1, 1}, core.ones(3):totable())
    assert.same({{1, 1}}, core.ones(1, 2, "int32"):totable())
    assert.same({{2.5, 2.5}, {2.5, 2.5}}, core.fill(2.5, 2, 2):totable())
    assert.same({7, 7}, core.fill(7, {2}, "int32"):totable())
    local t = core.zeros(3)
    assert.equal(t, t:fill(4))
    assert.same({4, 4, 4}, t:totable())
  end)

  it("tensor() reads nested tables with the outer index as dimension 1", function()
    local t = core.tensor{{1, 2, 3}, {4, 5, 6}}
    assert.same({2, 3}, t:size())
    assert.equal(6, t[{2, 3}])
    assert.equal(2, t[{1, 2}])
    assert.equal(4, t:get(2, 1))
    assert.same({{1, 2, 3}, {4, 5, 6}}, t:totable())
    local d3 = {{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}, {{9, 10}, {11, 12}}}
    assert.same(d3, core.tensor(d3):totable())
    assert.equal(10, core.tensor(d3)[{3, 1, 2}])
    assert.equal("Int32", core.tensor({1, 2}, "int32"):dtype())
    assert.same({0}, core.tensor{}:size())
    local s = core.tensor(3.5)
    assert.equal(0, s:ndims())
    assert.equal(3.5, s:item())
    assert.equal(3.5, s:totable())
  end)

  it("tensor() stores Float32 and Int32 values", function()
    local f = core.tensor{0.1}
    assert.equal(0.10000000149011612, f[1])
    local i = core.tensor({2.0, -2, 2147483647}, "int32")
    assert.same({2, -2, 2147483647}, i:totable())
  end)

  it("range is Julia's collect(first:step:last)", function()
    assert.same({1, 2, 3, 4, 5}, core.range(1, 5):totable())
    local r = core.range(0, 1, 0.1)
    assert.equal(11, r:numel())
    assert.equal(0.30000001192092896, r[4])
    assert.same({5, 3, 1}, core.range(5, 0, -2):totable())
    assert.same({0}, core.range(3, 1):size())
    assert.same({1.5}, core.range(1.5, 2.4):totable())
    assert.equal("Float32", core.range(1, 2):dtype())
  end)
end)

describe("tensor construction errors", function()
  it("reject wrong types", function()
    assert.equal("bad argument #2 to 'zeros' (nothing expected after the sizes table)",
      err(function() return core.zeros({}, {}) end):match("bad argument.*"))
    assert.equal("bad argument #1 to 'zeros' (invalid option '2')",
      err(function() return core.zeros("2") end):match("bad argument.*"))
    assert_error_has("bad argument #1 to 'zeros' (number expected, got boolean)",
      function() return core.zeros(true) end)
    assert_error_has("bad argument #2 to 'ones' (invalid option 'float64')",
      function() return core.ones(2, "float64") end)
    assert_error_has("bad argument #1 to 'fill' (number expected, got string)",
      function() return core.fill("x", 2) end)
    assert_error_has("bad argument #2 to 'rand' (number expected, got string)",
      function() return core.rand(2, "int32") end)
    assert_error_has("bad argument #1 to 'seed' (number expected, got no value)",
      function() return core.seed() end)
    assert_error_has("bad argument #1 to 'tensor' (table expected, got string)", function() return core.tensor("x") end)
    assert_error_has("bad argument #2 to 'range' (number expected, got no value)", function() return core.range(1) end)
  end)

  it("reject negative sizes and too many dimensions", function()
    assert_error_has("bad argument #2 to 'zeros' (size must be non-negative)", function() return core.zeros(2, -1) end)
    assert_error_has("sizes must be non-negative integers", function() return core.randn({2, -3}) end)
    assert_error_has("bad argument #1 to 'zeros' (too many dimensions)",
      function() return core.zeros(1, 1, 1, 1, 1, 1, 1, 1, 1) end)
    assert_error_has("sizes must be non-negative integers", function() return core.zeros({1.5}) end)
    assert_error_has("number has no integer representation", function() return core.zeros(2.5) end)
    assert_error_has("tensor: tensor too large", function() return core.zeros(2^40, 2^40) end)
  end)

  it("tensor() rejects ragged tables and non-numbers", function()
    assert.equal("tensor: ragged nested table: [2] has 2 entries, expected 3",
      err(core.tensor, {{1, 2, 3}, {4, 5}}))
    assert.equal("tensor: expected a number at [1][2], got string",
      err(core.tensor, {{1, "x"}}))
    assert.equal("tensor: expected a table at [2], got number",
      err(core.tensor, {{1, 2}, 3}))
    assert.equal("tensor: ragged nested table: [2] has 1 entries, expected 0",
      err(core.tensor, {{}, {1}}))
    assert.equal("tensor: expected a number at [2], got table", err(core.tensor, {1, {}}))
    assert_error_has("nested deeper than 8 levels", function() return core.tensor({{{{{{{{{1}}}}}}}}}) end)
  end)

  it("range rejects a zero step and infinite ends", function()
    assert.equal("range: step must be finite and not zero", err(core.range, 1, 2, 0))
    assert.equal("range: first and last must be finite", err(core.range, 1, math.huge))
  end)
end)

describe("tensor queries", function()
  local t = core.zeros(3, 4, 5)
  it("size, ndims, numel, dtype, #", function()
    assert.same({3, 4, 5}, t:size())
    assert.equal(4, t:size(2))
    assert.equal(1, t:size(4))
    assert.equal(3, t:ndims())
    assert.equal(60, t:numel())
    assert.equal(60, #t)
    assert.equal("Float32", t:dtype())
    assert.equal(4, core.size(t, 2))
    assert.equal(60, core.numel(t))
  end)

  it("check their arguments", function()
    assert_error_has("bad argument #2 to 'size' (dimension must be at least 1)",
      function() return core.size(t, 0) end)
    assert_error_has("bad argument #1 to 'numel' (cnn.Tensor expected, got number)",
      function() return core.numel(3) end)
    assert_error_has("bad argument #1 to 'dtype' (cnn.Tensor expected, got no value)",
      function() return core.dtype() end)
  end)
end)

describe("views", function()
  it("t[i] selects along the last dimension and writes through", function()
    local t = core.tensor{{1, 2, 3}, {4, 5, 6}}
    local col = t[2]
    assert.same({2}, col:size())
    assert.same({2, 5}, col:totable())
    col[1] = 20
    assert.equal(20, t[{1, 2}])
    t[3] = 9
    assert.same({{1, 20, 9}, {4, 5, 9}}, t:totable())
    t[1] = core.tensor{7, 8}
    assert.same({7, 8}, t[1]:totable())
    assert.equal(8, t[1][2])
  end)

  it("select drops a dimension; slice and narrow keep it", function()
    local t = core.range(1, 24):reshape(2, 3, 4)
    local s = t:select(2, 3)
    assert.same({2, 4}, s:size())
    assert.same({{5, 11, 17, 23}, {6, 12, 18, 24}}, s:totable())
    assert.same({2, 2, 4}, t:slice(2, 2, 3):size())
    assert.same({{{3, 9, 15, 21}, {5, 11, 17, 23}}, {{4, 10, 16, 22}, {6, 12, 18, 24}}},
      t:slice(2, 2, 3):totable())
    assert.same(t:slice(3, 2, 4):totable(), t:narrow(3, 2, 3):totable())
    assert.same({2, 0, 4}, t:slice(2, 3, 2):size())
    assert.same({2, 3, 0}, t:narrow(3, 5, 0):size())
    local v = core.tensor{1, 2, 3}:select(1, 2)
    assert.equal(0, v:ndims())
    assert.equal(2, v:item())
    t:narrow(1, 2, 1):fill(0)
    assert.same({1, 0, 3, 0, 5, 0}, t:select(3, 1):reshape(-1):totable())
  end)

  it("reshape is a view when contiguous and a copy otherwise", function()
    local t = core.range(1, 6)
    local m = t:reshape(2, 3)
    assert.same({{1, 3, 5}, {2, 4, 6}}, m:totable())
    m[{2, 3}] = 60
    assert.equal(60, t[6])
    assert.same({3, 2}, t:reshape({3, -1}):size())
    assert.same({6}, m:reshape(-1):size())
    assert.is_true(m:slice(2, 2, 3):is_contiguous())
    local nc = m:slice(1, 2, 2)
    assert.is_false(nc:is_contiguous())
    local r = nc:reshape(3)
    assert.same({2, 4, 60}, r:totable())
    r[1] = 100
    assert.equal(2, t[2])
  end)

  it("reshape errors name both shapes", function()
    local t = core.zeros(2, 3)
    assert.equal("reshape: cannot reshape 2×3 (6 elements) to 4×2 (8 elements)",
      err(t.reshape, t, 4, 2))
    assert.equal("reshape: only one size may be -1", err(t.reshape, t, -1, -1))
    assert.equal("reshape: cannot reshape 2×3 (6 elements) to 4×: (not a multiple of 4)",
      err(t.reshape, t, 4, -1))
    assert.equal("reshape: size -2 of dimension 1 is negative", err(t.reshape, t, -2, 3))
    assert_error_has("bad argument #2 to 'reshape' (sizes must be integers)",
      function() return core.reshape(t, {1.5}) end)
    assert_error_has("bad argument #1 to 'reshape' (sizes must be integers)",
      function() return t:reshape({1.5}) end)
  end)

  it("copy, clone, contiguous", function()
    local a = core.zeros(2, 3)
    local b = core.tensor{{1, 2, 3}, {4, 5, 6}}
    assert.equal(a, a:copy(b))
    assert.same(b:totable(), a:totable())
    assert.equal(a, core.copy(a, core.tensor{{10, 20, 30}, {40, 50, 60}}))
    assert.same({{10, 20, 30}, {40, 50, 60}}, a:totable())
    assert.equal(a, a:fill(7))
    assert.same({{7, 7, 7}, {7, 7, 7}}, a:totable())
    local c = b:clone()
    c[{1, 1}] = 100
    assert.equal(1, b[{1, 1}])
    assert.equal(b, b:contiguous())
    local nc = b:slice(2, 1, 2)
    local cc = nc:contiguous()
    assert.is_true(cc:is_contiguous())
    assert.same({{1, 2}, {4, 5}}, cc:totable())
  end)

  it("copy between overlapping views reads before it writes", function()
    local t = core.range(1, 5)
    t:narrow(1, 2, 4):copy(t:narrow(1, 1, 4))
    assert.same({1, 1, 2, 3, 4}, t:totable())
  end)

  it("copy errors name both shapes", function()
    local a = core.zeros(2, 3)
    local tail = "; copy takes a source of the same sizes (fill(dst, v) sets every element to one number)"
    assert.equal("copy: the source is 4×3 but the destination is 2×3" .. tail, err(a.copy, a, core.zeros(4, 3)))
  end)

  it("copy refuses a source that would broadcast, and leaves the destination as it was", function()
    local a = core.tensor{{1, 2, 3}, {4, 5, 6}}
    local tail = "; copy takes a source of the same sizes (fill(dst, v) sets every element to one number)"
    assert.equal("copy: the source is 2 but the destination is 2×3" .. tail, err(a.copy, a, core.tensor{10, 20}))
    assert.equal("copy: the source is 1×3 but the destination is 2×3" .. tail, err(core.copy, a, core.ones(1, 3)))
    assert.equal("copy: the source is 0-dim but the destination is 2×3" .. tail, err(a.copy, a, core.tensor(5)))
    assert.equal("copy: the source is 6 but the destination is 2×3" .. tail, err(a.copy, a, core.range(1, 6)))
    assert.equal("copy: the source is 2×3 but the destination is 3×2" .. tail,
      err(core.copy, core.zeros(3, 2), a))
    assert.same({{1, 2, 3}, {4, 5, 6}}, a:totable())
    -- indexing still assigns with broadcasting, as Julia's a[:, j] .= v
    a[1] = core.tensor{7, 8}
    assert.same({{7, 2, 3}, {8, 5, 6}}, a:totable())
    assert_error_has("bad argument #1 to 'copy' (cnn.Tensor expected, got number)",
      function() return a:copy(1) end)
  end)

  it("view and range errors", function()
    local t = core.zeros(3, 4)
    assert.equal("select: dimension 3 out of range 1:2 for 3×4 tensor", err(t.select, t, 3, 1))
    assert.equal("select: index 5 out of range 1:4 for dimension 2 of 3×4 tensor",
      err(t.select, t, 2, 5))
    assert.equal("slice: range 2:7 out of bounds 1:4 for dimension 2 of 3×4 tensor",
      err(t.slice, t, 2, 2, 7))
    assert.equal("slice: range 0:1 out of bounds 1:3 for dimension 1 of 3×4 tensor",
      err(t.slice, t, 1, 0, 1))
    assert.equal("narrow: range 3:5 out of bounds 1:4 for dimension 2 of 3×4 tensor",
      err(t.narrow, t, 2, 3, 3))
    assert_error_has("bad argument #4 to 'narrow' (length must be non-negative)",
      function() return core.narrow(t, 1, 1, -1) end)
  end)
end)

describe("element access", function()
  local t
  before_each(function() t = core.tensor{{1, 2, 3}, {4, 5, 6}} end)

  it("get and set take one index per dimension, or one linear index", function()
    assert.equal(6, t:get(2, 3))
    assert.equal(5, t:get(4))
    assert.equal(t, t:set(1, 3, 30))
    assert.equal(30, t[{1, 3}])
    t:set(2, -1)
    assert.equal(-1, t[{2, 1}])
    t[{2, 2}] = 50
    assert.equal(50, t:get(2, 2))
    assert.equal(6, t[{6}])
  end)

  it("out-of-range indices raise errors naming the dimension and shape", function()
    local m = core.zeros(3, 4)
    assert.equal("index 5 out of range 1:4 for dimension 2 of 3×4 tensor",
      err(function() return m[{1, 5}] end):match("index.*"))
    assert.equal("index 5 out of range 1:4 for dimension 2 of 3×4 tensor",
      err(function() return m[5] end):match("index.*"))
    assert.equal("index 0 out of range 1:3 for dimension 1 of 3×4 tensor",
      err(function() m[{0, 1}] = 1 end):match("index.*"))
    assert.equal("index 4 out of range 1:3 for dimension 1 of 3-element tensor",
      err(function() return core.zeros(3)[4] end):match("index.*"))
    assert.equal("get: index 13 out of range 1:12 for 3×4 tensor", err(m.get, m, 13))
    assert.equal("set: index 4 out of range 1:3 for dimension 1 of 3×4 tensor",
      err(m.set, m, 4, 1, 0))
    assert.equal("get: 3 indices for a 3×4 tensor (expected 2)", err(m.get, m, 1, 1, 1))
    assert.equal("index must be an integer, got 1.5",
      err(function() return m[1.5] end):match("index.*"))
    assert_error_has("cannot index a tensor with a boolean", function() return m[true] end)
    assert_error_has("cannot index a 0-dim tensor", function() return core.tensor(1)[1] end)
    assert_error_has("cannot assign a string to an element of a 3×4 tensor",
      function() m[{1, 1}] = "x" end)
    assert_error_has("setindex: cannot assign a boolean to a tensor", function() m[1] = true end)
    assert_error_has("cannot set field 'foo' of a tensor", function() m.foo = 1 end)
  end)

  it("an element can be assigned from a 1-element tensor", function()
    t[{1, 1}] = core.tensor{{9}}
    assert.equal(9, t:get(1))
    assert_error_has("cannot assign a tensor of several elements to an element of a 2×3 tensor",
      function() t[{1, 1}] = core.zeros(2) end)
  end)

  it("item needs exactly one element", function()
    assert.equal(4, core.tensor{{4}}:item())
    assert.equal("item: expected a 1-element tensor, got a 2×3 tensor", err(t.item, t))
  end)

  it("float and int convert by copying", function()
    local i = core.tensor{1, -1, 0}:int()
    assert.equal("Int32", i:dtype())
    assert.same({1, -1, 0}, i:totable())
    local f = i:float()
    assert.equal("Float32", f:dtype())
    f[1] = 9
    assert.equal(1, i[1])
    assert.is_false(rawequal(t, t:float()))
  end)

  it("unknown names index to nil; methods can be added from Lua", function()
    assert.is_nil(t.no_such_method)
    core.Tensor.methods.twice_numel = function(self) return 2 * self:numel() end
    assert.equal(12, t:twice_numel())
    core.Tensor.methods.twice_numel = nil
    assert.is_nil(t.twice_numel)
  end)
end)

describe("every method", function()
  local names = {"size", "ndims", "numel", "dtype", "reshape", "select", "slice", "narrow",
                 "get", "set", "copy", "clone", "contiguous", "is_contiguous", "totable",
                 "item", "float", "int", "free"}

  it("is also a module function that checks its first argument", function()
    for _, name in ipairs(names) do
      local f = core[name]
      assert.equal(f, core.Tensor.methods[name], name)
      local e = err(f, 42)
      assert.is_truthy(e:find("bad argument #1 to 'cnn.core." .. name
        .. "' (cnn.Tensor expected, got number)", 1, true), e)
    end
  end)

  it("except free, refuses a freed tensor", function()
    for _, name in ipairs(names) do
      local t = core.zeros(1)
      t:free()
      if name == "free" then
        t:free()
      else
        assert.equal("bad argument #1 to 'cnn.core." .. name .. "' (attempt to use a freed tensor)",
          err(core[name], t, 1, 1, 1), name)
      end
    end
  end)
end)

describe("freed tensors", function()
  it("raise on use, views included; free is idempotent", function()
    local t = core.zeros(2, 2)
    local v = t[1]
    t:free()
    t:free()
    assert.equal("bad argument #1 to 'cnn.core.numel' (attempt to use a freed tensor)", err(t.numel, t))
    assert.equal("bad argument #1 to 'index' (attempt to use a freed tensor)",
      err(function() return v[1] end):match("bad argument.*"))
    assert.equal("bad argument #1 to 'newindex' (attempt to use a freed tensor)",
      err(function() t[1] = 0 end):match("bad argument.*"))
    assert_error_has("attempt to use a freed tensor", function() return core.clone(t) end)
  end)

  it("are freed at the end of a to-be-closed scope", function()
    local keep
    do
      local t <close> = core.zeros(3)
      keep = t
    end
    assert_error_has("attempt to use a freed tensor", keep.totable, keep)
  end)
end)

describe("random numbers", function()
  it("rand is uniform in [0, 1) and reproducible after seed", function()
    core.seed(123)
    local a = core.rand(1000)
    core.seed(123)
    local b = core.rand(10, 100)
    assert.same(a:totable(), b:reshape(-1):totable())
    local lo, hi, sum = 1, 0, 0
    for _, x in ipairs(a:totable()) do
      lo, hi, sum = math.min(lo, x), math.max(hi, x), sum + x
    end
    assert.is_true(lo >= 0 and hi < 1)
    assert.is_true(math.abs(sum / 1000 - 0.5) < 0.05)
  end)

  it("successive draws differ and different seeds differ", function()
    core.seed(1)
    local a, b = core.rand(4):totable(), core.rand(4):totable()
    assert.are_not.same(a, b)
    core.seed(2)
    assert.are_not.same(a, core.rand(4):totable())
  end)

  it("draws the same numbers whatever the thread count", function()
    local threads = core.threads()
    core.seed(7)
    core.threads(1)
    local one = core.randn(300, 300)
    core.seed(7)
    core.threads(2)
    local two = core.randn(300, 300)
    core.threads(threads)
    assert.equal(one:get(1), two:get(1))
    assert.equal(one:get(90000), two:get(90000))
    assert.same(one:select(2, 150):totable(), two:select(2, 150):totable())
  end)

  it("randn has mean 0 and variance 1", function()
    core.seed(5)
    local x = core.randn(100, 100):reshape(-1):totable()
    local sum, sq = 0, 0
    for _, v in ipairs(x) do sum, sq = sum + v, sq + v * v end
    local mean = sum / #x
    assert.is_true(math.abs(mean) < 0.03)
    assert.is_true(math.abs(sq / #x - mean * mean - 1) < 0.05)
  end)

  it("the first draws come from the default seed 42", function()
    -- a fresh process, since this one has been seeded already
    local script = ("package.cpath = %q; local c = require 'cnn.core'; "
      .. "local a = c.rand(3):totable(); c.seed(42); local b = c.rand(3):totable(); "
      .. "io.write(tostring(a[1] == b[1] and a[3] == b[3]))"):format(package.cpath)
    local p = io.popen(("lua5.4 -e %q"):format(script))
    local out = p:read("a")
    p:close()
    assert.equal("true", out)
  end)
end)

describe("cnn.tensor", function()
  it("re-exports the constructors", function()
    local part = require("cnn.tensor")
    for _, name in ipairs{"zeros", "ones", "rand", "randn", "seed", "tensor", "range"} do
      assert.equal(core[name], part[name], name)
    end
    -- fill, which writes in place, refuses a tracked tensor
    assert.equal(require("cnn.ops.elements").fill, part.fill)
    assert.equal(core.Tensor, part.Tensor)
  end)
end)
