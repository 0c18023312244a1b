-- cnn.loadparams: a model's parameters set from another model or from a
-- list of tensors, sizes checked first, values copied in place.
local cnn = require "cnn"
local helpers = require "helpers"

local err = helpers.error_message

local function build(channels)
  return cnn.Chain(cnn.Conv({3, 3}, 1, channels or 4, cnn.relu), cnn.BatchNorm(channels or 4),
    cnn.flatten, cnn.Dense(4 * (channels or 4) // 4, 2))
end

local function values(list)
  local out = {}
  for i, t in ipairs(list) do out[i] = helpers.flat(t) end
  return out
end

describe("loadparams", function()
  cnn.seed(3)
  local x = cnn.rand(3, 3, 1, 5)

  it("copies another model's parameters and running statistics into the model's own tensors", function()
    local a, b = build(), build()
    cnn.trainmode(a)
    a(x) -- running statistics that differ from b's
    cnn.testmode(a)
    cnn.testmode(b)
    local ps = cnn.params(b)
    local before = {}
    for i, p in ipairs(ps) do before[i] = p end
    assert.is_true(rawequal(b, cnn.loadparams(b, a)))
    local after = cnn.params(b)
    for i, p in ipairs(before) do assert.is_true(rawequal(p, after[i])) end
    assert.are.same(values(cnn.params(a)), values(after))
    assert.are.same(helpers.flat(a[2].running_mean), helpers.flat(b[2].running_mean))
    assert.are.same(helpers.flat(a[2].running_var), helpers.flat(b[2].running_var))
    assert.is_false(rawequal(a[1].weight, b[1].weight))
    helpers.assert_tensor_near(b(x), a(x), 0, 0)
  end)

  it("copies a list of tensors in cnn.params order, the parameters only", function()
    local m = cnn.Chain(cnn.Dense(3, 2, cnn.relu), cnn.BatchNorm(2))
    local w, b = cnn.tensor({{1, 2, 3}, {4, 5, 6}}), cnn.tensor({0.5, -0.5})
    local gamma, beta = cnn.fill(2, 2), cnn.fill(0.25, 2)
    m[2].running_mean:fill(7)
    cnn.loadparams(m, {w, b, gamma, beta})
    assert.are.same({{1, 2, 3}, {4, 5, 6}}, m[1].weight:totable())
    assert.are.same({0.5, -0.5}, m[1].bias:totable())
    assert.are.same({2, 2}, m[2].gamma:totable())
    assert.are.same({7, 7}, m[2].running_mean:totable())
    -- copies, not the given tensors
    assert.is_false(rawequal(w, m[1].weight))
    w:fill(0)
    assert.are.same({{1, 2, 3}, {4, 5, 6}}, m[1].weight:totable())
  end)

  it("keeps an optimiser's state valid: the parameters stay the same tensors", function()
    local m, source = cnn.Dense(3, 2), cnn.Dense(3, 2)
    local ps, opt = cnn.params(m), cnn.ADAM(0.1)
    local function step()
      local gs = cnn.gradient(function() return cnn.sum(m(cnn.ones(3, 4))) end, ps)
      cnn.update(opt, ps, gs)
    end
    step()
    cnn.loadparams(m, source)
    local w = m.weight:clone()
    step()
    assert.is_true(cnn.maximum(cnn.abs(m.weight - w)) > 0.01)
    assert.is_true(rawequal(ps[1], m.weight))
  end)

  it("names the parameter, its path and both sizes when a size differs, and copies nothing", function()
    local m = build()
    local saved = values(cnn.params(m))
    assert.are.equal("loadparams: parameter 1 (m[1].weight) is 3×3×1×4 but the source's is 3×3×1×8",
      err(cnn.loadparams, m, build(8)))
    local list = cnn.params(build())
    list[5] = cnn.ones(3, 4)
    assert.are.equal("loadparams: parameter 5 (m[4].weight) is 2×4 but source[5] is 3×4", err(cnn.loadparams, m, list))
    list[5] = cnn.ones(2, 4, "int32")
    assert.are.equal("loadparams: parameter 5 (m[4].weight) is a Float32 tensor (2×4) but source[5] is an "
      .. "Int32 tensor (2×4)", err(cnn.loadparams, m, list))
    assert.are.same(saved, values(cnn.params(m)))
  end)

  it("names a parameter by its field in a layer written in Lua, and by its position in a closure", function()
    local scale = cnn.ones(2)
    local user = setmetatable({scale = scale}, {__call = function(self, v) return v * self.scale end})
    local bias = cnn.zeros(2)
    local m = cnn.Chain(cnn.Dense(2, 2), user, function(v) return v + bias end)
    assert.are.equal("loadparams: parameter 3 (m[2].scale) is 2 but source[3] is 3",
      err(cnn.loadparams, m, {cnn.ones(2, 2), cnn.ones(2), cnn.ones(3), cnn.ones(2)}))
    assert.are.equal("loadparams: parameter 4 is 2 but source[4] is 2×1",
      err(cnn.loadparams, m, {cnn.ones(2, 2), cnn.ones(2), cnn.ones(2), cnn.ones(2, 1)}))
    cnn.loadparams(m, {cnn.ones(2, 2), cnn.ones(2), cnn.fill(3, 2), cnn.fill(4, 2)})
    assert.are.same({3, 3}, scale:totable())
    assert.are.same({4, 4}, bias:totable())
  end)

  it("refuses what is not a model or a source, and sources of another count", function()
    local m = cnn.Dense(3, 2)
    assert.are.equal("loadparams: model must be a layer or a model such as a Chain, got 5", err(cnn.loadparams, 5, m))
    assert.are.equal("loadparams: source must be a model of the same architecture or a list of tensors such as "
      .. "cnn.params(m), got 5", err(cnn.loadparams, m, 5))
    assert.are.equal("loadparams: source[2] must be a live tensor, got 1", err(cnn.loadparams, m, {cnn.ones(2, 3), 1}))
    assert.are.equal("loadparams: the model has 2 parameters but the source list holds 1 (it must hold them in "
      .. "cnn.params order)", err(cnn.loadparams, m, {cnn.ones(2, 3)}))
    assert.are.equal("loadparams: the model has 2 parameters and 0 non-trainable tensors, the source 4 and 2: "
      .. "it must have the same architecture", err(cnn.loadparams, m, cnn.Chain(cnn.Dense(3, 2), cnn.BatchNorm(2))))
    assert.are.equal("loadparams: expected at most 2 arguments (model, source), got 3",
      err(cnn.loadparams, m, m, {}))
    local freed = cnn.ones(2)
    freed:free()
    assert.are.equal("loadparams: source[2] must be a live tensor, got a freed tensor",
      err(cnn.loadparams, m, {cnn.ones(2, 3), freed}))
  end)
end)

describe("copy", function()
  it("copies a tensor of the same sizes in place, as cnn.copy and as a method", function()
    local dst = cnn.zeros(2, 3)
    assert.is_true(rawequal(dst, cnn.copy(dst, cnn.ones(2, 3))))
    assert.equal(6, cnn.sum(dst))
    assert.is_true(rawequal(dst, dst:copy(cnn.fill(2, 2, 3))))
    assert.equal(12, cnn.sum(dst))
  end)

  it("refuses a source that would broadcast, naming both sizes", function()
    local dst = cnn.zeros(2, 3)
    assert.are.equal("copy: the source is 2 but the destination is 2×3; copy takes a source of the same sizes "
      .. "(fill(dst, v) sets every element to one number)", err(cnn.copy, dst, cnn.ones(2)))
    assert.equal(0, cnn.sum(dst))
    assert.is_true(rawequal(dst, cnn.fill(dst, 1.5)))
    assert.equal(9, cnn.sum(dst))
  end)
end)
