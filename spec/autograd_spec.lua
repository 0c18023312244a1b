local cnn = require "cnn"
local helpers = require "helpers"

local core = cnn.core
local T = core.tensor
local near = helpers.assert_tensor_near

describe("cnn.gradient", function()
  it("differentiates with respect to tensor arguments", function()
    local x = T{1, 2, 3}
    local w = T{4, 5, 6}
    local gx, gw = cnn.gradient(function(a, b) return cnn.sum(a * b) end, x, w)
    near(gx, T{4, 5, 6})
    near(gw, T{1, 2, 3})
  end)

  it("returns gradients keyed by parameter, zeros for unused ones", function()
    local w, b, unused = T{{1, 2}, {3, 4}}, T{0.5, -0.5}, T{1}
    local x = T{1, -1}
    local gs = cnn.gradient(function()
      return cnn.sum(cnn.matmul(w, x) + b)
    end, {w, b, unused})
    -- d/dw sum(w x) = ones * x'
    near(gs[w], T{{1, -1}, {1, -1}})
    near(gs[b], T{1, 1})
    near(gs[unused], T{0}, 0, 0)
  end)

  it("gives the value with withgradient", function()
    local x = T{1, 2, 3}
    local v, gs = cnn.withgradient(function(a) return cnn.sum(a * a) end, x)
    assert.are.equal(14, v)
    near(gs[1], T{2, 4, 6})
    local w = T{2}
    local v2, gp = cnn.withgradient(function() return cnn.sum(w * 3) end, {w})
    assert.are.equal(6, v2)
    near(gp[w], T{3})
  end)

  it("adds up the gradients of a tensor used twice", function()
    local x = T{1, -2, 3}
    local g = cnn.gradient(function(a) return cnn.sum(a * a + a) end, x)
    near(g, T{3, -3, 7})
    local g2 = cnn.gradient(function(a) return cnn.sum(a + a) end, x)
    near(g2, T{2, 2, 2})
  end)

  it("sums the gradient of a broadcast operand down to its size", function()
    local x = T{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}} -- 3×4
    local b = T{1, 2, 3}                                     -- 3, broadcast over dim 2
    local r = T{{1, 1, 1, 2}}                                -- 1×4, broadcast over dim 1
    local gx, gb, gr = cnn.gradient(function(a, c, d)
      return cnn.sum((a + c) * d)
    end, x, b, r)
    near(gx, T{{1, 1, 1, 2}, {1, 1, 1, 2}, {1, 1, 1, 2}})
    near(gb, T{5, 5, 5})
    -- column sums of x + b
    near(gr, T{{21, 24, 27, 30}})
  end)

  it("handles numbers on either side of operators", function()
    local x = T{1, 2, 4}
    local g = cnn.gradient(function(a)
      return cnn.sum(2 * a - 1 + 1 / a - (-a) + a ^ 2 / 4)
    end, x)
    -- 2 - 1/a^2 + 1 + a/2
    near(g, T{2 - 1 + 1 + 0.5, 2 - 0.25 + 1 + 1, 2 - 1 / 16 + 1 + 2})
  end)

  it("records ops called inside plain Lua functions and methods", function()
    local function model(a) return (a * 3):exp():sum() end
    local function loss(a) return model(a) / 2 end
    local x = T{0, 0.5}
    local g = cnn.gradient(loss, x)
    near(g, T{1.5, 1.5 * math.exp(1.5)}, 1e-5)
    local g2 = cnn.gradient(function(a) return a:reshape(2, 2):mean() end, T{1, 2, 3, 4})
    near(g2, T{0.25, 0.25, 0.25, 0.25})
  end)

  it("returns zeros when the result does not depend on an argument", function()
    local x, y = T{1, 2}, T{3, 4}
    local gx, gy = cnn.gradient(function(_, b) return cnn.sum(b) end, x, core.clone(y))
    near(gx, T{0, 0}, 0, 0)
    near(gy, T{1, 1})
    local g = cnn.gradient(function() return 3 end, x)
    near(g, T{0, 0}, 0, 0)
    -- a fresh tensor for each, and nil for an argument that is not a tensor
    local v, gs = cnn.withgradient(function(_, b) return cnn.sum(b) end, x, core.ones(2, 3), "opt")
    assert.equal(6, v)
    assert.equal(3, gs.n)
    near(gs[1], T{0, 0}, 0, 0)
    assert.is_false(rawequal(gs[1], x))
    assert.is_nil(gs[3])
    local w, u = T{1}, core.zeros(2, 2)
    local v2, gp = cnn.withgradient(function() return cnn.sum(w * 2) end, {w, u})
    assert.equal(2, v2)
    near(gp[u], core.zeros(2, 2), 0, 0)
  end)

  it("refuses a freed tensor among the arguments or parameters, naming it", function()
    local dead = cnn.ones(2)
    dead:free()
    local function f(x) return cnn.sum(x) end
    assert.has_error(function() cnn.withgradient(f, cnn.ones(2), dead) end,
      "withgradient: argument 3 is a freed tensor")
    assert.has_error(function() cnn.gradient(function() return 1 end, {cnn.ones(1), dead}) end,
      "gradient: parameter 2 is a freed tensor")
  end)

  it("accepts a 1-element tensor as result", function()
    local x = T{1, 2}
    local g = cnn.gradient(function(a) return cnn.sum(a * a, 1) end, x)
    near(g, T{2, 4})
  end)
end)

