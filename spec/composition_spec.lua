-- Models composed in Lua: SkipConnection, Parallel, layers written as
-- tables and closures in a Chain all give every trainable tensor to
-- cnn.params, printing, the modes and checkpoints.
local cnn = require "cnn"
local helpers = require "helpers"

local function block(c)
  return cnn.Chain(cnn.Conv({3, 3}, c, c, {pad = 1}), cnn.BatchNorm(c, cnn.relu),
    cnn.Conv({3, 3}, c, c, {pad = 1}))
end

local function resnet(residual)
  return cnn.Chain(cnn.Conv({3, 3}, 1, 8, {pad = 1}), residual(block(8)), residual(block(8)),
    cnn.GlobalMeanPool(), cnn.flatten, cnn.Dense(8, 10))
end

local function with_skip(f) return cnn.SkipConnection(f, function(mx, x) return mx + x end) end
local function with_closure(f) return function(x) return cnn.relu(f(x) + x) end end

-- PyTorch's count for the same model: Conv2d(1, 8, 3) 8*9 + 8, each block
-- two Conv2d(8, 8, 3) of 8*8*9 + 8 and a BatchNorm2d(8) of 8 + 8 (running
-- statistics are buffers), Linear(8, 10) 80 + 10.
local PYTORCH_COUNT = (8 * 9 + 8) + 2 * (2 * (8 * 8 * 9 + 8) + (8 + 8)) + (8 * 10 + 10)
local PYTORCH_ARRAYS = 2 + 2 * 6 + 2

local function count(ps)
  local n = 0
  for _, p in ipairs(ps) do n = n + p:numel() end
  return n
end

local function assert_every_gradient_nonzero(m, ps, x)
  local gs = cnn.gradient(function() return cnn.sum(m(x) * m(x)) end, ps)
  for i, p in ipairs(ps) do
    assert.is_not_nil(gs[p], "no gradient for parameter " .. i)
    assert.is_true(cnn.sum(gs[p] * gs[p]) > 0, "zero gradient for parameter " .. i)
  end
end

