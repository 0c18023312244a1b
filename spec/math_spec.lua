-- Elementwise algebra, comparisons, reductions and matrix products of
-- cnn.core, checked against plain Lua loops over totable().
local core = require "cnn.core"
local helpers = require "helpers"

local f32, flat, product = helpers.f32, helpers.flat, helpers.numel

local function column_major_strides(sizes)
  local strides, acc = {}, 1
  for d = 1, #sizes do strides[d], acc = acc, acc * sizes[d] end
  return strides
end

-- The error message of f(...) without the "file:line: " position.
local function message(f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error")
  return (tostring(err):gsub("^[^\n]-:%d+: ", ""))
end

-- f applied elementwise with Julia broadcasting, in Lua: the expected
-- sizes and the flat column-major values.
local function broadcast_reference(f, a, b)
  local sa, sb = a:size(), b:size()
  local sizes = {}
  for d = 1, math.max(#sa, #sb) do
    local x, y = sa[d] or 1, sb[d] or 1
    sizes[d] = x == 1 and y or x
  end
  local fa, fb = flat(a), flat(b)
  local ta, tb = column_major_strides(sa), column_major_strides(sb)
  local values = {}
  for linear = 0, product(sizes) - 1 do
    local rest, ia, ib = linear, 0, 0
    for d = 1, #sizes do
      local i = rest % sizes[d]
      rest = rest // sizes[d]
      if (sa[d] or 1) ~= 1 then ia = ia + i * ta[d] end
      if (sb[d] or 1) ~= 1 then ib = ib + i * tb[d] end
    end
    values[linear + 1] = f(fa[ia + 1], fb[ib + 1])
  end
  return sizes, values
end

local function assert_values(t, sizes, values, tol)
  assert.same(sizes, t:size())
  local got = flat(t)
  assert.equal(#values, #got)
  for i = 1, #values do
    local want = f32(values[i])
    if tol then
      assert(math.abs(got[i] - want) <= tol * math.max(1, math.abs(want)),
             ("element %d: %.9g, expected %.9g"):format(i, got[i], want))
    elseif got[i] ~= want and not (got[i] ~= got[i] and want ~= want) then
      error(("element %d: %.9g, expected %.9g"):format(i, got[i], want), 2)
    end
  end
end

-- Two random sizes that broadcast: each dimension is shared or 1, and
-- either may have fewer dimensions.
local function random_broadcast_sizes()
  local n = math.random(1, 4)
  local a, b = {}, {}
  for d = 1, n do
    local s = math.random(1, 4)
    a[d] = math.random() < 0.3 and 1 or s
    b[d] = math.random() < 0.3 and 1 or s
  end
  for _ = 1, math.random(0, n - 1) do
    if math.random() < 0.5 then table.remove(a) else table.remove(b) end
  end
  return a, b
end

local julia_max = function(x, y) if x ~= x or y ~= y then return 0 / 0 end return math.max(x, y) end
local julia_min = function(x, y) if x ~= x or y ~= y then return 0 / 0 end return math.min(x, y) end

describe("broadcasting binary operations", function()
  before_each(function() math.randomseed(20240611) end)

  local exact = {
    add = function(x, y) return x + y end,
    sub = function(x, y) return x - y end,
    mul = function(x, y) return x * y end,
    max = julia_max,
    min = julia_min,
  }
  for name, f in pairs(exact) do
    it(name .. " matches a Lua loop on random broadcasting shapes", function()
      for _ = 1, 40 do
        local sa, sb = random_broadcast_sizes()
        local a, b = core.randn(sa), core.randn(sb)
        local sizes, values = broadcast_reference(f, a, b)
        assert_values(core[name](a, b), sizes, values)
      end
    end)
  end

  it("div and pow match a Lua loop to float precision", function()
    for _ = 1, 40 do
      local sa, sb = random_broadcast_sizes()
      local a, b = core.rand(sa) + 0.5, core.randn(sb)
      local sizes, values = broadcast_reference(function(x, y) return x / y end, a, b)
      assert_values(core.div(a, b), sizes, values, 1e-6)
      sizes, values = broadcast_reference(function(x, y) return x ^ y end, a, b)
      assert_values(core.pow(a, b), sizes, values, 1e-5)
    end
  end)

  it("gives exact known values", function()
    local a = core.tensor{{1, 2, 3}, {4, 5, 6}}      -- 2×3
    local col = core.tensor{10, 20}                   -- 2: broadcast along dim 2
    local row = core.tensor{{100, 200, 300}}          -- 1×3: along dim 1
    assert.same({{11, 12, 13}, {24, 25, 26}}, (a + col):totable())
    assert.same({{101, 202, 303}, {104, 205, 306}}, (a + row):totable())
    assert.same({{110, 210, 310}, {120, 220, 320}}, (col + row):totable())
    assert.same({{-9, -8, -7}, {-16, -15, -14}}, (a - col):totable())
    assert.same({{2, 4, 6}, {8, 10, 12}}, (a * 2):totable())
    assert.same({{1, 0.5, f32(1 / 3)}, {0.25, f32(0.2), f32(1 / 6)}}, (1 / a):totable())
    assert.same({{1, 4, 9}, {16, 25, 36}}, (a ^ 2):totable())
    assert.same({{-1, -2, -3}, {-4, -5, -6}}, (-a):totable())
    assert.same({{3, 3, 3}, {4, 5, 6}}, core.max(a, 3):totable())
    assert.same({{1, 2, 3}, {3, 3, 3}}, core.min(3, a):totable())
  end)

  it("takes numbers on either side", function()
    local a = core.tensor{1, 2, 4}
    assert.same({9, 8, 6}, (10 - a):totable())
    assert.same({-9, -8, -6}, (a - 10):totable())
    assert.same({2, 1, 0.5}, (2 / a):totable())
    assert.same({2, 4, 16}, (2 ^ a):totable())
    assert.same({0.5, 1, 2}, core.div(a, 2):totable())
  end)

  it("gives a number for two numbers, as Julia does", function()
    assert.equal(1, core.sub(2, 1))
    assert.equal("integer", math.type(core.add(2, 3)))
    assert.equal(1.5, core.div(3, 2))
    assert.equal(1, core.lt(1, 2))
  end)

  it("propagates NaN through maximum and minimum", function()
    local a = core.tensor{0 / 0, 1, 5}
    local m = core.max(a, 2):totable()
    assert.is_true(m[1] ~= m[1])
    assert.same({2, 5}, {m[2], m[3]})
    local n = core.min(2, a):totable()
    assert.is_true(n[1] ~= n[1])
    assert.same({1, 2}, {n[2], n[3]})
  end)

  it("works on strided views", function()
    local x = core.randn(5, 4, 3)
    local v = x:narrow(1, 2, 3):narrow(2, 2, 2)   -- 3×2×3, not contiguous
    assert.is_false(v:is_contiguous())
    local w = core.randn(3, 1, 3)
    local sizes, values = broadcast_reference(function(p, q) return p * q end, v, w)
    assert_values(v * w, sizes, values)
    sizes, values = broadcast_reference(function(p, q) return p - q end, w, v:select(3, 2))
    assert_values(w - v:select(3, 2), sizes, values)
  end)

  it("spreads large tensors over threads with the same result", function()
    local a, b = core.randn(300, 200), core.randn(300, 1)
    local c = a + b
    local fa, fb, fc = flat(a), flat(b), flat(c)
    for _, i in ipairs{1, 299, 300, 301, 30000, 59999, 60000} do
      assert.equal(f32(fa[i] + fb[(i - 1) % 300 + 1]), fc[i])
    end
    local big = core.fill(1.5, 100000) + core.fill(2, 100000)
    assert.equal(100000 * 3.5, big:sum())
  end)

  it("writes into out, which may alias an input", function()
    local x = core.tensor{{1, 2}, {3, 4}}
    local out = core.zeros(2, 2)
    assert.equal(out, core.add(x, 1, out))
    assert.same({{2, 3}, {4, 5}}, out:totable())
    assert.equal(x, core.mul(x, x, x))
    assert.same({{1, 4}, {9, 16}}, x:totable())
    -- an input that is a broadcast view of the output is read before
    -- being overwritten
    local y = core.tensor{{1, 2, 3}, {4, 5, 6}}
    core.add(y, y:narrow(2, 1, 1), y)
    assert.same({{2, 3, 4}, {8, 9, 10}}, y:totable())
  end)

  it("checks out's size and element type", function()
    local x = core.zeros(2, 3)
    assert.equal("add: out has size 3×2, the result 2×3",
                 message(core.add, x, 1, core.zeros(3, 2)))
    assert.equal("add: out is Int32, the result Float32",
                 message(core.add, x, 1, core.zeros(2, 3, "int32")))
    assert.same({2, 3, 1}, core.add(x, 1, core.zeros(2, 3, 1)):size())
  end)

  it("names the function and both sizes when shapes do not broadcast", function()
    local a, b = core.zeros(2, 3), core.zeros(4, 3)
    assert.equal("add: sizes 2×3 and 4×3 do not broadcast", message(core.add, a, b))
    assert.equal("max: sizes 2×3 and 4×3 do not broadcast", message(core.max, a, b))
    assert.equal(".+: sizes 2×3 and 4×3 do not broadcast", message(function() return a + b end))
    assert.equal(".*: sizes 2×3 and 3×2 do not broadcast",
                 message(function() return a * core.zeros(3, 2) end))
    assert.equal("./: sizes 2×3 and 2×2 do not broadcast",
                 message(function() return a / core.zeros(2, 2) end))
    assert.equal("lt: sizes 2 and 3 do not broadcast", message(core.lt, core.zeros(2), core.zeros(3)))
    assert.equal(".-: expected a tensor or a number as argument 2, got string",
                 message(function() return a - "x" end))
    assert.equal("add: expected a tensor or a number as argument 1, got table",
                 message(core.add, {}, a))
  end)
end)

describe("Int32 arithmetic", function()
  local i = core.tensor({{1, 2}, {3, 4}}, "int32")

  it("keeps Int32 with Int32 and integers, as Julia does", function()
    local s = i + i
    assert.equal("Int32", s:dtype())
    assert.same({{2, 4}, {6, 8}}, s:totable())
    assert.equal("Int32", (i * 3):dtype())
    assert.equal("Int32", (i ^ 2):dtype())
    assert.same({{1, 4}, {9, 16}}, (i ^ 2):totable())
    assert.equal("Int32", core.max(i, 2):dtype())
    assert.equal("Int32", (-i):dtype())
    assert.equal("Int32", core.abs(-i):dtype())
  end)

  it("gives Float32 for division, mixed types and float numbers", function()
    assert.equal("Float32", (i / i):dtype())
    assert.same({{0.5, 1}, {1.5, 2}}, (i / 2):totable())
    assert.equal("Float32", (i + core.ones(2, 2)):dtype())
    assert.equal("Float32", (i + 0.5):dtype())
    assert.same({{1.5, 2.5}, {3.5, 4.5}}, (i + 0.5):totable())
    assert.equal("Float32", core.exp(i):dtype())
  end)

  it("wraps around on overflow", function()
    local m = core.tensor({2147483647, -2147483648}, "int32")
    assert.same({-2147483648, 2147483647}, (m + core.tensor({1, -1}, "int32")):totable())
    assert.same({-2147483648}, core.neg(core.tensor({-2147483648}, "int32")):totable())
    assert.same({-2147483648}, core.abs(core.tensor({-2147483648}, "int32")):totable())
    assert.same({0, 1, 59049}, core.pow(core.tensor({2, 1, 3}, "int32"), core.tensor({40, 7, 10}, "int32")):totable())
    -- negative exponents: the real result truncated towards zero
    assert.same({0, 1, -1, 1}, core.pow(core.tensor({2, 1, -1, -1}, "int32"),
                                        core.tensor({-3, -3, -3, -2}, "int32")):totable())
  end)
end)

describe("comparisons", function()
  it("give Float32 masks of 0 and 1", function()
    local a = core.tensor{1, 2, 3}
    local b = core.tensor{3, 2, 1}
    local cases = {
      eq = {0, 1, 0}, ne = {1, 0, 1}, lt = {1, 0, 0},
      le = {1, 1, 0}, gt = {0, 0, 1}, ge = {0, 1, 1},
    }
    for name, want in pairs(cases) do
      local m = core[name](a, b)
      assert.equal("Float32", m:dtype())
      assert.same(want, m:totable())
    end
    assert.same({0, 1, 1}, core.gt(a, 1.5):totable())
    assert.same({{1, 1, 1}, {0, 1, 1}, {0, 0, 1}}, core.le(a, core.tensor{{1, 2, 3}}):totable())
    local ia = core.tensor({1, 2, 3}, "int32")
    assert.equal("Float32", core.eq(ia, ia):dtype())
    assert.same({0, 1, 0}, core.eq(ia, core.tensor({5, 2, 7}, "int32")):totable())
  end)

  it("treat NaN as unequal to everything", function()
    local n = core.tensor{0 / 0}
    assert.same({0}, core.eq(n, n):totable())
    assert.same({1}, core.ne(n, n):totable())
  end)
end)

describe("unary functions", function()
  local funcs = {
    neg = function(x) return -x end,
    exp = math.exp,
    log = math.log,
    sqrt = math.sqrt,
    abs = math.abs,
    relu = function(x) return math.max(x, 0) end,
    sigmoid = function(x) return 1 / (1 + math.exp(-x)) end,
    tanh = function(x) return (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1) end,
  }
  local positive_only = {log = true, sqrt = true}

  for name, f in pairs(funcs) do
    it(name .. " matches Lua on contiguous and strided tensors", function()
      local x = core.randn(6, 5)
      if positive_only[name] then x = core.abs(x) + 0.01 end
      local views = {x, x:narrow(1, 2, 3), x:select(2, 4)}
      for _, v in ipairs(views) do
        local y = core[name](v)
        assert.same(v:size(), y:size())
        local vx, vy = flat(v), flat(y)
        for k = 1, #vx do
          local want = f(vx[k])
          assert(math.abs(vy[k] - want) <= 2e-6 * math.max(1, math.abs(want)),
                 ("%s(%.9g) = %.9g, expected %.9g"):format(name, vx[k], vy[k], want))
        end
      end
    end)
  end

  it("are also methods and take an out, in place included", function()
    local x = core.tensor{1, 4, 9}
    assert.same({1, 2, 3}, x:sqrt():totable())
    core.sqrt(x, x)
    assert.same({1, 2, 3}, x:totable())
    local y = core.tensor{{-1, 2}, {3, -4}}
    local out = core.zeros(2, 2)
    assert.equal(out, core.relu(y, out))
    assert.same({{0, 2}, {3, 0}}, out:totable())
    local z = core.tensor{{-1, 2, -3}, {3, -4, 5}}
    core.abs(z:narrow(2, 2, 2), z:narrow(2, 1, 2))  -- overlapping views
    assert.same({{2, 3, -3}, {4, 5, 5}}, z:totable())
    assert.equal("exp: out has size 3, the result 2×2", message(core.exp, y, core.zeros(3)))
  end)

  it("gives Julia's values at known points", function()
    local e = core.exp(core.tensor{0, 1}):totable()
    assert.equal(1, e[1])
    assert.near(math.exp(1), e[2], 3e-7)   -- oneDNN's exp is within an ulp or two
    assert.equal(f32(math.log(f32(1.0001))), core.log(core.tensor{1.0001}):item())
    assert.same({0.5}, core.sigmoid(core.tensor{0}):totable())
    assert.same({0, 0, 3}, core.relu(core.tensor{-2, 0, 3}):totable())
    local l = core.log(core.tensor{0, -1}):totable()
    assert.equal(-math.huge, l[1])
    assert.is_true(l[2] ~= l[2])
    local r = core.relu(core.tensor({-1, 0, 2}, "int32") - 1)
    assert.equal("Int32", r:dtype())
    assert.same({0, 0, 1}, r:totable())
  end)
end)

-- Reductions in Lua over the flat column-major values.
local function reduce_reference(t, dim, init, f)
  local sizes, values = t:size(), flat(t)
  local out_sizes = {}
  for d = 1, #sizes do out_sizes[d] = d == dim and 1 or sizes[d] end
  local out = {}
  for linear = 0, #values - 1 do
    local rest, o, od = linear, 0, 1
    local index_along
    for d = 1, #sizes do
      local i = rest % sizes[d]
      rest = rest // sizes[d]
      if d == dim then index_along = i + 1 else o = o + i * od end
      od = od * out_sizes[d]
    end
    out[o + 1] = f(out[o + 1] or init, values[linear + 1], index_along)
  end
  return out_sizes, out
end

describe("reductions", function()
  before_each(function() math.randomseed(7) end)

  local function random_sizes()
    local s = {}
    for d = 1, math.random(1, 4) do s[d] = math.random(1, 5) end
    return s
  end

  it("sum, mean, max and min over everything match Lua", function()
    for _ = 1, 20 do
      local t = core.randn(random_sizes())
      local v = flat(t)
      local s, mx, mn = 0, -math.huge, math.huge
      for _, x in ipairs(v) do s, mx, mn = s + x, math.max(mx, x), math.min(mn, x) end
      assert.near(s, t:sum(), 1e-5 * math.max(1, math.abs(s)))
      assert.equal(f32(s), t:sum())
      assert.equal(f32(s / #v), t:mean())
      assert.equal(mx, t:maximum())
      assert.equal(mn, t:minimum())
    end
  end)

  it("along a dimension keep it with size 1 and match Lua", function()
    for _ = 1, 20 do
      local sizes = random_sizes()
      local t = core.randn(sizes)
      for dim = 1, #sizes do
        local os, sums = reduce_reference(t, dim, 0, function(acc, x) return acc + x end)
        assert_values(t:sum(dim), os, sums, 1e-6)
        local means = {}
        for k, s in ipairs(sums) do means[k] = s / sizes[dim] end
        assert_values(core.mean(t, dim), os, means, 1e-6)
        local _, maxs = reduce_reference(t, dim, -math.huge, function(m, x) return math.max(m, x) end)
        assert_values(t:maximum(dim), os, maxs)
        local _, mins = reduce_reference(t, dim, math.huge, function(m, x) return math.min(m, x) end)
        assert_values(core.minimum(t, dim), os, mins)
      end
    end
  end)

  it("give exact known values, Julia's dims semantics", function()
    local a = core.tensor{{1, 2, 3}, {4, 5, 6}}
    assert.equal(21, a:sum())
    assert.equal(3.5, a:mean())
    assert.same({{5, 7, 9}}, a:sum(1):totable())
    assert.same({{6}, {15}}, a:sum(2):totable())
    assert.same({2, 1}, a:sum(2):size())
    assert.same({{2.5, 3.5, 4.5}}, a:mean(1):totable())
    assert.same({{3}, {6}}, a:maximum(2):totable())
    assert.same({{1, 2, 3}}, a:minimum(1):totable())
    assert.same(a:totable(), a:sum(3):totable())   -- a dimension past the last
    assert.same({2, 3}, a:sum(3):size())
  end)

  it("work on strided views", function()
    local x = core.randn(4, 5, 3)
    local v = x:narrow(2, 2, 3)
    assert.is_false(v:is_contiguous())
    local c = v:clone()
    assert.equal(c:sum(), v:sum())
    for dim = 1, 3 do assert.is_true(c:maximum(dim) == v:maximum(dim)) end
    assert.is_true(c:sum(2) == v:sum(2))
  end)

  it("of Int32 tensors stay integers, the mean is Float32", function()
    local i = core.tensor({{1, 2}, {3, 4}}, "int32")
    assert.equal(10, i:sum())
    assert.equal("integer", math.type(i:sum()))
    assert.equal(4, i:maximum())
    assert.equal("integer", math.type(i:maximum()))
    assert.equal(2.5, i:mean())
    assert.equal("Int32", i:sum(1):dtype())
    assert.same({{4, 6}}, i:sum(1):totable())
    assert.equal("Float32", i:mean(2):dtype())
  end)

  it("of empty tensors follow Julia", function()
    local e = core.zeros(0, 3)
    assert.equal(0, e:sum())
    assert.is_true(e:mean() ~= e:mean())
    assert.same({{0, 0, 0}}, e:sum(1):totable())
    assert.same({0, 1}, e:maximum(2):size())
    assert.equal("maximum: empty tensor", message(core.maximum, e))
    assert.equal("minimum: empty tensor", message(core.minimum, core.zeros(0)))
    assert.equal("maximum: dimension 1 of 0×3 is empty", message(core.maximum, e, 1))
    assert.equal("argmax: empty tensor", message(core.argmax, e))
    assert.equal("argmin: dimension 1 of 0×3 is empty", message(core.argmin, e, 1))
  end)

  it("let NaN win max and min, as Julia's maximum", function()
    local t = core.tensor{1, 0 / 0, 3}
    assert.is_true(t:maximum() ~= t:maximum())
    assert.is_true(t:minimum() ~= t:minimum())
    assert.equal(2, t:argmax())
    assert.equal(2, t:argmin())
  end)

  it("check the dimension", function()
    assert.matches("dimension must be at least 1", message(core.sum, core.zeros(2), 0))
  end)

  it("sum a million Float32 elements to Float32 precision", function()
    assert.equal(100000, core.fill(0.1, 1000000):sum())   -- 0.1f0 = 0.100000001490116
    assert.equal(f32(500000500000), core.range(1, 1000000):sum())
    assert.equal(f32(500000.5), core.range(1, 1000000):mean())
    local r = core.range(1, 1000000):reshape(1000, 1000)
    local cols = r:sum(1):totable()[1]
    assert.equal(500500, cols[1])
    assert.equal(f32(999000 * 1000 + 500500), cols[1000])
    assert.equal(f32(1000 * 1000 + 1000 * 499500), r:sum(2):totable()[1000][1])
    assert.equal(1000000, r:maximum())
    assert.equal(1000000, r:argmax())
    assert.equal(1, r:argmin())
  end)
end)

describe("argmax and argmin", function()
  it("give 1-based linear indices of the first extreme", function()
    local a = core.tensor{{1, 7, 7}, {7, 0, 0}}      -- column-major: 1 7 7 0 7 0
    assert.equal(2, a:argmax())
    assert.equal(4, a:argmin())
    assert.equal("integer", math.type(a:argmax()))
  end)

  it("along a dimension give Int32 indices with that dimension of size 1", function()
    local a = core.tensor{{1, 7, 7}, {7, 0, 7}}
    local m = a:argmax(1)
    assert.equal("Int32", m:dtype())
    assert.same({1, 3}, m:size())
    assert.same({{2, 1, 1}}, m:totable())
    assert.same({{2}, {1}}, core.argmax(a, 2):totable())
    assert.same({{1}, {2}}, core.argmin(a, 2):totable())
  end)

  it("match a Lua loop along every dimension", function()
    math.randomseed(3)
    for _ = 1, 10 do
      local sizes = {math.random(1, 4), math.random(1, 4), math.random(1, 4)}
      local t = core.randn(sizes)
      for dim = 1, 3 do
        local os, best = reduce_reference(t, dim, {-math.huge, 0}, function(acc, x, i)
          if x > acc[1] then return {x, i} end
          return acc
        end)
        local want = {}
        for k, v in ipairs(best) do want[k] = v[2] end
        assert_values(t:argmax(dim), os, want)
      end
    end
  end)
end)

describe("sum_to", function()
  it("reverses broadcasting", function()
    math.randomseed(11)
    for _ = 1, 30 do
      local big, small = {}, {}
      for d = 1, math.random(1, 4) do
        big[d] = math.random(1, 4)
        small[d] = math.random() < 0.5 and 1 or big[d]
      end
      while #small > 0 and small[#small] == 1 and math.random() < 0.5 do table.remove(small) end
      local g = core.randn(big)
      local s = core.sum_to(g, small)
      assert.same(small, s:size())
      -- element k of the result sums the elements of g that broadcast from k
      local _, index = broadcast_reference(function(_, y) return y end, g,
                                           core.range(1, product(small)):reshape(#small > 0 and small or {1}))
      local want, values = {}, flat(g)
      for i, k in ipairs(index) do want[k] = (want[k] or 0) + values[i] end
      assert_values(s:reshape(-1), {product(small)}, want, 1e-5)
    end
  end)

  it("gives exact known values", function()
    local g = core.tensor{{1, 2, 3}, {4, 5, 6}}
    assert.same({{6}, {15}}, core.sum_to(g, {2, 1}):totable())
    assert.same({5, 7, 9}, core.sum_to(g, {1, 3}):reshape(-1):totable())
    assert.same({{6}, {15}}, core.sum_to(g, {2}):reshape(2, 1):totable())
    assert.equal(21, core.sum_to(g, {1, 1}):item())
    assert.equal(21, core.sum_to(g, {}):item())
    assert.same(g:totable(), core.sum_to(g, {2, 3}):totable())
    assert.same({2, 3, 1}, core.sum_to(g, {2, 3, 1}):size())
  end)

  it("names both sizes when they do not fit", function()
    assert.equal("sum_to: cannot reduce size 2×3 to 3", message(core.sum_to, core.zeros(2, 3), {3}))
    assert.equal("sum_to: cannot reduce size 2×3 to 2×3×2",
                 message(core.sum_to, core.zeros(2, 3), {2, 3, 2}))
  end)
end)

describe("matmul and transpose", function()
  local function matmul_reference(a, b)
    local at, bt = a:totable(), b:totable()
    local m, k, n = #at, #bt, #bt[1]
    local c = {}
    for i = 1, m do
      c[i] = {}
      for j = 1, n do
        local s = 0
        for p = 1, k do s = s + at[i][p] * bt[p][j] end
        c[i][j] = s
      end
    end
    return c
  end

  local function assert_matrix_near(c, want)
    for i = 1, #want do
      for j = 1, #want[1] do
        assert(math.abs(c[i][j] - want[i][j]) <= 1e-5 * math.max(1, math.abs(want[i][j])),
               ("[%d,%d] %.9g, expected %.9g"):format(i, j, c[i][j], want[i][j]))
      end
    end
  end

  it("matches a Lua loop on random shapes", function()
    math.randomseed(5)
    for _ = 1, 20 do
      local m, k, n = math.random(1, 7), math.random(1, 7), math.random(1, 7)
      local a, b = core.randn(m, k), core.randn(k, n)
      local c = core.matmul(a, b)
      assert.same({m, n}, c:size())
      assert_matrix_near(c:totable(), matmul_reference(a, b))
    end
  end)

  it("gives exact known values", function()
    local a = core.tensor{{1, 2, 3}, {4, 5, 6}}       -- 2×3
    local b = core.tensor{{1, 0}, {0, 1}, {1, 1}}     -- 3×2
    assert.same({{4, 5}, {10, 11}}, core.matmul(a, b):totable())
    assert.same({{1, 2, 3}, {4, 5, 6}, {5, 7, 9}}, b:matmul(a):totable())
  end)

  it("multiplies a matrix by a vector", function()
    local a = core.tensor{{1, 2, 3}, {4, 5, 6}}
    local v = core.tensor{1, 1, 2}
    local y = core.matmul(a, v)
    assert.same({2}, y:size())
    assert.same({9, 21}, y:totable())
    assert.same({{2, 4, 6}, {3, 6, 9}}, core.matmul(core.tensor{2, 3}, core.tensor{{1, 2, 3}}):totable())
  end)

  it("uses strided views as they are", function()
    local big = core.randn(6, 7)
    local a = big:narrow(1, 2, 4):narrow(2, 3, 3)    -- 4×3, leading dimension 6
    local b = core.randn(5, 3):narrow(1, 2, 3)        -- 3×3
    assert.is_false(a:is_contiguous())
    assert_matrix_near(core.matmul(a, b):totable(), matmul_reference(a:clone(), b:clone()))
    local rowv = core.randn(4, 3):select(2, 2)        -- a vector of stride 1
    local colv = core.randn(4, 3):select(1, 2)        -- a vector of stride 4
    assert_matrix_near(core.matmul(a, colv):reshape(4, 1):totable(),
                       matmul_reference(a:clone(), colv:clone():reshape(3, 1)))
    assert.same({4}, core.matmul(core.randn(4, 4), rowv):size())
  end)

  it("handles empty inner and outer dimensions", function()
    assert.same({{0, 0}, {0, 0}}, core.matmul(core.zeros(2, 0), core.zeros(0, 2)):totable())
    assert.same({0, 2}, core.matmul(core.zeros(0, 3), core.zeros(3, 2)):size())
  end)

  it("names both sizes when they do not match", function()
    assert.equal("matmul: sizes 2×3 and 4×5 do not match (inner dimensions 3 and 4)",
                 message(core.matmul, core.zeros(2, 3), core.zeros(4, 5)))
    assert.equal("matmul: sizes 3 and 3 do not match (inner dimensions 1 and 3)",
                 message(core.matmul, core.zeros(3), core.zeros(3)))
    assert.equal("matmul: 1-D or 2-D tensors expected, got 2×2×2",
                 message(core.matmul, core.zeros(2, 2, 2), core.zeros(2, 2)))
    assert.equal("matmul: Float32 tensors expected, got Int32",
                 message(core.matmul, core.zeros(2, 2, "int32"), core.zeros(2, 2)))
  end)

  it("transposes matrices and vectors into copies", function()
    local a = core.tensor{{1, 2, 3}, {4, 5, 6}}
    local t = core.transpose(a)
    assert.same({{1, 4}, {2, 5}, {3, 6}}, t:totable())
    t:set(1, 1, 100)
    assert.equal(1, a:get(1, 1))
    assert.same({{1, 2, 3}}, core.transpose(core.tensor{1, 2, 3}):totable())
    assert.same({{2, 5}, {3, 6}}, a:narrow(2, 2, 2):transpose():totable())
    assert.equal("Int32", core.transpose(core.zeros(2, 2, "int32")):dtype())
    assert.equal("transpose: 1-D or 2-D tensor expected, got 2×2×2",
                 message(core.transpose, core.zeros(2, 2, 2)))
  end)
end)

describe("equality", function()
  it("== compares sizes and values exactly", function()
    local a = core.tensor{{1, 2}, {3, 4}}
    assert.is_true(a == a:clone())
    assert.is_true(a == core.tensor({{1, 2}, {3, 4}}, "int32"))
    assert.is_false(a == a + 1e-6)
    assert.is_false(a == a:reshape(4))
    assert.is_false(a == core.tensor{{1, 3}, {2, 4}})
    assert.is_false(core.tensor{0 / 0} == core.tensor{0 / 0})
    assert.is_true(a:narrow(2, 2, 1) == core.tensor{{2}, {4}})
  end)

  it("isapprox uses Julia's default tolerance sqrt(eps(Float32))", function()
    local a = core.tensor{1, 100, -1000}
    assert.is_true(core.isapprox(a, a * (1 + 3e-4)))
    assert.is_false(core.isapprox(a, a * (1 + 4e-4)))
    assert.is_true(core.isapprox(a, a + core.tensor{0, 0, 0.3}))
    assert.is_false(core.isapprox(a, a + core.tensor{0.001, 0, 0}))
    assert.is_true(core.isapprox(a, a + 0.001, 0, 0.002))      -- absolute
    assert.is_true(core.isapprox(a, a + core.tensor{0, 0, 1}, 1e-3))
    assert.is_false(core.isapprox(a, a + core.tensor{0, 0, 2}, 1e-3))
    assert.is_true(core.isapprox(core.zeros(3), core.tensor{0, 0, 1e-9}, nil, 1e-8))
    assert.is_false(core.isapprox(core.zeros(3), core.tensor{0, 0, 1e-9}))
    local inf = core.tensor{math.huge}
    assert.is_true(core.isapprox(inf, inf))
    assert.is_false(core.isapprox(core.tensor{0 / 0}, core.tensor{0 / 0}))
    assert.is_true(a:isapprox(a:clone()))
  end)

  it("isapprox names both sizes when they differ", function()
    assert.equal("isapprox: sizes 2×3 and 3×2 differ",
                 message(core.isapprox, core.zeros(2, 3), core.zeros(3, 2)))
  end)
end)

describe("the cnn table", function()
  local cnn = require "cnn"

  it("re-exports the maths with Julia's names", function()
    local x = cnn.tensor{{1, 5}, {3, 2}}
    assert.equal(5, cnn.maximum(x))
    assert.equal(1, cnn.minimum(x))
    assert.same({{3, 5}}, cnn.maximum(x, 1):totable())
    assert.equal(3, cnn.argmax(x))
    assert.equal(11, cnn.sum(x))
    assert.is_true(cnn.isapprox(cnn.transpose(cnn.transpose(x)), x))
    assert.same({{6}, {5}}, cnn.matmul(x, cnn.tensor{1, 1}):reshape(2, 1):totable())
    assert.is_true(cnn.isapprox(cnn.exp(cnn.log(x)), x))
  end)

  it("names the elementwise max and min as Julia's max.(a, b) and min.(a, b)", function()
    local a, b = cnn.tensor{{1, 5}, {3, 2}}, cnn.tensor{{4, 2}, {3, 0}}
    assert.same({{4, 5}, {3, 2}}, cnn.max(a, b):totable())
    assert.same({{1, 2}, {3, 0}}, cnn.min(a, b):totable())
    assert.same({{2, 5}, {3, 2}}, cnn.max(a, 2):totable())
    assert.same({{1, 1}, {1, 1}}, cnn.min(a, 1):totable())
    assert.same({{4, 5}, {4, 5}}, cnn.max(a, cnn.tensor{4, 5}:reshape(1, 2)):totable())
    assert.matches("max: sizes 2×2 and 3 do not broadcast$",
      select(2, pcall(cnn.max, a, cnn.ones(3))))
    assert.matches("min: expected a tensor or a number as argument 2, got no value$",
      select(2, pcall(cnn.min, a)))
    local g = cnn.gradient(function(x) return cnn.sum(cnn.max(x, 0)) end, cnn.tensor{1, -1, 0})
    assert.same({1, 0, 0.5}, g:totable())
  end)

  it("has the names of cnn.core, where max and min are elementwise and maximum and minimum reduce", function()
    local a, b = cnn.tensor{{1, 5}, {3, 2}}, cnn.tensor{{4, 2}, {3, 0}}
    assert.same(cnn.max(a, b):totable(), cnn.core.max(a, b):totable())
    assert.same(cnn.min(a, 2):totable(), cnn.core.min(a, 2):totable())
    assert.equal(cnn.maximum(a), cnn.core.maximum(a))
    assert.same(cnn.minimum(a, 2):totable(), cnn.core.minimum(a, 2):totable())
    assert.equal("maximum: empty tensor", message(cnn.maximum, cnn.zeros(0)))
    assert.equal("minimum: dimension 1 of 0×3 is empty", message(cnn.minimum, cnn.zeros(0, 3), 1))
  end)

  it("keeps the methods t:max() and t:min() as reductions, named so in their errors", function()
    local a = cnn.tensor{{1, 5}, {3, 2}}
    assert.equal(5, a:max())
    assert.same({{3, 5}}, a:max(1):totable())
    assert.equal(1, a:min())
    assert.equal(5, a:maximum())
    assert.same({{1}, {2}}, a:minimum(2):totable())
    assert.equal("max: empty tensor", message(function() return cnn.zeros(0):max() end))
    assert.equal("min: dimension 1 of 0×3 is empty", message(function() return cnn.zeros(0, 3):min(1) end))
    local g = cnn.gradient(function(x) return x:max() + x:minimum() end, a)
    assert.same({{1, 1}, {0, 0}}, g:totable())
  end)
end)