describe("full reductions", function()
  it("give numbers outside a gradient call and 0-dim tensors inside", function()
    local x = T{1, 2, 3}
    assert.are.equal(6, cnn.sum(x))
    assert.are.equal(2, cnn.mean(x))
    assert.are.equal(6, x:sum())
    local inside
    cnn.gradient(function(a)
      inside = cnn.sum(a)
      return inside
    end, x)
    assert.are.equal(core.Tensor, getmetatable(inside))
    assert.are.equal(0, inside:ndims())
    assert.are.equal(6, cnn.item(inside))
    assert.are.equal(6, cnn.item(6))
  end)
end)

describe("the tape", function()
  it("records nothing outside a gradient call", function()
    local x = T{1, 2}
    assert.is_false(cnn.istracked(x))
    local y = x * 2
    assert.is_false(cnn.istracked(y))
    near(y, T{2, 4})
  end)

  it("tracks only what depends on the arguments, and forgets it afterwards", function()
    local x, c = T{1, 2}, T{3, 4}
    local y, z
    cnn.gradient(function(a)
      y = a * 2
      z = c * 2
      assert.is_true(cnn.istracked(a))
      assert.is_true(cnn.istracked(y))
      assert.is_false(cnn.istracked(z))
      return cnn.sum(y)
    end, x)
    assert.is_false(cnn.istracked(x))
    assert.is_false(cnn.istracked(y))
  end)

  it("matches the raw C operators forward", function()
    local raw = cnn.ops.raw_operators
    local a, b = T{1, 2, 3}, T{4, 5, 6}
    if raw.__add then
      near(a + b, raw.__add(a, b))
      near(a - b, raw.__sub(a, b))
      near(a * b, raw.__mul(a, b))
      near(a / b, raw.__div(a, b))
      near(a ^ 2, raw.__pow(a, 2))
    end
    near(-a, T{-1, -2, -3})
    near(a, T{1, 2, 3}) -- unary minus did not write into its operand
  end)
end)

describe("cnn.op", function()
  local calls
  local cube = cnn.op{
    name = "cube",
    forward = function(ctx, x)
      ctx:save(x)
      return core.mul(core.mul(x, x), x)
    end,
    backward = function(ctx, gy)
      calls = calls + 1
      local x = ctx.saved[1]
      return core.mul(gy, core.mul(core.mul(x, x), 3))
    end,
  }

  it("makes a differentiable function from forward and backward", function()
    calls = 0
    local x = T{1, -2, 0.5}
    near(cube(x), T{1, -8, 0.125})
    local g = cnn.gradient(function(a) return cnn.sum(cube(a)) end, x)
    near(g, T{3, 12, 0.75})
    assert.are.equal(1, calls)
    helpers.gradcheck(function(a) return cnn.sum(cube(a) * a) end, {T{0.5, -1, 2}})
  end)

  it("tells the backward which arguments need a gradient", function()
    local seen
    local f = cnn.op{
      name = "f",
      forward = function(_, a, b) return core.mul(a, b) end,
      backward = function(ctx, gy)
        seen = {ctx.needs[1], ctx.needs[2], ctx.needs[3]}
        return gy, nil
      end,
    }
    local x = T{1, 2}
    cnn.gradient(function(a) return cnn.sum(f(a, T{3, 4}, "opt")) end, x)
    assert.are.same({true, false, false}, seen)
  end)

  it("checks its definition", function()
    assert.has_error(function() cnn.op{forward = function() end} end)
    assert.has_error(function() cnn.op{name = "x", forward = function() end} end)
  end)

  it("rejects a gradient of the wrong size", function()
    local bad = cnn.op{
      name = "bad",
      forward = function(_, x) return core.clone(x) end,
      backward = function() return T{1, 2, 3} end,
    }
    assert.has_error(function()
      cnn.gradient(function(a) return cnn.sum(bad(a)) end, T{1, 2})
    end, "gradient: bad returned a gradient of size 3 for argument 1 of size 2")
  end)
end)

describe("errors", function()
  it("rejects a non-scalar result", function()
    local x = core.ones(10, 4)
    assert.has_error(function()
      cnn.gradient(function(a) return a * 2 end, x)
    end, "gradient: f must return a scalar, got a 10×4 tensor")
    assert.has_error(function()
      cnn.withgradient(function() return "x" end, x)
    end, "withgradient: f must return a scalar, got a string")
  end)

  it("stops a gradient at a non-differentiable op", function()
    local x = T{1, -2, 3}
    assert.has_error(function()
      cnn.gradient(function(a) return cnn.sum(cnn.ops.gt(a, 0) * a) end, x)
    end, "gradient: gt is not differentiable")
    -- forward is fine, and a result that does not reach it differentiates
    local g = cnn.gradient(function(a)
      local mask = cnn.ops.gt(a, 0)
      assert.are.equal(2, core.sum(mask))
      return cnn.sum(a)
    end, x)
    near(g, T{1, 1, 1})
  end)

  it("does not nest", function()
    local x = T{1}
    assert.has_error(function()
      cnn.gradient(function(a)
        cnn.gradient(function(b) return cnn.sum(b) end, a)
        return cnn.sum(a)
      end, x)
    end)
    -- the failed call left no tape behind
    local g = cnn.gradient(function(a) return cnn.sum(a) end, x)
    near(g, T{1})
  end)

  it("passes errors of f through and leaves no tape behind", function()
    local x = T{1}
    assert.has_error(function()
      cnn.gradient(function() error("boom", 0) end, x)
    end, "boom")
    assert.is_false(cnn.istracked(x))
  end)

  it("rejects a parameter list with a non-tensor", function()
    assert.has_error(function()
      cnn.gradient(function() return 1 end, {T{1}, "w"})
    end)
  end)
end)