describe("a ResNet written in Lua", function()
  local x = cnn.randn(6, 6, 1, 2)

  for name, residual in pairs({SkipConnection = with_skip, closures = with_closure}) do
    it("with " .. name .. " has PyTorch's parameter count and trains all of it", function()
      local m = resnet(residual)
      local ps = cnn.params(m)
      assert.equal(PYTORCH_ARRAYS, #ps)
      assert.equal(PYTORCH_COUNT, count(ps))
      assert_every_gradient_nonzero(m, ps, x)
      assert.truthy(tostring(m):find("Total: 16 arrays, 2_538 parameters", 1, true))
    end)
  end

  it("sees through SkipConnection for the modes and the checkpoint", function()
    local m = resnet(with_skip)
    cnn.testmode(m)
    assert.equal("test", m[2].layer[2].mode)
    cnn.trainmode(m, "auto")
    assert.equal("auto", m[3].layer[2].mode)
    local path = os.tmpname()
    cnn.savemodel(path, m)
    local other = resnet(with_skip)
    cnn.loadmodel(path, other)
    os.remove(path)
    local a, b = cnn.params(m), cnn.params(other)
    for i = 1, #a do helpers.assert_tensor_near(b[i], a[i], 0, 0) end
  end)

  it("prints and summarises a SkipConnection with its parameters", function()
    local s = tostring(with_skip(cnn.Dense(2, 2)))
    assert.equal("SkipConnection(Dense(2 => 2), function (spec/composition_spec.lua:17))", s)
    assert.equal("SkipConnection(Chain(Dense(2 => 2), relu), +)",
      tostring(cnn.SkipConnection(cnn.Chain(cnn.Dense(2, 2), cnn.relu))))
    local summary = cnn.summary(resnet(with_skip), {6, 6, 1, 1})
    assert.truthy(summary:find("\nSkipConnection%(Chain%(Conv[^\n]-%)%s+6×6×8×1%s+1_184\n"))
    assert.truthy(summary:find("Total: 16 arrays, 2_538 parameters", 1, true))
  end)
end)

describe("SkipConnection and Parallel", function()
  it("compute connection(layer(x), x), addition by default", function()
    local d = cnn.Dense(3, 3)
    local x = cnn.randn(3, 2)
    helpers.assert_tensor_near(cnn.SkipConnection(d)(x), d(x) + x, 1e-6, 1e-6)
    helpers.assert_tensor_near(cnn.SkipConnection(d, function(mx, y) return mx * y end)(x),
      d(x) * x, 1e-6, 1e-6)
  end)

  it("Parallel gives each layer the input and the connection their outputs", function()
    local a, b = cnn.Dense(3, 2), cnn.Dense(3, 2)
    local p = cnn.Parallel(function(u, v) return u - v end, a, b)
    local x = cnn.randn(3, 4)
    helpers.assert_tensor_near(p(x), a(x) - b(x), 1e-6, 1e-6)
    local ps = cnn.params(p)
    assert.same({a.weight, a.bias, b.weight, b.bias}, ps)
    assert_every_gradient_nonzero(p, ps, x)
  end)

  it("refuse what is not a layer or a connection", function()
    assert.equal("SkipConnection: layer must be a function such as cnn.Chain(...), got 3",
      helpers.error_message(cnn.SkipConnection, 3))
    assert.equal("SkipConnection: connection must be a function such as function(mx, x) return mx + x end,"
      .. " got \"+\"", helpers.error_message(cnn.SkipConnection, cnn.relu, "+"))
    assert.equal("Parallel: expected a connection and at least one layer, got no layer",
      helpers.error_message(cnn.Parallel, function(a) return a end))
    assert.equal("Parallel: layer 2 must be a function such as cnn.Dense(4, 2), got 5",
      helpers.error_message(cnn.Parallel, function(a) return a end, cnn.relu, 5))
  end)
end)

describe("a layer written as a Lua table", function()
  local function Scale(c)
    return setmetatable({scale = cnn.ones(1, 1, c, 1), name = "scale"},
      {__call = function(self, x) return x * self.scale end})
  end

  it("has its tensors found in its fields, printed and checkpointed", function()
    local s = Scale(4)
    local m = cnn.Chain(cnn.Conv({3, 3}, 1, 4), s, cnn.flatten)
    local ps = cnn.params(m)
    assert.equal(3, #ps)
    assert.equal(s.scale, ps[3])
    assert.truthy(tostring(m):find("Layer(name, scale),", 1, true))
    local path = os.tmpname()
    s.scale:fill(2)
    cnn.savemodel(path, m)
    s.scale:fill(0)
    cnn.loadmodel(path, m)
    os.remove(path)
    assert.equal(2, s.scale[{1, 1, 3, 1}])
  end)

  it("gives each shared tensor once, in the same order every time", function()
    local w = cnn.ones(2, 2)
    local shared = setmetatable({b = w, a = {w, cnn.zeros(2)}}, {__call = function(_, x) return x end})
    local ps = cnn.params(cnn.Chain(shared, function(x) return x * w end))
    assert.equal(2, #ps)
    assert.equal(w, ps[1])
  end)

  it("does not look into the library or the modules a closure uses", function()
    local m = cnn.Chain(function(x) return cnn.relu(x) end, cnn.softmax)
    assert.same({}, cnn.params(m))
  end)
end)

describe("a Chain with named layers", function()
  local enc, dec = cnn.Dense(4, 2, cnn.relu), cnn.Dense(2, 4)

  it("reaches each by its name and its place, and prints the names", function()
    local m = cnn.Chain({enc = enc}, {dec = dec})
    assert.equal(enc, m.enc)
    assert.equal(dec, m.dec)
    assert.equal(enc, m[1])
    assert.equal(2, #m)
    assert.same({enc.weight, enc.bias, dec.weight, dec.bias}, cnn.params(m))
    local x = cnn.randn(4, 3)
    helpers.assert_tensor_near(m(x), dec(enc(x)), 1e-6, 1e-6)
    assert.truthy(tostring(m):find("\n  enc = Dense(4 => 2, relu),", 1, true))
    assert.equal(dec, m[{2}].dec)
    assert.is_nil(m[{2}].enc)
  end)

  it("refuses names it cannot keep in order or that are its own fields", function()
    assert.equal("Chain: entry 1 names several layers in one table, whose order Lua does not keep;"
      .. " give one name a table: cnn.Chain({enc = ...}, {dec = ...})",
      helpers.error_message(cnn.Chain, {enc = enc, dec = dec}))
    assert.equal("Chain: entry 2 is named 'forward', which is a Chain's own field; choose another name",
      helpers.error_message(cnn.Chain, {enc = enc}, {forward = dec}))
    assert.equal("Chain: the name 'enc' is given twice",
      helpers.error_message(cnn.Chain, {enc = enc}, {enc = dec}))
  end)
end)
